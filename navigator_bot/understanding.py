"""What a typed message means: crisis first, then a KPI question, then a measure search, else help."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from .catalog import Catalog
from .crisis import CrisisDetector
from .i18n import Translator
from .kpi_answers import KpiAnswers, KpiQuery
from .models import Audience
from .normalize import SynonymRewriter, normalize
from .presenting import agency_names, category_label, measure_title
from .search import MeasureMatch, MeasureSearch

Intent = Literal["measures", "kpi", "crisis", "help"]
DEFAULT_AUDIENCES = frozenset({Audience.INDIVIDUAL, Audience.FAMILY})


@dataclass(frozen=True)
class Answer:
    """The understood message and the reply to it, as plain data."""

    query: str
    intent: Intent
    text: str
    matches: tuple[MeasureMatch, ...] = ()
    kpi_query: KpiQuery | None = None
    personas: tuple[str, ...] = field(default=())

    def to_json(self, catalog: Catalog) -> dict[str, Any]:
        """Return the answer in the `navigator-bot ask --json` format."""
        return {
            "query": self.query,
            "intent": self.intent,
            "text": self.text,
            "measures": [
                {
                    "id": match.measure.id,
                    "title": match.measure.title,
                    "agencies": catalog.agency_names(match.measure),
                    "score": match.score,
                    "why": "、".join(match.words),
                }
                for match in self.matches
            ],
        }


class Understanding:
    """Interprets typed text against the catalog; built once, used for every message."""

    def __init__(self, catalog: Catalog, translator: Translator, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.catalog = catalog
        self.translator = translator
        self._today = today
        self.rewriter = SynonymRewriter(group.words for group in catalog.synonyms.values())
        self.search = MeasureSearch(catalog, self.rewriter)
        self.kpi = KpiAnswers(catalog, translator)
        personas = catalog.questionnaire.personas
        family_signals = [word for persona in personas if persona.id == "family" for word in persona.signals]
        self.crisis = CrisisDetector(catalog.crisis, family_signals)
        canonical = self.rewriter.canonical
        self._persona_signals = {
            persona.id: [canonical(word) for word in persona.signals if canonical(word)] for persona in personas
        }

    def personas_in(self, text: str) -> tuple[str, ...]:
        """Return the personas whose signal words appear in the text (employer for 雇いたい, …)."""
        canonical = self.rewriter.canonical(text)
        return tuple(pid for pid, words in self._persona_signals.items() if any(w in canonical for w in words))

    def audiences_for(self, personas: Collection[str]) -> frozenset[Audience]:
        """Return the audiences a set of personas may be offered; job seekers and families by default."""
        audiences = set(DEFAULT_AUDIENCES)
        for persona in self.catalog.questionnaire.personas:
            if persona.id in personas:
                audiences.update(persona.audiences)
        return frozenset(audiences)

    def interpret(
        self, text: str, lang: str = "ja", audiences: Collection[Audience] | None = None, limit: int = 5
    ) -> Answer:
        """Understand one message and compose the reply."""
        if self.crisis.is_crisis(text):
            about_other = self.crisis.about_someone_else(text)
            return Answer(text, "crisis", self.crisis.reply(self.translator, lang, about_other))
        kpi_query = self.kpi.detect(text, self._today())
        if kpi_query is not None:
            return Answer(text, "kpi", self.kpi.answer(kpi_query, lang), kpi_query=kpi_query)
        personas = self.personas_in(text)
        allowed = audiences if audiences is not None else self.audiences_for(personas)
        matches = tuple(self.search.search(text, allowed, limit=limit))
        if not matches:
            return Answer(text, "help", self.help_text(lang, short=bool(normalize(text))), personas=personas)
        return Answer(text, "measures", self.measures_text(matches, lang), matches, personas=personas)

    def help_text(self, lang: str, short: bool = False) -> str:
        """Return what the bot can do (the short form after a message it could not place)."""
        t = self.translator.t
        return f"{t('help_short', lang)}\n\n{t('help', lang)}" if short else t("help", lang)

    def why(self, match: MeasureMatch, lang: str) -> str:
        """Return why a measure matched: the words and its category."""
        t = self.translator.t
        parts = []
        if match.words:
            quoted = t("list_separator", lang).join(match.words)
            parts.append(t("why_words", lang, words=quoted))
        parts.append(t("why_category", lang, category=category_label(self.catalog, match.measure, lang)))
        return " / ".join(parts)

    def measures_text(self, matches: Collection[MeasureMatch], lang: str) -> str:
        """Return the reply listing measures, each with its agencies and why it matched."""
        t = self.translator.t
        lines = [t("measures_intro", lang), ""]
        for number, match in enumerate(matches, start=1):
            lines.append(f"{number}. {measure_title(match.measure, lang)}")
            names = agency_names(self.catalog, match.measure, self.translator, lang)
            lines.append("   " + t("measures_agencies", lang, agencies=names))
            lines.append("   " + t("measures_why", lang, why=self.why(match, lang)))
        lines += ["", t("confirm_contacts", lang)]
        return "\n".join(lines)
