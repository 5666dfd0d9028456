"""Who is writing and what their situation is, read from typed text with the questionnaire's signal words."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Questionnaire
from .message import Message
from .normalize import SynonymRewriter, normalize

SELF = "self"
SITUATION_PRIOR = 0.15  # fused scores run 0..2: a nudge toward the situation's 取組, not a verdict
ANSWER_PRIOR = 0.2


@dataclass(frozen=True)
class Inference:
    """What typed text tells about the persona, situation and answers, as questionnaire ids."""

    personas: tuple[str, ...] = ()
    situation: str | None = None
    answers: tuple[tuple[str, str], ...] = ()

    @property
    def persona(self) -> str | None:
        """The persona the text points to most clearly (a family member, an employer …), if any."""
        return self.personas[0] if self.personas else None

    @property
    def known(self) -> bool:
        """True when the text said anything the questionnaire asks about."""
        return bool(self.personas or self.situation or self.answers)


class SituationReader:
    """Matches the questionnaire's signal words (personas, situations, answers) in a message's canonical form."""

    def __init__(
        self, questionnaire: Questionnaire, rewriter: SynonymRewriter, category_members: dict[str, list[str]]
    ) -> None:
        def forms(words: list[str]) -> list[str]:
            return [form for form in dict.fromkeys(rewriter.canonical(word) for word in words) if form]

        # Persona words are matched as written: through synonyms, 事業主 would become 企業 and every 会社 an employer.
        self._personas = [(p.id, [w for w in map(normalize, p.signals) if w])
                          for p in questionnaire.personas if p.id != SELF]
        self._situations = [(s.id, forms(s.signals)) for s in questionnaire.situations]
        self._categories = {s.id: s.categories for s in questionnaire.situations}
        self._category_members = category_members
        self._boosts = {(q.id, o.id): o.boosts for q in questionnaire.questions for o in q.options}
        self._options = [
            (question.id, option.id, forms(option.signals))
            for question in questionnaire.questions for option in question.options
        ]

    def personas_in(self, message: Message) -> tuple[str, ...]:
        """Return the personas whose signal words appear in the message, in catalog order."""
        text = message.standard
        return tuple(pid for pid, words in self._personas if any(word in text for word in words))

    def priors(self, inferred: Inference) -> dict[str, float]:
        """Return a small score bonus per measure id for the situation and answers the text gave away."""
        bonus: dict[str, float] = {}
        for question_id, option_id in inferred.answers:
            for measure_id in self._boosts.get((question_id, option_id), ()):
                bonus[measure_id] = bonus.get(measure_id, 0.0) + ANSWER_PRIOR
        if inferred.situation and self._category_members:
            for rank, category_id in enumerate(self._categories.get(inferred.situation, ())):
                for measure_id in self._category_members.get(category_id, ()):
                    bonus[measure_id] = bonus.get(measure_id, 0.0) + SITUATION_PRIOR / (rank + 1)
        return bonus

    def infer(self, message: Message) -> Inference:
        """Return the persona, situation and answers the message gives away."""
        text = message.canonical
        # The most specific signal wins (部屋から出てこない over 何年も): the longest word found.
        found = [(max(len(word) for word in words if word in text), sid)
                 for sid, words in self._situations if any(word in text for word in words)]
        situation = max(found, key=lambda item: item[0])[1] if found else None
        answers: dict[str, str] = {}
        for question_id, option_id, words in self._options:
            if question_id not in answers and any(word in text for word in words):
                answers[question_id] = option_id
        return Inference(self.personas_in(message), situation, tuple(answers.items()))
