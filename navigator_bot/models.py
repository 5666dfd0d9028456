"""Pydantic models of the catalog: what prefecture staff edit in `catalog/*.yaml`.

Every YAML file in the catalog folder is one `CatalogDocument`: a mapping with any of the top-level keys below.
The loader merges the documents into one `Catalog` and checks the cross-references and the KPI arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40),
    Field(description="A short id in lowercase letters, digits and hyphens, e.g. `hellowork-desk`."),
]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
PublishedRate = Annotated[
    str,
    StringConstraints(pattern=r"^\d+(\.\d)?%$"),
    Field(description="A progress rate exactly as published in the plan, e.g. `23.7%`."),
]


class Strict(BaseModel):
    """Base for catalog models: unknown fields are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(Strict):
    """A text in Japanese (required) and English (optional; Japanese is shown when it is missing)."""

    ja: NonEmpty
    en: str | None = None

    def get(self, lang: str) -> str:
        """Return the text in `lang`, falling back to Japanese."""
        if lang == "en" and self.en:
            return self.en
        return self.ja


class Audience(StrEnum):
    """Who can use a measure directly."""

    INDIVIDUAL = "individual"  # the job seeker or the withdrawn person themself
    FAMILY = "family"  # family members and people around them can consult
    EMPLOYER = "employer"  # companies hiring or converting staff
    SUPPORTER = "supporter"  # platform-internal: agencies, municipalities, support staff


class Category(Strict):
    """One of the plan's 取組 (areas of work), with the people it is for."""

    id: Slug
    number: int = Field(ge=1, description="The number of the 取組 in the plan (1〜4).")
    title: NonEmpty = Field(description="The 取組's title, word for word from the plan.")
    serves: str | None = Field(
        default=None, description="Whom the 取組 supports, word for word from the plan (the text in brackets)."
    )
    title_en: str | None = None
    serves_en: str | None = None


class Agency(Strict):
    """An 実施機関 named in the plan."""

    id: Slug
    short_name: NonEmpty = Field(description="The name as written in the plan's 実施機関 column, e.g. 労働局.")
    full_name: NonEmpty = Field(description="The full name, from shared/FACTS.md.")
    name_en: str | None = None
    verified: bool = Field(description="true when the full name was confirmed on a public page; false if inferred.")
    url: str | None = Field(default=None, pattern=r"^https://", description="Only a URL confirmed in FACTS.md.")
    source: str | None = Field(default=None, description="Where the name (and URL) was read.")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]


class OpeningHours(Strict):
    """When a line answers on some weekdays: `open`–`close` in Japan time (close may be 24:00)."""

    days: list[Weekday] = Field(min_length=1)
    open: ClockTime
    close: ClockTime


PhoneNumber = Annotated[str, StringConstraints(pattern=r"^0[0-9]{1,4}-[0-9]{1,4}-[0-9]{3,4}$")]


class LocalizedList(Strict):
    """Short texts in Japanese (required) and English."""

    ja: list[NonEmpty] = Field(min_length=1)
    en: list[NonEmpty] = Field(default_factory=list)

    def get(self, lang: str) -> list[str]:
        """Return the texts in `lang`, falling back to Japanese."""
        return list(self.en) if lang == "en" and self.en else list(self.ja)


class Contact(Strict):
    """One confirmed way to reach a window (a phone number, hours), with where and when it was read."""

    label: Localized | None = Field(default=None, description="Which desk, when a window has several.")
    phone: PhoneNumber | None = None
    hours: Localized | None = Field(default=None, description="Opening hours as read, e.g. 平日 8:30〜17:15.")
    schedule: list[OpeningHours] = Field(
        default_factory=list, description="The same hours, machine-readable, to say whether it is open now."
    )
    note: Localized | None = Field(default=None, description="What to know about the fact, e.g. how old it is.")
    serves: list[Slug] = Field(
        default_factory=list, description="Municipality or area ids this desk is for; empty for everyone."
    )
    as_of: NonEmpty = Field(description="When the source gave it, e.g. `2016年6月`.")
    as_of_en: str | None = None
    source: NonEmpty = Field(description="Where it was read (from shared/FACTS.md).")
    confidence: Literal["high", "medium"] = Field(
        description="high: an official page; medium: a news article or a careful copy (say to confirm)."
    )


