"""KPI questions: recognise them in typed text and answer with figures computed from the catalog.

Recognition needs two things: what is asked about (a KPI alias, a fiscal year, or the KPIs as a whole) and a sign
that a figure is wanted (件数, 実績, 進捗, 何人, KPI …). So 「サポステで相談したい」 is left to the measure search,
while 「サポステの相談件数は？」 is answered here. Rates are computed with `rate_percent`, never copied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from rapidfuzz import fuzz

from ..catalog import Catalog, rate_percent
from ..fiscal_year import fiscal_year_label, fiscal_years_label, parse_fiscal_years
from ..i18n import Translator
from ..models import Kpi
from . import kpi_words as words
from .normalize import SynonymRewriter, normalize
from .romaji import romaji_to_hiragana

KpiKind = Literal["one", "year", "unmet", "list", "compare", "extreme", "cumulative", "crossed", "best", "between"]
Aspect = Literal["", "least", "rise", "least_rise", "worst", "average", "points", "sum", "single", "count", "share",
                 "ratio", "all", "all_fell"]

BAR_CELLS = 10
BAR_FULL, BAR_EMPTY = "▓", "░"
_FUZZY_MIN_LENGTH = 6  # shorter aliases match exactly only: one wrong character is too large a share of them
_FUZZY_CUTOFF = 85.0  # one typo or one extra particle in a 7-character alias still scores 85.7
_FUZZY_FRAGMENT_LENGTH = 8  # a short name is read with a typo only from this length ("platfroms", not "jc")
_FUZZY_MAX_LENGTH = 80  # KPI questions are short; longer messages are matched exactly only, to stay fast


@dataclass(frozen=True)
class KpiQuery:
    """A recognised KPI question: its kind, the KPIs it names and the fiscal years it asks about."""

    kind: KpiKind
    kpi_ids: tuple[str, ...] = ()
    fiscal_years: tuple[int, ...] = ()
    aspect: Aspect = ""  # least, largest rise, worst, per year, the rate's change in points
    threshold: int | None = None  # 初めて1,000件を超えた年: the figure passed


def _english_head(name_en: str) -> str:
    """The first words of an English KPI name, up to a preposition: "Job placements as …" → "job placements"."""
    head: list[str] = []
    for word in name_en.lower().split():
        if word in words.EN_STOPWORDS:
            break
        head.append(word)
    return " ".join(head) if len(head) >= 2 else ""


def _number(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _singular(unit: str) -> str:
    if unit == "people":
        return "person"
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    return unit[:-1] if unit.endswith("s") else unit


def _quantity(value: int | Decimal, kpi: Kpi, lang: str) -> str:
    """A number with the KPI's unit: 3,300件 / 3,300 placements."""
    if lang == "en":
        unit = kpi.unit_en or kpi.unit
        return f"{_number(value)} {_singular(unit) if value == 1 else unit}"
    return f"{_number(value)}{kpi.unit}"


