"""Japanese fiscal years (年度, 1 April – 31 March): find them in free text and label them.

A fiscal year is named by the calendar year it starts in: 2021 = 令和3年度 = 2021-04-01 – 2022-03-31.
Today's date is always passed in, so that relative words (今年度, 昨年度) are testable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

_REIWA_OFFSET = 2018  # 令和N年度 = FY(2018 + N)
_HEISEI_OFFSET = 1988  # 平成N年度 = FY(1988 + N)
_MAX_RANGE_SPAN = 50  # a wider "range" is more likely two unrelated years than one period

_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# Building blocks, applied to NFKC-normalized lowercase text (full-width digits and Ｒ are folded by NFKC).
_NUM = r"(?:元|\d{1,2}(?!\d)|[一二三四五六七八九十]{1,3})"
# r/h count as an era only when not glued to a preceding letter or digit (e.g. not the r of "year2").
_ERA = r"(?:令和|平成|(?<![a-z])reiwa\s*|(?<![a-z])heisei\s*|(?<![a-z0-9])[rh])"
_SUFFIX = r"(?:\s*年度?)"
_DASH = r"\s*[〜~\-‐‑–—―−ー]\s*"
_KARA = r"\s*から\s*"
# A number followed by a counting unit is a count, not a year (R2-5件, 2023件).
_NO_UNIT = r"(?!\s*[\d件人市名回個社円万千億%歳])"
# A four-digit year 2000–2099 that is not part of a longer number, a decimal or a thousands-separated count.
_WEST = r"(?<![\d,.])20\d\d(?!\d|[.,]\d)"
_WEST_SINGLE = r"(?<![\d,./])(?<!\d-)20\d\d(?!\d|[.,]\d)"
_FY = r"(?:(?<![a-z])fy|fiscal\s*year)\s*"
_AND = r"\s*(?:と|、|,|・|及び|および)\s*"
# Kana spellings typed on a phone: れいわ5ねんど.
_KANA_WORDS = re.compile("れいわ|へいせい|ねんど")
_KANA_FOLD = {"れいわ": "令和", "へいせい": "平成", "ねんど": "年度"}

_PATTERN = re.compile(
    "|".join(
        [
            # 令和2〜5年度, R2-R5, 令和2年度から令和5年度, R2-5
            rf"(?P<era_range>{_ERA}\s*{_NUM}(?![a-z]){_SUFFIX}?"
            rf"(?:{_DASH}(?:{_ERA}\s*)?{_NUM}(?![a-z]){_SUFFIX}?{_NO_UNIT}"
            rf"|{_KARA}(?:{_ERA}\s*{_NUM}{_SUFFIX}?|{_NUM}{_SUFFIX})))",
            # 2020〜2023年度, FY2020-FY2023, 2020年度から2023年度, 2020〜23年度
            rf"(?P<west_range>(?:{_FY})?{_WEST}{_SUFFIX}?(?:{_DASH}|{_KARA})"
            rf"(?:(?:{_FY})?{_WEST}{_SUFFIX}?|\d\d(?=\s*年度)))",
            # 令和6年3月 (a month belongs to the fiscal year containing it)
            rf"(?P<era_date>{_ERA}\s*{_NUM}\s*年\s*\d{{1,2}}\s*月)",
            # 2024年3月, 2024/3/31, 2024-03-31
            rf"(?P<west_date>{_WEST_SINGLE}\s*(?:年\s*\d{{1,2}}\s*月|[/.\-]\d{{1,2}}(?!\d)(?:[/.\-]\d{{1,2}}(?!\d))?))",
            # 令和4年度と5年度, R3、4年度: the later numbers are in the same era
            rf"(?P<era_list>{_ERA}\s*{_NUM}(?![a-z]){_SUFFIX}?(?:{_AND}{_NUM}\s*年度)+)",
            rf"(?P<era>{_ERA}\s*{_NUM}(?![a-z]){_SUFFIX}?)",
            # FY20-21, FY2020-21
            rf"(?P<fy_range>{_FY}(?:20)?\d\d{_DASH}(?:{_FY})?(?:20)?\d\d(?!\d))",
            rf"(?P<fy>{_FY}(?:{_WEST}|\d\d(?!\d)))",
            # 2021年度, 2021年 (not 2001年生まれ / 2020年代 / 2020年間), bare 2021 (not 2021件)
            rf"(?P<west>{_WEST_SINGLE}(?:\s*年度|\s*年(?![生代間])|(?!\s*年){_NO_UNIT}))",
            r"(?P<rel>(?:一昨|再来|今|本|当|昨|前|来|翌|次)年度|(?:一昨|再来|今|本|当|昨|去|来)年(?!度)|おととし)",
            r"(?P<rel_en>(?<![a-z])(?:this|current|last|previous|next)\s*(?:fiscal\s*)?year)",
        ]
    )
)
_RELATIVE = {
    "一昨": -2, "おととし": -2, "昨": -1, "前": -1, "去": -1,
    "今": 0, "本": 0, "当": 0, "来": 1, "翌": 1, "次": 1, "再来": 2,
    "this": 0, "current": 0, "last": -1, "previous": -1, "next": 1,
}  # fmt: skip
_RELATIVE_KEY = re.compile(r"^(一昨|再来|おととし|this|current|last|previous|next|.)")
_ERA_PART = re.compile(rf"(令和|平成|reiwa|heisei|[rh])?\s*({_NUM})")
_WEST_PART = re.compile(r"(?<!\d)(\d{4}|\d\d)(?!\d)")
# Every form above has a digit, an era, 年 or "year" in it: a text with none of them is skipped at once.
_ANY_YEAR_HINT = re.compile(r"[0-9元一二三四五六七八九十年]|year|おととし")
_CONNECTOR_ONLY = re.compile(rf"^(?:{_DASH}|{_KARA}|\s+(?:to|through|thru|until|till)\s+)$")


def fiscal_year_of(day: date) -> int:
    """Return the start year of the fiscal year containing `day` (2024-03-31 → 2023, 2024-04-01 → 2024)."""
    return day.year if day.month >= 4 else day.year - 1


def _number(token: str) -> int:
    """Read an era year number: 元, ASCII digits or simple kanji numerals (三, 十二, 二十三)."""
    if token == "元":
        return 1
    if token.isdigit():
        return int(token)
    tens, _, ones = token.rpartition("十")
    if "十" not in token:
        return _KANJI_DIGITS.get(token, 0)
    return (_KANJI_DIGITS.get(tens, 0) if tens else 1) * 10 + _KANJI_DIGITS.get(ones, 0)


def _era_year(era: str | None, number: int) -> int | None:
    if number < 1:
        return None
    return (_HEISEI_OFFSET if era in ("平成", "h", "heisei") else _REIWA_OFFSET) + number


def _span(first: int, last: int) -> list[int]:
    low, high = sorted((first, last))
    if high - low > _MAX_RANGE_SPAN:
        return [first, last]
    return list(range(low, high + 1))


def _era_range(matched: str) -> list[int]:
    parts = _ERA_PART.findall(matched)
    first_era = parts[0][0]
    first = _era_year(first_era, _number(parts[0][1]))
    last = _era_year(parts[-1][0] or first_era, _number(parts[-1][1]))
    if first is None or last is None:
        return [year for year in (first, last) if year is not None]
    return _span(first, last)


def _west_range(matched: str) -> list[int]:
    numbers = _WEST_PART.findall(matched)
    first = int(numbers[0])
    last = int(numbers[-1]) if len(numbers[-1]) == 4 else first - first % 100 + int(numbers[-1])
    return _span(first, last)


def _from_date(year: int | None, matched: str) -> list[int]:
    month = int(re.findall(r"\d+", matched.split("年", 1)[-1] if "年" in matched else matched[4:])[0])
    if year is None or not 1 <= month <= 12:
        return []
    return [fiscal_year_of(date(year, month, 1))]


def _years_of(kind: str, matched: str, today: date) -> list[int]:
    """Turn one match of `_PATTERN` into the fiscal years it names."""
    if kind == "era_range":
        return _era_range(matched)
    if kind == "west_range":
        return _west_range(matched)
    if kind == "era_date":
        era, number = _ERA_PART.findall(matched)[0]
        return _from_date(_era_year(era, _number(number)), matched)
    if kind == "west_date":
        return _from_date(int(matched[:4]), matched)
    if kind == "era_list":
        parts = _ERA_PART.findall(matched)
        listed = [_era_year(era or parts[0][0], _number(number)) for era, number in parts]
        return [year for year in listed if year is not None]
    if kind == "era":
        era, number = _ERA_PART.findall(matched)[0]
        year = _era_year(era, _number(number))
        return [year] if year is not None else []
    if kind == "fy_range":
        first, last = (int(digits) % 100 + 2000 for digits in re.findall(r"\d{2,4}", matched))
        return _span(first, last)
    if kind == "fy":
        digits = _WEST_PART.findall(matched)[-1]
        return [int(digits) if len(digits) == 4 else 2000 + int(digits)]
    if kind == "west":
        return [int(matched[:4])]
    key = _RELATIVE_KEY.match(matched)
    return [fiscal_year_of(today) + _RELATIVE[key.group(1) if key else ""]]


def parse_fiscal_years(text: str, today: date) -> list[int]:
    """Return every fiscal year mentioned in `text`, in order of mention, ranges expanded, without duplicates."""
    folded = _KANA_WORDS.sub(lambda match: _KANA_FOLD[match.group(0)], unicodedata.normalize("NFKC", text).lower())
    if not _ANY_YEAR_HINT.search(folded):
        return []
    found: list[tuple[int, int, list[int], bool]] = []  # (start, end, years, is a single year)
    for match in _PATTERN.finditer(folded):
        kind = match.lastgroup or ""
        years = _years_of(kind, match.group(0), today)
        if years:
            found.append((match.start(), match.end(), years, kind not in ("era_range", "west_range")))
    years: list[int] = []
    index = 0
    while index < len(found):
        _, end, current, single = found[index]
        if single and index + 1 < len(found):
            next_start, _, following, next_single = found[index + 1]
            # Mixed forms joined by a connector form one range: 令和2年度〜2023年度.
            if next_single and _CONNECTOR_ONLY.match(folded[end:next_start]):
                years.extend(_span(current[0], following[0]))
                index += 2
                continue
        years.extend(current)
        index += 1
    return list(dict.fromkeys(years))


def fiscal_year_label(fy: int, lang: str) -> str:
    """Name a fiscal year: 令和2年度 / 令和元年度 (2019) in Japanese, "FY2020 (Reiwa 2)" in English."""
    era = _era_of(fy)
    if era is None:
        return f"FY{fy}" if lang == "en" else f"{fy}年度"
    name_ja, name_en, number = era
    if lang == "en":
        return f"FY{fy} ({name_en} {number})"
    return f"{name_ja}{_era_number(number)}年度"


def fiscal_years_label(years: Iterable[int], lang: str) -> str:
    """Name a set of fiscal years, runs collapsed: 令和2〜5年度 / "FY2020–2023 (Reiwa 2–5)"."""
    runs: list[tuple[int, int]] = []
    for year in sorted(set(years)):
        if runs and runs[-1][1] == year - 1:
            runs[-1] = (runs[-1][0], year)
        else:
            runs.append((year, year))
    return (", " if lang == "en" else "、").join(_run_label(first, last, lang) for first, last in runs)


def _run_label(first: int, last: int, lang: str) -> str:
    if first == last:
        return fiscal_year_label(first, lang)
    start, end = _era_of(first), _era_of(last)
    if start is None or end is None or start[0] != end[0]:
        if lang == "en":
            return f"FY{first}–{last}"
        return f"{fiscal_year_label(first, lang)}〜{fiscal_year_label(last, lang)}"
    if lang == "en":
        return f"FY{first}–{last} ({start[1]} {start[2]}–{end[2]})"
    return f"{start[0]}{_era_number(start[2])}〜{end[2]}年度"


def _era_number(number: int) -> str:
    return "元" if number == 1 else str(number)


def _era_of(fy: int) -> tuple[str, str, int] | None:
    """Return (Japanese era, English era, year number) of a fiscal year, or None before 平成."""
    if fy > _REIWA_OFFSET:
        return "令和", "Reiwa", fy - _REIWA_OFFSET
    if fy > _HEISEI_OFFSET:
        return "平成", "Heisei", fy - _HEISEI_OFFSET
    return None