class Facility(Strict):
    """A window people can contact: what happens there, and the contact facts we can stand behind."""

    id: Slug
    name: NonEmpty
    name_en: str | None = None
    short_name: Localized | None = Field(default=None, description="The everyday name (ハローワーク, サポステ).")
    formal_name: str | None = None
    current_name: Localized | None = Field(
        default=None, description="A newer name given in FACTS.md, e.g. 中高年層（ミドルシニア）専門窓口."
    )
    description: Localized
    what_happens: Localized | None = Field(default=None, description="What happens when you contact it.")
    family_alone: bool | None = Field(
        default=None, description="true only where a source confirms that family members may consult alone."
    )
    age: Localized | None = Field(default=None, description="Who may use it by age, as confirmed.")
    ask_at_desk: LocalizedList | None = Field(default=None, description="Questions to ask at the desk.")
    operated_by: list[Slug] = Field(default_factory=list, description="Agency ids.")
    contacts: list[Contact] = Field(default_factory=list)
    by_municipality: bool = Field(
        default=False, description="Each city (or area, for towns and villages) has its own desk."
    )
    confirm_at: Localized = Field(description="Where to confirm what is not (or no longer) confirmed here.")
    location_note: Localized | None = None
    as_of: str | None = Field(default=None, description="When the location or name was read, e.g. `2018`.")
    source: str | None = None
    keywords: list[NonEmpty] = Field(default_factory=list)


class Municipality(Strict):
    """One of Aomori's 40 cities, towns and villages."""

    id: Slug
    name: NonEmpty = Field(description="The name with its 市 / 町 / 村, e.g. 弘前市.")
    name_en: NonEmpty
    kind: Literal["city", "town", "village"]
    aliases: list[NonEmpty] = Field(default_factory=list, description="Other ways people write it (ひろさき).")


class Area(Strict):
    """One of the six areas the prefecture's 自立相談支援 desks serve."""

    id: Slug
    name: NonEmpty
    name_en: NonEmpty
    municipalities: list[Municipality] = Field(min_length=1)


class Places(Strict):
    """Aomori's areas and municipalities (FACTS.md: geography, stable)."""

    areas: list[Area] = Field(min_length=1)


class Listing(Strict):
    """One row of the plan's measure tables: a measure shown under a category."""

    category: Slug
    position: int = Field(ge=1, description="Row number of the measure within the category's table.")
    repost: bool = Field(default=False, description="true where the plan marks the row (再掲).")


class Measure(Strict):
    """A support measure (支援) of the plan, listed under one or more categories."""

    id: Slug
    title: NonEmpty = Field(description="The title word for word from the plan, without (再掲).")
    summary: NonEmpty = Field(description="The 概要 word for word from the plan.")
    agencies: list[Slug] = Field(min_length=1, description="The 実施機関, in the plan's order.")
    listings: list[Listing] = Field(min_length=1)
    audiences: list[Audience] = Field(min_length=1)
    title_en: str | None = None
    summary_en: str | None = None
    facilities: list[Slug] = Field(default_factory=list)
    keywords: list[NonEmpty] = Field(default_factory=list, description="Words and phrases people use for it.")
    summary_plain: str | None = Field(
        default=None, description="The 概要 in plain Japanese: who it is for, what you get, how to start."
    )
    summary_plain_en: str | None = None
    why_plain: Localized | None = Field(default=None, description="What it helps with, in a short phrase.")
    internal: bool = Field(
        default=False, description="A task of the administration: not offered to job seekers and families."
    )
    examples: list[NonEmpty] = Field(
        default_factory=list, description="Whole messages people write when they need it (read by meaning)."
    )
    situations: list[Slug] = Field(default_factory=list, description="Situation ids this measure suits.")

    @property
    def categories(self) -> list[str]:
        """Return the measure's category ids, in listing order, without duplicates."""
        return list(dict.fromkeys(listing.category for listing in self.listings))


class YearlyResult(Strict):
    """A KPI's result for one fiscal year, with the rate as published."""

    fiscal_year: int = Field(ge=2019, le=2100, description="Start year of the fiscal year: 2020 = 令和2年度.")
    result: int = Field(ge=0)
    published_rate: PublishedRate


