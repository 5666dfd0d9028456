"""Rank measures for the questionnaire's answers: persona, situation and follow-up answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .catalog import Catalog
from .models import Localized, Measure, Persona, Question, Situation

SKIP = "skip"
UNKNOWN = "unknown"
CATEGORY_WEIGHTS = (3.0, 2.0, 1.5)
OTHER_CATEGORY_WEIGHT = 0.5
NO_SITUATION_WEIGHT = 1.0
BOOST_WEIGHT = 4.0
OWN_AUDIENCE_BONUS = 0.5
WINDOW_BONUS = 0.25  # below any category step: only orders measures that fit equally
PEOPLE = frozenset({"self", "family"})  # personas who are never shown platform-internal measures


@dataclass(frozen=True)
class Recommendation:
    """A measure recommended for the answers, with the reasons that apply to it."""

    measure: Measure
    score: float
    reasons: tuple[Localized, ...]
    in_situation: bool


def applicable_questions(catalog: Catalog, persona_id: str | None, situation_id: str | None) -> list[Question]:
    """Return the follow-up questions asked for this persona and situation, in catalog order."""
    return [
        question
        for question in catalog.questionnaire.questions
        if (not question.personas or persona_id in question.personas)
        and (not question.situations or situation_id in question.situations)
    ]


def find_persona(catalog: Catalog, persona_id: str | None) -> Persona | None:
    """Return a persona by id, or None."""
    return next((p for p in catalog.questionnaire.personas if p.id == persona_id), None)


def find_situation(catalog: Catalog, situation_id: str | None) -> Situation | None:
    """Return a situation by id, or None."""
    return next((s for s in catalog.questionnaire.situations if s.id == situation_id), None)


def recommend(
    catalog: Catalog, persona_id: str, situation_id: str | None, answers: Mapping[str, str]
) -> list[Recommendation]:
    """Return every measure the persona can use, best fit first."""
    persona = find_persona(catalog, persona_id)
    if persona is None:
        return []
    situation = find_situation(catalog, situation_id)
    category_weight = {}
    if situation is not None:
        for rank, category_id in enumerate(situation.categories):
            category_weight[category_id] = CATEGORY_WEIGHTS[min(rank, len(CATEGORY_WEIGHTS) - 1)]
    boosts: dict[str, list[Localized]] = {}
    hidden: set[str] = set()
    for question in catalog.questionnaire.questions:
        chosen = answers.get(question.id)
        option = next((o for o in question.options if o.id == chosen), None)
        if option is None:
            continue
        for measure_id in option.boosts:
            boosts.setdefault(measure_id, [])
            if option.reason is not None:
                boosts[measure_id].append(option.reason)
        hidden.update(option.hides)

    results = []
    for measure in catalog.measures.values():
        if not set(persona.audiences).intersection(measure.audiences) or measure.id in hidden:
            continue
        if measure.internal and persona_id in PEOPLE:
            continue  # tasks of the administration (研修, 実態調査 …) are not offered to job seekers and families
        if category_weight:
            weights = [category_weight.get(category_id, 0.0) for category_id in measure.categories]
            score = max(weights) or OTHER_CATEGORY_WEIGHT
            in_situation = any(weights)
        else:
            score, in_situation = NO_SITUATION_WEIGHT, situation is not None
        if measure.id in boosts:
            score += BOOST_WEIGHT
        if persona.audiences[0] in measure.audiences:
            score += OWN_AUDIENCE_BONUS
        if measure.facilities:
            score += WINDOW_BONUS  # among what fits, a service with a window to contact comes first
        results.append(Recommendation(measure, score, tuple(boosts.get(measure.id, ())), in_situation))
    results.sort(key=lambda r: -r.score)  # stable: ties keep the catalog's order, in which they were built
    return results
