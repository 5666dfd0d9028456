"""Lexical and semantic evidence combined into one ranking, and the decision whether anything fits at all.

The lexical score is unbounded (sum of matched terms); it is squashed to 0..1 so that a message naming a measure
outright wins, but a message with no catalog word can still be ranked by meaning. Cosine similarities of e5
models sit in a narrow band (about 0.75–0.92 here), so they are rescaled between a floor and a ceiling first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..models import Audience, Measure

LEXICAL_HALF = 2.0  # the lexical score that counts as half-way to certain
SEMANTIC_FLOOR = 0.80
SEMANTIC_CEILING = 0.90
SEMANTIC_WEIGHT = 1.0
LEXICAL_CONFIDENT = 1.2  # as lexical.MIN_SCORE: alone enough to answer
SEMANTIC_CONFIDENT = 0.845  # best similarity alone enough to answer
SEMANTIC_ON_TOPIC = 0.815  # below this with no lexical evidence: not about what the bot knows
VAGUE_MARGIN = 0.016  # best similarity over the mean of the next five: below it, nothing stands out
LEXICAL_ON_TOPIC = 0.9
OFF_TOPIC_MARGIN = 0.03  # a few shared bigrams (about 0.8) are noise, not a topic
OTHER_AUDIENCE_FACTOR = 0.35
NAMED_WEIGHT = 2.0  # a word this telling (only this measure has it) …
NAMED_LENGTH = 5  # … and this long names the measure (トライアル雇用): shown whoever asks
RESULT_FLOOR = 0.35  # fused score below which a measure is not listed


@dataclass(frozen=True)
class MeasureMatch:
    """A measure found for a message, with its score and the words that matched."""

    measure: Measure
    score: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    """The fused result: ranked matches and how sure the understanding is that the message is on topic."""

    matches: tuple[MeasureMatch, ...]
    confident: bool
    on_topic: bool
    worded: bool = False  # the catalog's own words were found, not only a likeness in meaning


def _semantic_part(similarity: float) -> float:
    scaled = (similarity - SEMANTIC_FLOOR) / (SEMANTIC_CEILING - SEMANTIC_FLOOR)
    return min(1.0, max(0.0, scaled))


def fuse(
    measures: Mapping[str, Measure],
    position: Mapping[str, int],
    lexical: Mapping[str, float],
    words: Mapping[str, Mapping[str, float]],
    semantic: Mapping[str, float],
    off_topic: float,
    audiences: Collection[Audience] | None,
    limit: int,
    priors: Mapping[str, float] | None = None,
    brief: bool = False,
) -> Ranking:
    """Rank measures by lexical and semantic evidence together; say whether the message is on topic."""
    allowed = set(audiences) if audiences is not None else None
    best_lexical = max(lexical.values(), default=0.0)
    best_semantic = max(semantic.values(), default=0.0)
    # Closer to the off-topic examples (weather, food …) than to every measure, and no catalog word: off topic.
    # A catalog word can be a false friend (免許 in 運転免許の更新): far closer to the off-topic examples wins.
    # A message that told its situation or an answer (派遣, 資格 …) is never off topic.
    elsewhere = not priors and off_topic > best_semantic and (
        best_lexical < LEXICAL_CONFIDENT or off_topic - best_semantic >= OFF_TOPIC_MARGIN)
    # A brief message with no catalog word, nothing told about the situation, and a meaning close to every measure
    # alike (困っています, 質問です): ask, do not guess. (Longer messages with such a flat profile are mostly right.)
    ranked = sorted(semantic.values(), reverse=True)
    distinct = len(ranked) < 2 or ranked[0] - sum(ranked[1:6]) / len(ranked[1:6]) >= VAGUE_MARGIN
    vague = brief and best_lexical < LEXICAL_ON_TOPIC and not distinct and not priors
    confident = not elsewhere and not vague and (
        best_lexical >= LEXICAL_CONFIDENT or best_semantic >= SEMANTIC_CONFIDENT)
    on_topic = confident or (not elsewhere and (best_lexical >= LEXICAL_ON_TOPIC or best_semantic >= SEMANTIC_ON_TOPIC))
    fused: list[MeasureMatch] = []
    for measure_id, measure in measures.items():
        raw = lexical.get(measure_id, 0.0)
        score = raw / (raw + LEXICAL_HALF) + SEMANTIC_WEIGHT * _semantic_part(semantic.get(measure_id, 0.0))
        score += (priors or {}).get(measure_id, 0.0)
        own = words.get(measure_id, {})
        named = any(len(word) >= NAMED_LENGTH and weight >= NAMED_WEIGHT for word, weight in own.items())
        if allowed is not None and not allowed.intersection(measure.audiences) and not named:
            score *= OTHER_AUDIENCE_FACTOR
        if score < RESULT_FLOOR:
            continue
        ranked_words = sorted(own, key=lambda word: -own[word])
        fused.append(MeasureMatch(measure, round(score, 3), tuple(ranked_words[:3])))
    fused.sort(key=lambda match: (-match.score, position[match.measure.id]))
    return Ranking(tuple(fused[:limit]) if confident else (), confident, on_topic, best_lexical >= LEXICAL_CONFIDENT)