class Kpi(Strict):
    """A row of the plan's KPI table."""

    id: Slug
    name: NonEmpty = Field(description="The KPI's name, word for word from the plan.")
    name_en: str | None = None
    category: Slug
    short_name: Localized | None = Field(
        default=None, description="An everyday name (サポステの相談件数) for answers that set KPIs side by side.")
    unit: NonEmpty = Field(description="The counting unit, e.g. 件, 人, 市.")
    unit_en: str | None = None
    target: int = Field(gt=0, description="Target for the whole period (取組期間累計 目標値).")
    cumulative_result: int = Field(ge=0, description="取組期間累計 取組状況.")
    cumulative_published_rate: PublishedRate
    yearly: list[YearlyResult] = Field(min_length=1)
    aliases: list[NonEmpty] = Field(default_factory=list, description="What people call this KPI.")
    fragments: list[NonEmpty] = Field(
        default_factory=list,
        description="Short names (正社員, サポステ) that make a KPI question only next to a year or a figure word.",
    )
    name_patterns: list[NonEmpty] = Field(
        default_factory=list,
        description="Regular expressions over the normalized message (lower case, no spaces or marks) for the many "
                    "ways people name this KPI (regular-employee hires, full-time hiring); counted like fragments.",
    )
    related_measures: list[Slug] = Field(default_factory=list)

    @field_validator("name_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        return _compiles(value)

    @field_validator("yearly")
    @classmethod
    def _years_unique_and_ordered(cls, value: list[YearlyResult]) -> list[YearlyResult]:
        years = [item.fiscal_year for item in value]
        if len(set(years)) != len(years):
            raise ValueError(f"a fiscal year appears twice: {years}")
        if years != sorted(years):
            raise ValueError(f"fiscal years must be in order: {years}")
        return value

    def result_for(self, fiscal_year: int) -> YearlyResult | None:
        """Return the result of one fiscal year, or None when the catalog has none."""
        return next((item for item in self.yearly if item.fiscal_year == fiscal_year), None)

    @property
    def yearly_pace(self) -> Decimal:
        """The yearly result needed to reach the target evenly over the years of the period."""
        return Decimal(self.target) / len(self.yearly)


class CrisisLine(Strict):
    """A telephone line for someone in crisis, from FACTS.md."""

    id: Slug
    name: NonEmpty
    name_en: str | None = None
    number: Annotated[str, StringConstraints(pattern=r"^[#0-9][0-9-]+$")]
    hours: NonEmpty
    hours_en: str | None = None
    always_open: bool = Field(default=False, description="Answers 24 hours a day, every day.")
    schedule: list[OpeningHours] = Field(
        default_factory=list, description="Confirmed hours; empty when they vary or are unknown."
    )
    note: str | None = None
    as_of: str | None = Field(default=None, description="When the source gave the hours, e.g. `2025年`.")
    as_of_en: str | None = None
    source: NonEmpty


class EmergencyNumber(Strict):
    """An emergency number (119, 110)."""

    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
    label: Localized


def _compiles(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {pattern!r} ({error})") from error
    return patterns


Patterns = Annotated[list[NonEmpty], AfterValidator(_compiles)]
Pattern = Annotated[NonEmpty, AfterValidator(lambda value: _compiles([value])[0])]


class ByLanguage(Strict):
    """Regular expressions for Japanese (normalized text) and for English (lower case, spaced words)."""

    ja: Patterns = Field(default_factory=list)
    en: Patterns = Field(default_factory=list)


class OnePattern(Strict):
    """One regular expression for each language."""

    ja: Pattern
    en: Pattern


class CrisisKind(ByLanguage):
    """One kind of crisis expression (wish to die, self-harm, methods, …)."""

    id: Slug
    label: Localized
    direct: bool = Field(default=False, description="States the wish outright; must never be missed.")


class CrisisExamples(Strict):
    """The crisis floor's second signal: messages people wrote, in crisis and not, compared by meaning."""

    similar: float = Field(ge=0.0, le=1.0, description="Mean similarity to the nearest crisis examples needed.")
    margin: float = Field(ge=0.0, le=1.0, description="How much closer to crisis than to safe examples.")
    neighbours: int = Field(default=3, ge=1, le=20)
    threshold: float = Field(default=17.0, description="Learned score (words + meaning) for the gentle reply.")
    lexical_threshold: float = Field(default=18.0, description="Learned score by words alone, model not loaded.")
    agreement: float = Field(default=0.0, ge=0.0, le=1.0,
                             description="Share of crisis examples among the 10 nearest in meaning that the learned "
                                         "reply needs (model loaded).")
    full_threshold: float | None = Field(
        default=None, description="A learned score at least this high, with the nearest examples agreeing, gives the "
                                  "full crisis reply rather than the gentle one (an explicit plan in plain words).")
    distress_margin: float = Field(default=10.0, ge=0.0,
                                   description="Added to the threshold when distress words were found, so that "
                                               "distress keeps its own warm reply unless the score is clear.")
    crisis: list[NonEmpty] = Field(min_length=1)
    danger: list[NonEmpty] = Field(default_factory=list, description="Danger from another person (110).")
    line: list[NonEmpty] = Field(default_factory=list, description="Asking for a line or a person to talk to.")
    safe: list[NonEmpty] = Field(min_length=1)


class CrisisDetection(Strict):
    """How the crisis floor reads a message; see the comments in crisis.yaml."""

    spellings: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)
    kinds: list[CrisisKind] = Field(min_length=1)
    someone_else: OnePattern
    first_person: OnePattern
    reported: OnePattern
    figurative: ByLanguage = Field(default_factory=ByLanguage)
    gentle: ByLanguage = Field(default_factory=ByLanguage)
    danger: ByLanguage = Field(default_factory=ByLanguage)
    distress: ByLanguage = Field(default_factory=ByLanguage)
    line_request: ByLanguage = Field(default_factory=ByLanguage)


class Crisis(Strict):
    """Everything the crisis floor needs: lines to show and expressions to detect."""

    lines: list[CrisisLine] = Field(min_length=1)
    emergency: list[EmergencyNumber] = Field(min_length=1)
    detection: CrisisDetection


class DialectRule(Strict):
    """An Aomori dialect form (a regular expression on normalized text) and its standard Japanese."""

    form: Pattern
    standard: str
    note: str | None = None


class Phrases(Strict):
    """Whole messages that mean one thing (こんにちは, thanks), in each language, compared after normalizing."""

    ja: list[NonEmpty] = Field(default_factory=list)
    en: list[NonEmpty] = Field(default_factory=list)


SmallTalkKind = Literal["greeting", "thanks", "bye", "bot"]
TypedWordKind = Literal["yes", "no", "unknown", "skip", "more", "back", "restart"]


WindowFact = Literal["where", "phone", "hours", "age", "cost", "booking", "family"]


class LanguageTable(Strict):
    """How people write: dialect forms, small talk, and words typed instead of pressing a button."""

    dialect: list[DialectRule] = Field(default_factory=list)
    readings: list[DialectRule] = Field(default_factory=list)
    symbols: dict[NonEmpty, str] = Field(default_factory=dict)
    off_topic_words: list[NonEmpty] = Field(default_factory=list)
    privacy_questions: list[NonEmpty] = Field(default_factory=list)
    off_topic: list[NonEmpty] = Field(default_factory=list)
    smalltalk: dict[SmallTalkKind, Phrases] = Field(default_factory=dict)
    smalltalk_filler: list[NonEmpty] = Field(default_factory=list)
    requests: Phrases = Field(default_factory=Phrases)
    typed_words: dict[TypedWordKind, list[NonEmpty]] = Field(default_factory=dict)
    window_questions: dict[WindowFact, ByLanguage] = Field(
        default_factory=dict, description="How people ask a window's address, phone, hours … (with its name)."
    )


class SynonymGroup(Strict):
    """Words that mean the same thing for search; the first is the canonical form."""

    id: Slug
    words: list[NonEmpty] = Field(min_length=2)


class Option(Strict):
    """One answer to a questionnaire question."""

    id: Slug
    label: Localized
    boosts: list[Slug] = Field(default_factory=list, description="Measure ids this answer makes more relevant.")
    hides: list[Slug] = Field(default_factory=list, description="Measure ids that do not apply after this answer.")
    reason: Localized | None = Field(default=None, description="Why the boosted measures fit, shown in results.")
    signals: list[NonEmpty] = Field(
        default_factory=list, description="Words in typed text that give this answer (資格 → training: yes)."
    )


class Persona(Strict):
    """Who is using the bot."""

    id: Slug
    label: Localized
    audiences: list[Audience] = Field(min_length=1, description="Which measures this persona is offered.")
    asks_situation: bool = True
    signals: list[NonEmpty] = Field(
        default_factory=list, description="Words in typed text that suggest this persona (e.g. 雇いたい → employer)."
    )


class Situation(Strict):
    """The situation a person is in (for themself or the person they ask for)."""

    id: Slug
    label: Localized
    categories: list[Slug] = Field(description="Category ids whose measures fit; empty = all.")
    signals: list[NonEmpty] = Field(
        default_factory=list, description="Words in typed text that suggest this situation (派遣切り → unstable-work)."
    )


class Question(Strict):
    """A follow-up question of the questionnaire."""

    id: Slug
    text: Localized = Field(description="The question as asked to the person themself.")
    text_family: Localized | None = Field(default=None, description="The question as asked to a family member.")
    personas: list[Slug] = Field(default_factory=list, description="Persona ids asked; empty = all.")
    situations: list[Slug] = Field(default_factory=list, description="Situation ids asked; empty = all.")
    options: list[Option] = Field(min_length=1)


class Questionnaire(Strict):
    """The conversation's questions, defined as data."""

    personas: list[Persona] = Field(min_length=1)
    situations: list[Situation] = Field(min_length=1)
    questions: list[Question] = Field(default_factory=list)


class CatalogDocument(Strict):
    """One YAML file of the catalog. Any of the keys may be present; lists from all files are merged."""

    categories: list[Category] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)
    facilities: list[Facility] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
    crisis: Crisis | None = None
    synonyms: list[SynonymGroup] = Field(default_factory=list)
    questionnaire: Questionnaire | None = None
    language: LanguageTable | None = None
    crisis_examples: CrisisExamples | None = None
    places: Places | None = None
    source: str | None = Field(default=None, description="What the file was written from.")
    as_of: dt.date | None = Field(default=None, description="When the file's facts were last checked.")
