"""What the crisis floor says: the reply for each level and form, with the lines that answer now listed first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .hours import is_open as hours_open
from .i18n import Translator
from .models import Crisis, CrisisLine
from .understanding.crisis import CrisisReading


def is_open(line: CrisisLine, now: dt.datetime) -> bool | None:
    """Return whether the line answers at `now` (Japan time), or None when its hours are not confirmed."""
    return hours_open(line.schedule, now, line.always_open)


def line_name(line: CrisisLine, lang: str) -> str:
    """Return a crisis line's name in the reply's language (the Japanese name too, in English)."""
    return f"{line.name_en} ({line.name})" if lang == "en" and line.name_en else line.name


def lines_by_availability(lines: Sequence[CrisisLine], now: dt.datetime) -> list[tuple[CrisisLine, bool | None]]:
    """Return the lines with whether they are open: 24-hour lines, then open now, then unknown, then closed."""
    def rank(item: tuple[int, tuple[CrisisLine, bool | None]]) -> tuple[int, int]:
        position, (line, state) = item
        return (0 if line.always_open else 1 if state else 2 if state is None else 3), position

    states = [(line, is_open(line, now)) for line in lines]
    return [pair for _, pair in sorted(enumerate(states), key=rank)]


class CrisisReplies:
    """Composes the crisis, danger, distress and line replies from the catalog's lines and the locale strings."""

    def __init__(self, crisis: Crisis, translator: Translator) -> None:
        self._crisis = crisis
        self._t = translator.t

    def line_text(self, line: CrisisLine, open_now: bool | None, lang: str) -> str:
        """Return one line as a list item, with its hours, as-of date and whether it answers now."""
        english = lang == "en"
        name = line_name(line, lang)
        hours = line.hours_en if english and line.hours_en else line.hours
        as_of = line.as_of_en if english and line.as_of_en else line.as_of
        key = "crisis_line_dated" if as_of else "crisis_line"
        text = self._t(key, lang, name=name, number=line.number, hours=hours, as_of=as_of)
        return text + (self._t("crisis_line_closed", lang) if open_now is False else "")

    def lines(self, now: dt.datetime, lang: str, first: Sequence[str] = (), limit: int | None = None) -> list[str]:
        """Return the lines as list items, lines named in `first` at the top."""
        ordered = lines_by_availability(self._crisis.lines, now)
        ordered.sort(key=lambda item: item[0].id not in first)  # stable: availability order kept otherwise
        return [self.line_text(line, state, lang) for line, state in ordered[:limit]]

    def _emergency(self, lang: str) -> str:
        items = self._t("list_separator", lang).join(
            self._t("crisis_emergency_item", lang, number=item.number, label=item.label.get(lang))
            for item in self._crisis.emergency
        )
        return self._t("crisis_emergency", lang, numbers=items)

    def reply(self, reading: CrisisReading, now: dt.datetime, lang: str) -> str:
        """Return the reply for what the floor found (the caller has checked that it found something)."""
        t = self._t
        if reading.level in ("crisis", "gentle"):
            intro = {"self": "crisis_intro", "family": "crisis_intro_other", "carer": "crisis_intro_carer"}
            key = "crisis_intro_gentle" if reading.level == "gentle" and reading.form == "self" else intro[reading.form]
            parts = [t(key, lang), "", *self.lines(now, lang), ""]
            if reading.form in ("family", "carer"):
                parts.append(t(f"crisis_{reading.form}_now", lang))
            if reading.danger:
                parts.append(t("danger_intro", lang))
            parts += [self._emergency(lang), t("crisis_outro", lang)]
        elif reading.level == "danger":
            parts = [t("danger_intro", lang), "", *self.lines(now, lang), "", self._emergency(lang),
                     t("crisis_outro", lang)]
        elif reading.level == "line":
            parts = [t("line_intro", lang), "", *self.lines(now, lang, first=reading.lines_named), "",
                     self._emergency(lang), t("crisis_outro", lang)]
        else:
            parts = [t("distress_intro", lang), "", t("distress_lines", lang), *self.lines(now, lang, limit=2), "",
                     t("distress_outro", lang)]
        if lang == "en":
            parts.append(t("crisis_japanese_only", lang))
        return "\n".join(parts)
