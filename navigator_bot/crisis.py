"""The crisis floor: notice a wish to die or self-harm in typed text and answer with crisis lines first."""

from __future__ import annotations

import re

from .i18n import Translator
from .models import Crisis
from .normalize import normalize


class CrisisDetector:
    """Detects crisis phrases (from the catalog) in any message, before any other matching."""

    def __init__(self, crisis: Crisis, third_person_signals: list[str]) -> None:
        self._crisis = crisis
        self._signals = sorted({normalize(phrase) for phrase in crisis.phrases.signals if normalize(phrase)})
        self._patterns = [re.compile(pattern) for pattern in crisis.phrases.patterns]
        # Longest first, so that a long idiom is removed before a shorter one inside it.
        self._idioms = sorted({normalize(idiom) for idiom in crisis.phrases.not_crisis}, key=len, reverse=True)
        self._others = [normalize(word) for word in third_person_signals if normalize(word)]

    def is_crisis(self, text: str) -> bool:
        """Return True when the text says someone wants to die, disappear or hurt themselves."""
        normalized = normalize(text)
        for idiom in self._idioms:
            normalized = normalized.replace(idiom, "/")
        return any(signal in normalized for signal in self._signals) or any(
            pattern.search(normalized) for pattern in self._patterns
        )

    def about_someone_else(self, text: str) -> bool:
        """Return True when the writer seems to speak for someone else (息子が…)."""
        normalized = normalize(text)
        return any(word in normalized for word in self._others)

    def reply(self, translator: Translator, lang: str, about_other: bool = False) -> str:
        """Return the crisis reply: kind words, the lines with their hours, and 119/110."""
        t = translator.t
        lines = [t("crisis_intro_other" if about_other else "crisis_intro", lang), ""]
        for line in self._crisis.lines:
            hours = line.hours_en if lang == "en" and line.hours_en else line.hours
            key = "crisis_line_dated" if line.as_of else "crisis_line"
            lines.append(t(key, lang, name=line.name, number=line.number, hours=hours, as_of=line.as_of))
        emergency = t("list_separator", lang).join(
            t("crisis_emergency_item", lang, number=item.number, label=item.label.get(lang))
            for item in self._crisis.emergency
        )
        lines += ["", t("crisis_emergency", lang, numbers=emergency), t("crisis_outro", lang)]
        return "\n".join(lines)
