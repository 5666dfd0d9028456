"""Where to go: the windows behind each measure, in plain words, with the contact facts we can stand behind.

Every phone number and opening time printed here comes from a catalog `Contact`, which carries its source, as-of
date and confidence. A window without confirmed contacts says, once in a reply, where to confirm them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .catalog import Catalog
from .crisis_reply import line_name
from .hours import is_open, next_opening
from .i18n import Translator
from .models import Area, Contact, Facility, Measure, Municipality
from .understanding.normalize import normalize as normalize_plain

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# A bare place name (弘前) says where someone lives only next to words like these.
_RESIDES = "(に住|にすん|住み|すみ|在住|で暮ら|に暮ら|の者|のもの)"  # not から: 八戸から仙台まで is a trip
_JUST_THE_TOWN = "(です|だ|だよ|だべ|だじゃ|在住です|にいます|にいる)?"
_LIVES = "(に住|にすん|住み|すみ|在住|から|の者|のもの|で暮ら|に暮ら|市内|町内|村内|の近く|のちかく)"


def numbered(number: int) -> str:
    """Return ① … ⑳ for a result number (plain digits after twenty)."""
    return CIRCLED[number - 1] if 0 < number <= len(CIRCLED) else f"{number}."


@dataclass
class Shown:
    """What one reply has already said, so that a window's contacts and a caveat are written once."""

    windows: dict[str, int] = field(default_factory=dict)  # facility id -> number of the result that showed it
    medium: bool = False  # a fact of medium confidence was shown: say once to confirm the latest
    municipality_asked: bool = False
    confirm_at: dict[str, int] = field(default_factory=dict)  # where-to-confirm text -> result that said it
    current: int = 0  # the result being written