def _growth(change: int, before: int) -> Decimal | None:
    """A change as a percentage of the figure before it, to 0.1 (None when that figure is 0)."""
    if not before:
        return None
    return (Decimal(change) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def progress_bar(rate: Decimal) -> str:
    """A 10-cell text bar of a percentage, full only at 100% or more: 23.7 → ▓▓░░░░░░░░."""
    filled = min(BAR_CELLS, max(0, int(rate // 10)))
    return BAR_FULL * filled + BAR_EMPTY * (BAR_CELLS - filled)


def kpi_name(kpi: Kpi, lang: str) -> str:
    """The KPI's name in `lang`; in English with the Japanese name in brackets."""
    if lang == "en" and kpi.name_en:
        return f"{kpi.name_en} ({kpi.name})"
    return kpi.name


def _first_reaching(kpi: Kpi, threshold: int, running: bool = True) -> tuple[int, int] | None:
    """The first fiscal year whose running total (or, not `running`, whose own figure) reached a threshold, with it."""
    total = 0
    for item in kpi.yearly:
        total += item.result
        value = total if running else item.result
        if value >= threshold:
            return item.fiscal_year, value
    return None


def kpi_short_name(kpi: Kpi, lang: str) -> str:
    """The KPI's everyday name for answers that set KPIs side by side (its full name when it has none)."""
    return kpi.short_name.get(lang) if kpi.short_name else kpi_name(kpi, lang)


def _relative_shift(word: str) -> int:
    """How far a relative word lies from the year it refers to: 前年度 −1, 今年度 0, 翌年度 / the year after +1."""
    word = word.lower().removeprefix("the ")
    if word.startswith(("今", "本", "当")):
        return 0
    return 1 if word.startswith(("翌", "次", "following", "next", "year after")) else -1


class KpiAnswers:
    """Recognises KPI questions and answers them from one catalog; build once, reuse for every message."""

    def __init__(self, catalog: Catalog, translator: Translator | None = None) -> None:
        self.catalog = catalog
        self._translator = translator or Translator()
        self._rewriter = SynonymRewriter(group.words for group in catalog.synonyms.values())
        self._exact: list[tuple[str, str]] = []  # (alias form, KPI id)
        self._fragments: list[tuple[str, str]] = []  # (short name form, KPI id): only with a year or figure word
        self._fuzzy: list[tuple[str, str, int]] = []  # (alias form, KPI id, character mask)
        self._name_patterns = [(re.compile(pattern), kpi.id) for kpi in catalog.kpis.values()
                               for pattern in kpi.name_patterns]
        for kpi in catalog.kpis.values():
            names = [kpi.name, *kpi.aliases]
            if kpi.name_en:
                names += [kpi.name_en, _english_head(kpi.name_en)]
            forms: dict[str, None] = {}
            for name in names:
                canonical = self._rewriter.canonical(name)
                if canonical:
                    forms.update(dict.fromkeys((canonical, words.reading(canonical))))
            self._exact.extend((form, kpi.id) for form in forms)
            for fragment in kpi.fragments:
                canonical = self._rewriter.canonical(fragment)
                self._fragments.extend((form, kpi.id) for form in dict.fromkeys((canonical, words.reading(canonical))))
            self._fuzzy.extend((form, kpi.id, words.char_mask(form))
                               for form in forms if len(form) >= _FUZZY_MIN_LENGTH)
        # Short names read with a typo: long enough, and English, not romaji ("seishain" would meet "she is havi…").
        self._fuzzy_fragments = [(alias, kpi_id) for alias, kpi_id in self._fragments
                                 if len(alias) >= _FUZZY_FRAGMENT_LENGTH and romaji_to_hiragana(alias) is None]
        self._years = sorted({item.fiscal_year for kpi in catalog.kpis.values() for item in kpi.yearly})

    # --- recognition ----------------------------------------------------------------------------------------

    def match_kpis(self, text: str) -> tuple[str, ...]:
        """Return the ids of the KPIs named in `text` (exactly or with a small typo), in order of mention."""
        canonical = self._rewriter.rewrite(normalize(text))
        return self._match(tuple(dict.fromkeys((canonical, words.reading(canonical)))))

    def _match(self, forms: Sequence[str]) -> tuple[str, ...]:
        found: dict[str, int] = {}  # KPI id → position of its first mention
        for alias, kpi_id in self._exact:
            for form in forms:
                position = form.find(alias)
                if position >= 0 and position < found.get(kpi_id, len(form) + 1):
                    found[kpi_id] = position
        for form in (form for form in forms if len(form) <= _FUZZY_MAX_LENGTH):
            absent = ~words.char_mask(form)
            for alias, kpi_id, alias_mask in self._fuzzy:
                if kpi_id in found:
                    continue
                # Cheap bound first: each alias character missing from the message is one that cannot match.
                matchable = len(alias) - (alias_mask & absent).bit_count()
                if 200 * matchable < _FUZZY_CUTOFF * (len(alias) + min(len(alias), len(form))):
                    continue
                position = self._fuzzy_position(alias, form)
                if position is not None:
                    found[kpi_id] = position
        order = list(self.catalog.kpis)
        return tuple(sorted(found, key=lambda kpi_id: (found[kpi_id], order.index(kpi_id))))

    @staticmethod
    def _fuzzy_position(alias: str, form: str) -> int | None:
        if len(form) < len(alias):
            # partial_ratio would look for the short message inside the alias: 「さぽすて」 ⊂ 「さぽすての相談」.
            return 0 if fuzz.ratio(alias, form, score_cutoff=_FUZZY_CUTOFF) else None
        alignment = fuzz.partial_ratio_alignment(alias, form, score_cutoff=_FUZZY_CUTOFF)
        return alignment.dest_start if alignment is not None else None

    def _text(self, key: str, lang: str, **values: object) -> str:
        """Return a KPI answer string from the locale files (keys `kpi_*`)."""
        return self._translator.t(f"kpi_{key}", lang, **values)

    def detect(self, text: str, today: date, plain: str | None = None, standard: str = "") -> KpiQuery | None:
        """Recognise a KPI question in a typed message (`plain`: its normalized form, `standard`: its dialect read)."""
        plain = normalize(text) if plain is None else plain
        if not plain:
            return None
        # いぢばん多がった (Tsugaru) is いちばん多かった: its words are looked for in the standard form too
        signal_forms = tuple(dict.fromkeys(words.SUPERLATIVE.sub("一番", form) for form in
                                           (plain, words.reading(plain), *((standard,) if standard else ()))))

        def has(pattern: re.Pattern[str]) -> bool:
            return any(pattern.search(form) for form in signal_forms)

        canonical = self._rewriter.rewrite(plain)
        name_forms = tuple(dict.fromkeys((canonical, words.reading(canonical))))
        kpi_ids = self._match(name_forms)
        plan_years, text = self._plan_years(text)
        years = self._years_asked(text, plain, today) + plan_years
        if len(years) == 1 and has(words.SINCE_PATTERN):  # "since FY2020": that year and every later one with data
            years = tuple(year for year in self._years if year >= years[0]) or years
        # 知りたい, "i want to know": asking, not the writer's own wish
        own_life = any(words.PERSONAL_PATTERN.search(words.ASKING.sub("", form)) for form in signal_forms) \
            or bool(words.WISH.search(words.ASKING.sub("", plain)))
        figure_wanted = has(words.STRONG_PATTERN) or has(words.UNMET_PATTERN) or has(words.MOST_PATTERN) \
            or has(words.LEAST_PATTERN) \
            or has(words.REMAINING_PATTERN) or has(words.FELL_YEAR_PATTERN) \
            or (has(words.COMPARE_PATTERN) and bool(years)) \
            or (has(words.WHICH_YEAR_PATTERN) and has(words.FIRST_TIME_PATTERN)
                and self._threshold(text, ()) is not None) \
            or bool(words.PERCENT_ASKED.search(text)) \
            or (("%" in text or "％" in text) and len(plain) <= 40)  # "counselling 2023 %"
        named_year = bool(parse_fiscal_years(words.ANY_RELATIVE.sub(" ", text), today)) or bool(plan_years)
        # "… in R4? i need it for report": a figure word and a year outweigh the writer's own words.
        fragments_count = not own_life or (figure_wanted and named_year)
        if not kpi_ids and fragments_count and (named_year or figure_wanted or has(words.WEAK_PATTERN)):
            # 「R4 正社員」「サポステ 一番多い年」: a short name counts next to a year or a figure word.
            kpi_ids = self._fragments_in(name_forms, ())
            kpi_ids += tuple(kpi_id for pattern, kpi_id in self._name_patterns
                             if kpi_id not in kpi_ids and pattern.search(canonical))
            if not kpi_ids and len(canonical) <= _FUZZY_MAX_LENGTH:  # "support staion counceling", "platfroms"
                kpi_ids = tuple(dict.fromkeys(kpi_id for alias, kpi_id in self._fuzzy_fragments
                                              if self._fuzzy_position(alias, canonical) is not None))
        elif kpi_ids and fragments_count:  # "Job Cafe registrations and the counselling sessions": both
            kpi_ids += self._fragments_in(name_forms, kpi_ids)
        if len(kpi_ids) >= 2 and not own_life and len(years) <= 1 and not has(words.PREVIOUS_PATTERN) \
                and (has(words.WHICH_KPI_PATTERN) or has(words.BETWEEN_PATTERN) or has(words.POINTS_PATTERN)
                     or has(words.RATIO_PATTERN)):
            # 「R5はジョブカフェとサポステのどちらが進んでいる？」: the KPIs set against each other, by their rates
            if years and has(words.CUMULATIVE_PATTERN):  # 令和4年度末時点の累計で: every year up to it
                years = tuple(year for year in self._years if year <= years[0]) or years
            least = has(words.LEAST_PATTERN) or has(words.WORST_PATTERN)
            return KpiQuery("between", kpi_ids, years, "ratio" if has(words.RATIO_PATTERN) else
                            "count" if has(words.COUNT_ASKED_PATTERN) else "worst" if least else "")
        if kpi_ids:
            if figure_wanted or (not own_life and (has(words.WEAK_PATTERN) or years)):
                if not years and has(words.PREVIOUS_PATTERN) and not has(words.MOST_PATTERN) \
                        and not has(words.LEAST_PATTERN):
                    years = tuple(self._years[-1:])  # 「就職件数 前年比」: the latest year against the one before
                if has(words.FELL_YEAR_PATTERN):  # 「ジョブカフェ 減った年」
                    return KpiQuery("extreme", kpi_ids, years, "least_rise")
                threshold = self._threshold(text, kpi_ids) if has(words.WHICH_YEAR_PATTERN) else None
                if threshold is not None and (has(words.FIRST_TIME_PATTERN) or has(words.REACHED_PATTERN)):
                    # 「初めて1,000件を超えたのはいつ」: each year's figure (the running total when 累計 is asked)
                    return KpiQuery("crossed", kpi_ids, (), "sum" if has(words.CUMULATIVE_PATTERN) else "", threshold)
                aspect: Aspect = (
                    "share" if has(words.SHARE_PATTERN) and not has(words.COMPARE_PATTERN) else
                    "sum" if has(words.SUM_PATTERN) and len(years) >= 2 else
                    "least_rise" if has(words.LEAST_PATTERN) and has(words.RISE_PATTERN) else
                    "least" if has(words.LEAST_PATTERN) else "points" if has(words.POINTS_PATTERN) else
                    "rise" if has(words.RISE_PATTERN) else "average" if has(words.AVERAGE_PATTERN) else "")
                kind = "one" if aspect == "share" else self._kind(has, years)
                if kind == "cumulative" and len(years) == 1 and has(words.NOW_PATTERN) and not aspect:
                    kind = "one"  # 「令和3年度にいくつで、累計は今どれくらい？」: that year, then the total up to now
                return KpiQuery(kind, kpi_ids, years, aspect)
            return None
        ranked = has(words.BEST_PATTERN) or has(words.WORST_PATTERN) \
            or (has(words.WHICH_KPI_PATTERN) and (has(words.MOST_PATTERN) or has(words.LEAST_PATTERN)))
        if not own_life and ranked:  # 「一番遅れているKPIは？」「4指標で単年度の進捗率が最も高いのは」
            worst = has(words.WORST_PATTERN) or (has(words.LEAST_PATTERN) and not has(words.MOST_PATTERN))
            aspect = "rise" if has(words.RISE_PATTERN) else "worst" if worst else \
                "single" if not years and has(words.SINGLE_YEAR_PATTERN) else ""
            return KpiQuery("best", (), years, aspect)
        changed = has(words.PREVIOUS_PATTERN) or has(words.RISE_PATTERN) or has(words.FELL_PATTERN)
        if not own_life and years and has(words.COMPARE_PATTERN) and changed:
            # 「令和5年度に前年度より減ったKPIは？」: every KPI, which rose and which fell first
            return KpiQuery("compare", tuple(self.catalog.kpis), years,
                            "all_fell" if has(words.FELL_PATTERN) else "all")
        if own_life and not has(words.EXPLICIT_PATTERN):
            return None
        if has(words.UNMET_PATTERN):
            return KpiQuery("unmet", (), years)
        if years and has(words.CUMULATIVE_PATTERN) and figure_wanted:  # 「令和4年度時点の累計は？」: every KPI up to it
            return KpiQuery("cumulative", tuple(self.catalog.kpis), years)
        if years and has(words.YEAR_CONTEXT_PATTERN):
            return KpiQuery("year", (), years)
        if has(words.META_PATTERN) or words.BARE.fullmatch(plain):
            return KpiQuery("list", (), years)
        return None

    def _threshold(self, text: str, kpi_ids: Sequence[str]) -> int | None:
        """A figure named in the question that is neither a year nor a KPI's target (初めて1,000件を超えた)."""
        targets = {self.catalog.kpis[kpi_id].target for kpi_id in kpi_ids}
        for found in words.THRESHOLD.finditer(unicodedata.normalize("NFKC", text)):
            value = int(found.group(1).replace(",", ""))
            year_like = 1989 <= value <= 2099 and "," not in found.group(1)
            if not year_like and value not in targets:
                return value
        return None

    def _fragments_in(self, forms: Sequence[str], found: Sequence[str]) -> tuple[str, ...]:
        """The KPIs whose short names stand in the message, besides those already `found`."""
        return tuple(dict.fromkeys(kpi_id for alias, kpi_id in self._fragments
                                   if kpi_id not in found and any(alias in form for form in forms)))

    def _plan_years(self, text: str) -> tuple[tuple[int, ...], str]:
        """The years named by their place in the plan ("the first year", 最終年度), and the text without those words."""
        lowered = unicodedata.normalize("NFKC", text).lower()
        years: list[int] = []

        def count(found: re.Match[str], default: int) -> int:
            return words.PLAN_COUNT.get(next((group for group in found.groups() if group), ""), default)

        if words.PLAN_PENULTIMATE.search(lowered):
            years.append(self._years[-2] if len(self._years) >= 2 else self._years[-1])
        lowered = words.PLAN_PENULTIMATE.sub(" ", lowered)
        for found in words.PLAN_FIRST.finditer(lowered):
            default = 2 if "前半" in found.group(0) else 1  # 前半: the first half of a four-year plan
            years += self._years[:count(found, default)]
        for found in words.PLAN_NTH.finditer(lowered):
            place = count(found, 1)
            if place <= len(self._years):
                years.append(self._years[place - 1])
        for found in words.PLAN_LAST_SEVERAL.finditer(lowered):
            years += self._years[-count(found, 2):]
        lowered = words.PLAN_LAST_SEVERAL.sub(" ", words.PLAN_NTH.sub(" ", words.PLAN_FIRST.sub(" ", lowered)))
        last = words.PLAN_LAST_BESIDE_FIRST if years else words.PLAN_LAST
        if last.search(lowered):
            years.append(self._years[-1])
        if not years:
            return (), text
        return tuple(sorted(set(years))), last.sub(" ", lowered)

    @staticmethod
    def _kind(has: Callable[[re.Pattern[str]], bool], years: Sequence[int]) -> KpiKind:
        """What is asked of the KPIs named: a comparison, an extreme, the cumulative result, or their figures."""
        reached = has(words.REMAINING_PATTERN) or (has(words.TARGET_PATTERN) and has(words.REACHED_PATTERN))
        if has(words.WHICH_YEAR_PATTERN) and reached:
            return "crossed"  # 何年度に累計で目標を達成した？
        if has(words.SUM_PATTERN) and len(years) != 1 and not has(words.MOST_PATTERN) and not has(words.LEAST_PATTERN):
            return "cumulative"  # 4年間の合計, R3〜R5の合計 (the years named, summed); "the total in FY2022" is one
        if has(words.MOST_PATTERN) or has(words.LEAST_PATTERN):
            return "extreme"
        if has(words.AVERAGE_PATTERN):
            return "cumulative"  # 1年あたり平均何件？: the cumulative result divided by its years, then the total
        if len(years) >= 2 and has(words.COMPARE_PATTERN) and not has(words.REMAINING_PATTERN):
            return "compare"  # 令和2年度から令和5年度までの伸び率: two years compared, not a running total
        if not years and has(words.TARGET_PATTERN) and (has(words.CUMULATIVE_PATTERN) or has(words.COMPARE_PATTERN)):
            return "cumulative"  # "cumulative … compared with the target", 目標と比べてどう: not two years
        if has(words.REMAINING_PATTERN) or (years and has(words.CUMULATIVE_PATTERN)):
            return "cumulative"
        if has(words.COMPARE_PATTERN) or (len(years) == 1 and has(words.PREVIOUS_PATTERN)):
            return "compare"
        return "one"

    @staticmethod
    def _years_asked(text: str, plain: str, today: date) -> tuple[int, ...]:
        """The fiscal years asked about; 前年度 and 今年度 count from a year the question names, not from today."""
        years = parse_fiscal_years(text, today)
        absolute = parse_fiscal_years(words.RELATIVE_WORDS.sub(" ", text), today)
        relative = words.RELATIVE_WORDS.findall(text)
        if not absolute or not relative:
            return tuple(years)
        anchor = absolute[0]
        if words.OF_PREVIOUS.search(plain) and len(absolute) == 1 and not words.SUPPOSE.search(plain):
            return (anchor - 1,)  # 令和4年度の前年度
        if words.OF_NEXT.search(plain) and len(absolute) == 1 and not words.SUPPOSE.search(plain):
            return (anchor + 1,)  # 令和2年度の翌年度
        supposed = words.SUPPOSE.search(plain)
        if supposed:  # 「令和5年度を今年度とすると、前年度の…」: the named year only sets 今年度; what follows is asked
            relative = words.RELATIVE_WORDS.findall(plain[supposed.end():]) or relative
        shifted = [anchor + _relative_shift(word) for word in relative]
        if supposed:
            return tuple(dict.fromkeys(shifted))
        return tuple(dict.fromkeys([*absolute, *shifted]))

    # --- answers --------------------------------------------------------------------------------------------

    def answer(self, query: KpiQuery, lang: str = "ja") -> str:
        """Compose the plain-text reply to a KPI question, with every figure computed from the catalog."""
        kpis = [self.catalog.kpis[kpi_id] for kpi_id in dict.fromkeys(query.kpi_ids) if kpi_id in self.catalog.kpis]
        if query.kind == "best":
            return self._ranked(list(self.catalog.kpis.values()), query, lang)
        if query.kind == "between" and len(kpis) >= 2:
            return self._ranked(kpis, query, lang)
        if kpis and query.kind in ("compare", "extreme", "cumulative", "crossed"):
            special = {"compare": self._compare, "extreme": self._extreme, "cumulative": self._cumulative,
                       "crossed": self._crossed}[query.kind]
            blocks = [special(kpi, query, lang) for kpi in kpis]
            if query.aspect in ("all", "all_fell"):
                blocks.insert(0, self._changes_overview(kpis, query.fiscal_years, lang, query.aspect == "all_fell"))
            return "\n\n".join(block for block in blocks if block)
        if query.kind == "one" and kpis:
            return "\n\n".join(self._one(kpi, query.fiscal_years, lang, query.aspect) for kpi in kpis)
        if query.kind == "year" and query.fiscal_years:
            return self._year(query.fiscal_years, lang)
        if query.kind == "unmet":
            return self._unmet(bool(query.fiscal_years), lang)
        return self._list(lang)

    def summary_lines(self, lang: str = "ja") -> list[str]:
        """One short line per KPI: cumulative result, target, rate and whether it is achieved."""
        lines = []
        for kpi in self.catalog.kpis.values():
            total = sum(item.result for item in kpi.yearly)
            lines.append(self._text(
                "summary_line", lang, name=kpi_name(kpi, lang), value=_quantity(total, kpi, lang),
                target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target),
                status=self._status(kpi, total, lang),
            ))
        return lines

    def unmet_kpis(self) -> list[Kpi]:
        """The KPIs whose cumulative result (the sum of the yearly results) is below target."""
        return [kpi for kpi in self.catalog.kpis.values() if sum(item.result for item in kpi.yearly) < kpi.target]

    def _period(self, lang: str, kpi: Kpi | None = None) -> str:
        years = [item.fiscal_year for item in kpi.yearly] if kpi is not None else self._years
        return fiscal_years_label(years, lang)

    def _status(self, kpi: Kpi, total: int, lang: str) -> str:
        if total >= kpi.target:
            return self._text("achieved", lang, surplus=_quantity(total - kpi.target, kpi, lang))
        return self._text("not_achieved", lang, gap=_quantity(kpi.target - total, kpi, lang))

    def _missing_note(self, missing: Sequence[int], available: Sequence[int], lang: str) -> str:
        return self._text("no_data", lang, missing=fiscal_years_label(missing, lang),
                          available=fiscal_years_label(available, lang), first=fiscal_year_label(min(available), lang),
                          latest=fiscal_year_label(max(available), lang))

    def _one(self, kpi: Kpi, fiscal_years: Sequence[int], lang: str, query_aspect: Aspect = "") -> str:
        available = [item.fiscal_year for item in kpi.yearly]
        asked = sorted(set(fiscal_years)) if fiscal_years else available
        shown = [year for year in asked if year in available]
        missing = [year for year in asked if year not in available]
        total = sum(item.result for item in kpi.yearly)
        lines = [kpi_name(kpi, lang)]
        if shown:  # the figures asked for, in a first sentence; the table follows
            parts = [self._text("one_year_part", lang, label=fiscal_year_label(year, lang),
                                value=_quantity(self._value(kpi, year), kpi, lang),
                                rate=rate_percent(self._value(kpi, year), kpi.target))
                     for year in shown] if fiscal_years else [
                self._text("one_total_part", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target))]
            lines = [self._text("one_headline", lang, name=kpi_name(kpi, lang),
                                figures=("、" if lang == "ja" else "; ").join(parts))]
        if shown and query_aspect == "share":
            lines = [self._share(kpi, shown, lang)]
        if not shown:
            lines.append(self._missing_note(missing, available, lang))
            nearest = min(available, key=lambda year: abs(year - missing[0]))  # 令和6年度 → 令和5年度's figure
            value = self._value(kpi, nearest)
            lines.append(self._text("nearest", lang, label=fiscal_year_label(nearest, lang),
                                    value=_quantity(value, kpi, lang), rate=rate_percent(value, kpi.target)))
            return "\n".join(lines)
        for year in shown:
            item = kpi.result_for(year)
            assert item is not None  # `shown` holds only the years with a result
            rate = rate_percent(item.result, kpi.target)
            lines.append(self._text("year_line", lang, label=fiscal_year_label(year, lang),
                               value=_quantity(item.result, kpi, lang), rate=rate, bar=progress_bar(rate)))
        rate = rate_percent(total, kpi.target)
        lines.append(self._text("total_line", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), rate=rate, bar=progress_bar(rate),
                           status=self._status(kpi, total, lang)))
        lines.append(self._text("pace", lang, pace=_quantity(kpi.yearly_pace, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), years=len(kpi.yearly)))
        if missing:
            lines.append(self._missing_note(missing, available, lang))
        lines.append(self._text("rate_note", lang, period=self._period(lang, kpi)))
        return "\n".join(lines)

    def _share(self, kpi: Kpi, years: Sequence[int], lang: str) -> str:
        """The years asked as a share of the whole period's total: 令和2年度の分は合計の何％."""
        part = sum(self._value(kpi, year) for year in years)
        total = sum(item.result for item in kpi.yearly)
        share = rate_percent(part, total) if total else Decimal(0)
        return self._text("share", lang, name=kpi_name(kpi, lang), label=fiscal_years_label(years, lang),
                          value=_quantity(part, kpi, lang), period=self._period(lang, kpi),
                          total=_quantity(total, kpi, lang), share=share)

    def _year(self, fiscal_years: Sequence[int], lang: str) -> str:
        asked = sorted(set(fiscal_years))
        shown = [year for year in asked if year in self._years]
        missing = [year for year in asked if year not in self._years]
        blocks = []
        for year in shown:
            lines = [self._text("year_title", lang, label=fiscal_year_label(year, lang))]
            for kpi in self.catalog.kpis.values():
                item = kpi.result_for(year)
                if item is None:
                    lines.append(self._text("year_item_missing", lang, name=kpi_name(kpi, lang)))
                    continue
                rate = rate_percent(item.result, kpi.target)
                lines.append(self._text(
                    "year_item", lang, name=kpi_name(kpi, lang), value=_quantity(item.result, kpi, lang),
                    rate=rate, bar=progress_bar(rate), pace=_quantity(kpi.yearly_pace, kpi, lang)))
            blocks.append("\n".join(lines))
        notes = []
        if missing:
            notes.append(self._missing_note(missing, self._years, lang))
        if shown:
            notes.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n\n".join([*blocks, "\n".join(notes)])

    def _unmet(self, years_asked: bool, lang: str) -> str:
        unmet = self.unmet_kpis()
        period = self._period(lang)
        if not unmet:
            lines = [self._text("unmet_none", lang, period=period)]
        else:
            plural = "s" if len(unmet) > 1 else ""
            lines = [self._text("unmet_title", lang, period=period, count=len(unmet), plural=plural)]
            for kpi in unmet:
                total = sum(item.result for item in kpi.yearly)
                rate = rate_percent(total, kpi.target)
                lines.append(self._text("unmet_item", lang, name=kpi_name(kpi, lang), value=_quantity(total, kpi, lang),
                                   target=_quantity(kpi.target, kpi, lang), rate=rate, bar=progress_bar(rate),
                                   gap=_quantity(kpi.target - total, kpi, lang)))
        if years_asked:
            lines.append(self._text("unmet_basis", lang))
        return "\n".join(lines)

    def _list(self, lang: str) -> str:
        return "\n".join([self._text("list_title", lang, period=self._period(lang)), *self.summary_lines(lang),
                          self._text("list_hint", lang)])

    # --- comparisons, extremes, cumulative ------------------------------------------------------------------

    def _known(self, kpi: Kpi, years: Sequence[int]) -> tuple[list[int], list[int]]:
        available = [item.fiscal_year for item in kpi.yearly]
        return [year for year in years if year in available], [year for year in years if year not in available]

    def _value(self, kpi: Kpi, year: int) -> int:
        item = kpi.result_for(year)
        assert item is not None
        return item.result

    def _compare(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """Two years of a KPI: the change first, in number and per cent, then both figures."""
        available = [item.fiscal_year for item in kpi.yearly]
        asked = list(query.fiscal_years)
        if len(asked) == 1:
            asked = [asked[0] - 1, asked[0]]  # 前年比: against the year before
        if not asked:
            asked = available  # 「毎年増えてる？」: the whole period, every year shown
        shown, missing = self._known(kpi, asked)
        if len(shown) < 2:
            note = self._missing_note(missing or asked, available, lang)
            if len(available) < 2 or len(query.fiscal_years) > 2:
                return "\n".join([kpi_name(kpi, lang), note])
            # "last year compared to the year before", asked after the data ends: the nearest two years instead
            nearest = available[-2:] if max(asked) > available[-1] else available[:2]
            return "\n".join([note, self._compare(kpi, replace(query, fiscal_years=tuple(nearest)), lang)])
        first, last = min(shown), max(shown)
        before, after = self._value(kpi, first), self._value(kpi, last)
        change = after - before
        percent = _growth(change, before)
        key = "compare_up" if change > 0 else "compare_down" if change < 0 else "compare_same"
        lines = [self._text(key, lang, name=kpi_name(kpi, lang), later=fiscal_year_label(last, lang),
                            earlier=fiscal_year_label(first, lang), diff=_quantity(abs(change), kpi, lang),
                            percent=f"{abs(percent)}%" if percent is not None else "—")]
        rates = {item.fiscal_year: Decimal(item.published_rate.rstrip("%")) for item in kpi.yearly}
        points = rates[last] - rates[first]
        rate_line = self._text("compare_points_up" if points > 0 else "compare_points_down" if points < 0
                               else "compare_points_same", lang, earlier=fiscal_year_label(first, lang),
                               later=fiscal_year_label(last, lang), before=f"{rates[first]}%",
                               after=f"{rates[last]}%", points=abs(points))
        lines += [self._text("compare_line", lang, label=fiscal_year_label(year, lang),
                             value=_quantity(self._value(kpi, year), kpi, lang)) for year in sorted(shown)]
        # Asked about the rate in points: that answer first; otherwise it follows the counts.
        return "\n".join([rate_line, *lines] if query.aspect == "points" else [*lines, rate_line])

    def _changes_overview(self, kpis: Sequence[Kpi], years: Sequence[int], lang: str, fell_first: bool) -> str:
        """Which KPIs rose and which fell between two years, a line each ("" when the years lack data)."""
        first, last = (min(years) - 1, min(years)) if len(set(years)) == 1 else (min(years), max(years))
        groups: dict[str, list[str]] = {"up": [], "down": [], "same": []}
        for kpi in kpis:
            before, after = kpi.result_for(first), kpi.result_for(last)
            if before is None or after is None:
                return ""
            change = after.result - before.result
            key = "up" if change > 0 else "down" if change < 0 else "same"
            groups[key].append(self._text("overview_item", lang, name=kpi_short_name(kpi, lang),
                                          diff=_quantity(abs(change), kpi, lang)) if change else
                               self._text("overview_name", lang, name=kpi_short_name(kpi, lang)))
        separator = "、" if lang == "ja" else ", "
        lines = [self._text(f"overview_{key}", lang, earlier=fiscal_year_label(first, lang),
                            later=fiscal_year_label(last, lang), items=separator.join(groups[key]))
                 for key in (("down", "up", "same") if fell_first else ("up", "down", "same"))  # 「減ったKPIは？」
                 if groups[key]]
        return "\n".join(lines)

    def _extreme(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The year with the most (or least) of a KPI, or with the largest rise from the year before."""
        items = list(kpi.yearly)
        lines: list[str] = []
        if query.aspect in ("rise", "least_rise") and len(items) >= 2:
            rises = [(items[i].result - items[i - 1].result, items[i]) for i in range(1, len(items))]
            rise, item = (min if query.aspect == "least_rise" else max)(rises, key=lambda pair: pair[0])
            previous = items[items.index(item) - 1].result
            percent = _growth(abs(rise), previous)
            change = self._text("change_up" if rise >= 0 else "change_down", lang, diff=_quantity(abs(rise), kpi, lang),
                                percent=f"{percent}%" if percent is not None else "—")
            lines.append(self._text("extreme_rise" if query.aspect == "rise" else "extreme_least_rise", lang,
                                    name=kpi_name(kpi, lang), label=fiscal_year_label(item.fiscal_year, lang),
                                    change=change))
        else:
            least = query.aspect == "least"
            chosen = (min if least else max)(items, key=lambda item: item.result)
            lines.append(self._text("extreme_least" if least else "extreme_most", lang, name=kpi_name(kpi, lang),
                                    label=fiscal_year_label(chosen.fiscal_year, lang),
                                    value=_quantity(chosen.result, kpi, lang),
                                    rate=rate_percent(chosen.result, kpi.target)))
        lines += [self._text("compare_line", lang, label=fiscal_year_label(item.fiscal_year, lang),
                             value=_quantity(item.result, kpi, lang)) for item in items]
        total = sum(item.result for item in kpi.yearly)
        lines.append(self._text("target_line", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                                target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target)))
        return "\n".join(lines)

    def _cumulative(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The cumulative result up to a year (the last by default), against the target: what remains or is over."""
        available = [item.fiscal_year for item in kpi.yearly]
        asked = [year for year in query.fiscal_years]
        shown, missing = self._known(kpi, asked)
        if asked and not shown:
            return "\n".join([kpi_name(kpi, lang), self._missing_note(missing, available, lang)])
        if query.aspect == "sum" and len(shown) < len(available):
            return self._sum(kpi, shown, missing, lang)
        until = max(shown) if shown else available[-1]
        total = sum(item.result for item in kpi.yearly if item.fiscal_year <= until)
        rate = rate_percent(total, kpi.target)
        period = fiscal_years_label([year for year in available if year <= until], lang)
        tail = self._against_target(kpi, total, lang)
        text = self._text("cumulative", lang, name=kpi_name(kpi, lang), period=period,
                          value=_quantity(total, kpi, lang), target=_quantity(kpi.target, kpi, lang), rate=rate,
                          tail=tail).rstrip()
        if query.aspect != "average":  # then the years it adds up, each with its rate, and the whole period's total
            lines = [text, *(self._text("compare_rate_line", lang, value=_quantity(item.result, kpi, lang),
                                        label=fiscal_year_label(item.fiscal_year, lang),
                                        rate=rate_percent(item.result, kpi.target))
                             for item in kpi.yearly if item.fiscal_year <= until)]
            if until < available[-1]:  # 「令和3年度にいくつで、累計は今どれくらい？」: up to now as well
                final = sum(item.result for item in kpi.yearly)
                lines.append(self._text("target_line", lang, period=self._period(lang, kpi),
                                        value=_quantity(final, kpi, lang), target=_quantity(kpi.target, kpi, lang),
                                        rate=rate_percent(final, kpi.target)))
            return "\n".join(lines)
        averaged = shown if len(shown) >= 2 else [year for year in available if year <= until]  # R3とR4の平均
        part = sum(self._value(kpi, year) for year in averaged)
        average = (Decimal(part) / len(averaged)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        pace = self._text("pace", lang, pace=_quantity(kpi.yearly_pace, kpi, lang),
                          target=_quantity(kpi.target, kpi, lang), years=len(kpi.yearly))
        return "\n".join([self._text("average", lang, name=kpi_name(kpi, lang), value=_quantity(average, kpi, lang),
                                      period=fiscal_years_label(averaged, lang), total=_quantity(part, kpi, lang),
                                      years=len(averaged)), text, pace])

    def _against_target(self, kpi: Kpi, total: int, lang: str) -> str:
        """What a running total leaves to the target, or how far it passed it and in which year."""
        if total < kpi.target:
            return self._text("cumulative_short", lang, gap=_quantity(kpi.target - total, kpi, lang))
        reached = _first_reaching(kpi, kpi.target)
        crossed = reached[0] if reached is not None else kpi.yearly[-1].fiscal_year
        return self._text("cumulative_over", lang, surplus=_quantity(total - kpi.target, kpi, lang),
                          label=fiscal_year_label(crossed, lang))

    def _sum(self, kpi: Kpi, shown: Sequence[int], missing: Sequence[int], lang: str) -> str:
        """The years named, added up (R3〜R5の合計), then each year's figure; from the first year, what remained."""
        total = sum(self._value(kpi, year) for year in shown)
        available = [item.fiscal_year for item in kpi.yearly]
        # From the first year the sum is a running total: what remained to the target, or how far it was passed.
        tail = self._against_target(kpi, total, lang) if sorted(shown) == available[:len(shown)] else ""
        lines = [self._text("sum", lang, name=kpi_name(kpi, lang), period=fiscal_years_label(shown, lang),
                            value=_quantity(total, kpi, lang), rate=rate_percent(total, kpi.target),
                            target=_quantity(kpi.target, kpi, lang), tail=tail).rstrip()]
        lines += [self._text("compare_line", lang, label=fiscal_year_label(year, lang),
                             value=_quantity(self._value(kpi, year), kpi, lang)) for year in sorted(shown)]
        if missing:
            lines.append(self._missing_note(missing, available, lang))
        return "\n".join(lines)

    def _crossed(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The year the cumulative result reached the target, if it did (or a year's figure passed a threshold)."""
        if query.threshold is not None:
            return self._passed(kpi, query.threshold, running=query.aspect == "sum", lang=lang)
        final = sum(item.result for item in kpi.yearly)
        reached = _first_reaching(kpi, kpi.target)
        if reached is not None:
            year, total = reached
            return self._text("crossed", lang, name=kpi_name(kpi, lang), label=fiscal_year_label(year, lang),
                              value=_quantity(total, kpi, lang), target=_quantity(kpi.target, kpi, lang),
                              rate=rate_percent(total, kpi.target), period=self._period(lang, kpi),
                              final=_quantity(final, kpi, lang), surplus=_quantity(final - kpi.target, kpi, lang))
        return self._text("crossed_not", lang, name=kpi_name(kpi, lang), value=_quantity(final, kpi, lang),
                          target=_quantity(kpi.target, kpi, lang), gap=_quantity(kpi.target - final, kpi, lang),
                          rate=rate_percent(final, kpi.target))

    def _passed(self, kpi: Kpi, threshold: int, running: bool, lang: str) -> str:
        """The first year a KPI's figure (or its running total) reached a threshold."""
        reached = _first_reaching(kpi, threshold, running)
        if reached is not None:
            year, value = reached
            return self._text("passed", lang, name=kpi_name(kpi, lang), value=_quantity(value, kpi, lang),
                              label=fiscal_year_label(year, lang), threshold=_quantity(threshold, kpi, lang))
        total = sum(item.result for item in kpi.yearly)
        best = max(kpi.yearly, key=lambda item: item.result)
        return self._text("passed_not", lang, name=kpi_name(kpi, lang), threshold=_quantity(threshold, kpi, lang),
                          label=fiscal_year_label(best.fiscal_year, lang), value=_quantity(best.result, kpi, lang),
                          total=_quantity(total, kpi, lang))

    def _ranked(self, kpis: Sequence[Kpi], query: KpiQuery, lang: str) -> str:
        """KPIs set against each other by their rates (counts differ in unit): in the years asked, or cumulative."""
        if query.aspect == "single":
            return self._best_single_year(kpis, lang)
        if query.aspect == "rise":
            return self._best_rise(kpis, query.fiscal_years, lang)
        years = sorted(set(query.fiscal_years))
        rated: list[tuple[Decimal, int, Kpi]] = []
        for kpi in kpis:
            items = [item for item in kpi.yearly if not years or item.fiscal_year in years]
            if items:
                total = sum(item.result for item in items)
                rated.append((rate_percent(total, kpi.target), total, kpi))
        if not rated:
            return self._missing_note(years, self._years, lang)
        rated.sort(key=lambda row: row[0], reverse=True)
        scope = fiscal_years_label(years, lang) if years else self._text("scope_cumulative", lang,
                                                                          period=self._period(lang))
        if len(kpis) == 2 and len(rated) == 2:
            (high, high_value, upper), (low, low_value, lower) = rated
            lines = [self._text("between_two", lang, scope=scope, upper=kpi_short_name(upper, lang), high=high,
                                lower=kpi_short_name(lower, lang), low=low, points=high - low)]
            (more_value, more), (less_value, less) = sorted(((high_value, upper), (low_value, lower)),
                                                            key=lambda pair: pair[0], reverse=True)  # in numbers
            if query.aspect == "count" or upper.unit == lower.unit:
                unit_note = "" if upper.unit == lower.unit else self._text("between_units", lang)
                lines.append(self._text("between_count", lang, more=kpi_short_name(more, lang),
                                        value_more=_quantity(more_value, more, lang), less=kpi_short_name(less, lang),
                                        value_less=_quantity(less_value, less, lang),
                                        diff=_number(more_value - less_value), note=unit_note).rstrip())
                if query.aspect == "count":  # asked in numbers: that answer first
                    lines.reverse()
            if query.aspect == "ratio" and low and less_value:
                ratio = Decimal(high / low).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                count_ratio = (Decimal(more_value) / Decimal(less_value)).quantize(Decimal("0.1"),
                                                                                   rounding=ROUND_HALF_UP)
                lines.insert(0, self._text("between_ratio", lang, upper=kpi_short_name(upper, lang),
                                           lower=kpi_short_name(lower, lang), rate_ratio=ratio,
                                           more=kpi_short_name(more, lang), less=kpi_short_name(less, lang),
                                           count_ratio=count_ratio))
        else:
            rate, _, kpi = rated[-1] if query.aspect == "worst" else rated[0]
            lines = [self._text("best_worst" if query.aspect == "worst" else "best_best", lang, scope=scope,
                                name=kpi_short_name(kpi, lang), rate=rate)]
        lines += [self._text("rank_line", lang, name=kpi_short_name(kpi, lang), value=_quantity(total, kpi, lang),
                             target=_quantity(kpi.target, kpi, lang), rate=rate) for rate, total, kpi in rated]
        missing = [year for year in years if year not in self._years]
        if missing:
            lines.append(self._missing_note(missing, self._years, lang))
        lines.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n".join(lines)

    def _best_rise(self, kpis: Sequence[Kpi], years: Sequence[int], lang: str) -> str:
        """The KPI that grew most (in per cent) into a year from the year before: the year asked, or the latest."""
        year = max(years) if years else self._years[-1]
        rises: list[tuple[Decimal, int, int, Kpi]] = []
        for kpi in kpis:
            now, before = kpi.result_for(year), kpi.result_for(year - 1)
            if now is not None and before is not None and before.result:
                change = now.result - before.result
                rises.append((_growth(change, before.result) or Decimal(0), change, now.result, kpi))
        if not rises:
            return self._missing_note([year], self._years, lang)
        rises.sort(key=lambda row: row[0], reverse=True)

        def change_text(percent: Decimal, change: int, kpi: Kpi) -> str:
            return self._text("change_up" if change >= 0 else "change_down", lang,
                              diff=_quantity(abs(change), kpi, lang), percent=f"{abs(percent)}%")

        percent, change, _, kpi = rises[0]
        lines = [self._text("rise_best", lang, label=fiscal_year_label(year, lang), name=kpi_short_name(kpi, lang),
                            change=change_text(percent, change, kpi))]
        lines += [self._text("rise_line", lang, name=kpi_short_name(kpi, lang),
                             change=change_text(percent, change, kpi)) for percent, change, _, kpi in rises]
        return "\n".join(lines)

    def _best_single_year(self, kpis: Sequence[Kpi], lang: str) -> str:
        """The one year of one KPI with the highest rate, then each KPI's best year."""
        best = [(*max(((rate_percent(item.result, kpi.target), item.fiscal_year, item.result) for item in kpi.yearly),
                      key=lambda row: row[0]), kpi) for kpi in kpis]
        best.sort(key=lambda row: row[0], reverse=True)
        rate, year, value, kpi = best[0]
        lines = [self._text("best_single", lang, name=kpi_short_name(kpi, lang), label=fiscal_year_label(year, lang),
                            value=_quantity(value, kpi, lang), rate=rate)]
        lines += [self._text("best_single_line", lang, name=kpi_short_name(kpi, lang),
                             label=fiscal_year_label(year, lang), rate=rate) for rate, year, _, kpi in best]
        lines.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n".join(lines)