class Windows:
    """The catalog's windows, read for people: names, contacts, whether they are open now, the desk for a town."""

    def __init__(self, catalog: Catalog, translator: Translator) -> None:
        self.catalog = catalog
        self.translator = translator
        self.municipalities: dict[str, tuple[Municipality, Area]] = {}
        names: list[tuple[str, str, bool]] = []  # (normalized name, municipality id, needs a living word)
        self._english: list[tuple[re.Pattern[str], str]] = []
        for area in catalog.places.areas if catalog.places else ():
            for town in area.municipalities:
                self.municipalities[town.id] = (town, area)
                names.append((normalize_plain(town.name), town.id, False))
                names += [(normalize_plain(alias), town.id, True) for alias in town.aliases]
                if town.name_en:  # "I live in Hirosaki", "from Mutsu City"; Aomori alone may be the prefecture
                    head = normalize_plain(town.name_en.split()[0])
                    english = normalize_plain(town.name_en) if head == "aomori" else head
                    self._english.append((re.compile(rf"(?:livein|livingin|livesin|basedin|residein|from)"
                                                     rf"{re.escape(english)}"), town.id))
        names.sort(key=lambda item: -len(item[0]))
        self._names = names
        # Every name a window goes by, normalized once, longest first (the most specific wins).
        self._facility_names = sorted(
            ((form, facility) for facility in catalog.facilities.values()
             for form in {normalize_plain(word) for word in (
                 facility.name, *facility.keywords, *([facility.short_name.ja] if facility.short_name else []))}
             if form),
            key=lambda item: -len(item[0]))
        self.desk_window = next((facility for facility in catalog.facilities.values() if facility.by_municipality),
                                None)  # the window with a desk per city or area (自立相談支援機関)

    def t(self, key: str, lang: str, **values: object) -> str:
        """Return a UI string."""
        return self.translator.t(key, lang, **values)

    # --- reading ---------------------------------------------------------------------------------------------

    def municipality_in(self, normalized: str) -> str | None:
        """Return the municipality a message says the person lives in (弘前市, 弘前に住んでいます), if any."""
        return self._town(normalized, lambda after, needs_context: not needs_context or bool(re.match(_LIVES, after)))

    def lives_in(self, normalized: str) -> str | None:
        """Return the town when the message says where the person lives (弘前に住んでいます, むつ市です), not only
        names it (弘前市の天気は？)."""
        return self._town(normalized, lambda after, _: bool(re.match(_RESIDES, after)
                                                             or re.fullmatch(_JUST_THE_TOWN, after)))

    def _town(self, normalized: str, fits: Callable[[str, bool], bool]) -> str | None:
        """The first town named where `fits` accepts what follows the name (and whether a bare name needs more);
        else a town in an English "I live in …"."""
        for name, town_id, needs_context in self._names:
            at = normalized.find(name)
            while at >= 0:
                if fits(normalized[at + len(name):], needs_context):
                    return town_id
                at = normalized.find(name, at + 1)
        return next((town_id for pattern, town_id in self._english if pattern.search(normalized)), None)

    def of(self, measure: Measure) -> list[Facility]:
        """Return the windows of a measure, in catalog order."""
        return [self.catalog.facilities[facility_id] for facility_id in measure.facilities]

    def facility_named(self, normalized: str) -> Facility | None:
        """Return the window a message names (ハローワーク, サポステ …), the longest name first."""
        return next((facility for form, facility in self._facility_names if form in normalized), None)

    # --- names -------------------------------------------------------------------------------------------------

    def name(self, facility: Facility, lang: str) -> str:
        """Return the everyday name of a window (the Japanese name too, in English)."""
        if lang == "en":
            english = facility.short_name.en if facility.short_name and facility.short_name.en else facility.name_en
            return f"{english} ({facility.name})" if english else facility.name
        return facility.short_name.ja if facility.short_name else facility.name

    def town_name(self, town_id: str, lang: str) -> str:
        """Return a municipality's name in the reply's language."""
        town, _ = self.municipalities[town_id]
        return f"{town.name_en} ({town.name})" if lang == "en" else town.name

    def desk_for(self, facility: Facility, town_id: str | None) -> Contact | None:
        """Return the desk of a by-municipality window for a town: its own, else its area's (towns and villages)."""
        if town_id is None or town_id not in self.municipalities:
            return None
        town, area = self.municipalities[town_id]
        for contact in facility.contacts:
            if town.id in contact.serves:
                return contact
        if town.kind != "city":
            for contact in facility.contacts:
                if area.id in contact.serves:
                    return contact
        return None

    # --- contact lines -----------------------------------------------------------------------------------------

    def contact_lines(self, facility: Facility, lang: str, now: dt.datetime, shown: Shown,
                      town_id: str | None = None, family: bool = False) -> list[str]:
        """Return the lines that say how to reach a window: phone, hours and open now, family, where to confirm."""
        contacts = [contact for contact in facility.contacts if not contact.serves]
        missing: list[str] = []
        if facility.by_municipality:
            desk = self.desk_for(facility, town_id)
            if desk is not None:
                contacts.insert(0, desk)
            elif town_id is not None:
                missing.append(self.t("window_desk_unknown", lang, town=self.town_name(town_id, lang)))
            else:
                shown.municipality_asked = True
                missing.append(self.t("window_by_municipality", lang))
        lines: list[str] = []
        for contact in contacts:
            lines += self._contact(contact, lang, now)
            shown.medium = shown.medium or contact.confidence == "medium"
        if family and facility.family_alone:
            lines.append(self.t("window_family_alone", lang))
        if not any(contact.phone for contact in contacts) and not facility.by_municipality:
            where = facility.confirm_at.get(lang)
            if where in shown.confirm_at and shown.confirm_at[where] != shown.current:
                missing.append(self.t("window_confirm_same", lang, number=numbered(shown.confirm_at[where])))
            else:
                shown.confirm_at.setdefault(where, shown.current)
                missing.append(self.t("window_confirm_at", lang, where=where))
        return lines + missing

    def _contact(self, contact: Contact, lang: str, now: dt.datetime) -> list[str]:
        lines = []
        dated = contact.as_of_en if lang == "en" and contact.as_of_en else contact.as_of
        if contact.phone:
            label = f"{contact.label.get(lang)} " if contact.label else ""
            note = contact.note.get(lang) if contact.note else dated
            lines.append(self.t("window_phone", lang, label=label, phone=contact.phone, note=note))
        if contact.hours:
            lines.append(self.t("window_hours", lang, hours=contact.hours.get(lang), as_of=dated))
            open_now = is_open(contact.schedule, now)
            if open_now is False:
                lines.append(self._closed(contact, lang, now))
        return lines

    def _closed(self, contact: Contact, lang: str, now: dt.datetime) -> str:
        """Return 'closed now, opens …', with the 24-hour line for a worry that cannot wait."""
        opening = next_opening(contact.schedule, now)
        always = next((line for line in self.catalog.crisis.lines if line.always_open), None)
        urgent = self.t("window_urgent", lang, name=line_name(always, lang), number=always.number) if always \
            else ""
        if opening is None:
            return self.t("window_closed", lang, urgent=urgent)
        ahead, day, time = opening
        when = self.t("today", lang) if ahead == 0 else self.t("tomorrow", lang) if ahead == 1 \
            else self.t(f"day_{day}", lang)
        return self.t("window_closed_until", lang, when=when, time=time, urgent=urgent)

    # --- a measure, window first -------------------------------------------------------------------------------

    def heading(self, measure: Measure, lang: str) -> str:
        """Return the first line of a result: where to go, then what it is for, in plain words."""
        facilities = self.of(measure)
        what = measure.why_plain.get(lang) if measure.why_plain else (
            measure.title_en if lang == "en" and measure.title_en else measure.title)
        if not facilities:
            return what
        return f"{self.name(facilities[0], lang)} — {what}"

    def plain_summary(self, measure: Measure, lang: str) -> str:
        """Return the plain-words summary (the plan's text when none was written)."""
        if lang == "en":
            return measure.summary_plain_en or measure.summary_en or measure.summary
        return measure.summary_plain or measure.summary

    def measure_block(self, number: int, measure: Measure, lang: str, now: dt.datetime, shown: Shown,
                      why: str | None = None, town_id: str | None = None, family: bool = False) -> list[str]:
        """Return one result: the window and what it is for, what you get, how to reach it, and why it fits."""
        lines = [f"{numbered(number)} {self.heading(measure, lang)}", f"　{self.plain_summary(measure, lang)}"]
        for facility in self.of(measure)[:1]:
            if facility.id in shown.windows:
                lines.append("　" + self.t("window_same_as", lang, number=numbered(shown.windows[facility.id])))
                continue
            shown.windows[facility.id] = number
            shown.current = number
            lines += ["　" + line for line in self.contact_lines(facility, lang, now, shown, town_id, family)]
        if why:
            lines.append("　" + self.t("measures_why", lang, why=why))
        return lines

    def local_desk(self, town_id: str | None, lang: str, shown: Shown) -> list[str]:
        """The desk for living, money and work where the person said they live, if not shown already."""
        desk = self.desk_window
        if desk is None or town_id is None or desk.id in shown.windows:
            return []
        contact = self.desk_for(desk, town_id)
        if contact is None or not contact.phone:
            return []
        shown.medium = shown.medium or contact.confidence == "medium"
        label = contact.label.get(lang) if contact.label else self.name(desk, lang)
        return [self.t("window_local_desk", lang, town=self.town_name(town_id, lang), label=label,
                       phone=contact.phone), ""]

    def footer(self, shown: Shown, lang: str) -> list[str]:
        """Return what is said once under a list: confirm the latest where a fact is of medium confidence."""
        return [self.t("window_medium", lang)] if shown.medium else []

    def header(self, facility: Facility, lang: str) -> list[str]:
        """Return a window's first lines: its name, its newer name if any, and what happens there."""
        lines = [f"■ {self.name(facility, lang)}"]
        if facility.current_name:
            lines.append(self.t("window_current_name", lang, name=facility.current_name.get(lang)))
        lines.append(facility.what_happens.get(lang) if facility.what_happens else facility.description.get(lang))
        return lines

    def facility_detail(self, facility: Facility, lang: str, now: dt.datetime, town_id: str | None,
                        family: bool, shown: Shown, brief: bool = False) -> list[str]:
        """Return everything known about a window, for the detail view (brief: for the 相談メモ)."""
        lines = self.header(facility, lang)
        if facility.what_happens and not brief:
            lines.append(facility.description.get(lang))
        if facility.formal_name and not brief:
            lines.append(self.t("facility_formal_name", lang, name=facility.formal_name))
        if facility.age:
            lines.append(self.t("window_age", lang, age=facility.age.get(lang)))
        if facility.location_note:
            lines.append(self.t("facility_location", lang, note=facility.location_note.get(lang)))
        lines += self.contact_lines(facility, lang, now, shown, town_id, family)
        if facility.ask_at_desk:
            lines += ["", self.t("window_ask_title", lang)]
            lines += [f"・{question}" for question in facility.ask_at_desk.get(lang)]
        return lines


