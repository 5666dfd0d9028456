"""Fiscal years (年度): which one a day is in, finding them in text, naming them."""

from __future__ import annotations

from datetime import date

import pytest

from navigator_bot.fiscal_year import fiscal_year_label, fiscal_year_of, fiscal_years_label, parse_fiscal_years

TODAY = date(2026, 11, 26)  # in FY2026 (令和8年度)
LAST_DAY_OF_FY2023 = date(2024, 3, 31)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 3, 31), 2023),
        (date(2024, 4, 1), 2024),
        (date(2026, 11, 26), 2026),
        (date(2027, 1, 1), 2026),
        (date(2019, 5, 1), 2019),  # the first day of 令和 is in FY2019 (令和元年度)
    ],
)
def test_fiscal_year_of(day: date, expected: int) -> None:
    assert fiscal_year_of(day) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和3年度", [2021]),
        ("令和３年度", [2021]),
        ("令和 3 年度の実績", [2021]),
        ("令和元年度", [2019]),
        ("令和五年度", [2023]),
        ("R3", [2021]),
        ("R3年度", [2021]),
        ("r3", [2021]),
        ("Ｒ３", [2021]),
        ("R4の就職件数は？", [2022]),
        ("2021年度", [2021]),
        ("２０２１年度", [2021]),
        ("FY2021", [2021]),
        ("fy 2021", [2021]),
        ("FY21", [2021]),
        ("fiscal year 2021", [2021]),
        ("2021", [2021]),
        ("2021年の実績", [2021]),
        ("平成31年度", [2019]),
        ("H31", [2019]),
        ("平成三十一年度", [2019]),
        ("れいわ5ねんど", [2023]),  # typed in kana on a phone
        ("令和4年度と5年度の合計", [2022, 2023]),  # the later number in the same era
        ("R3、4年度", [2021, 2022]),
        ("from FY2020 to FY2022", [2020, 2021, 2022]),
        ("FY2021 through FY2023", [2021, 2022, 2023]),
        ("R4と5件", [2022]),  # 5件 is a count
    ],
)
def test_explicit_years(text: str, expected: list[int]) -> None:
    assert parse_fiscal_years(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今年度", [2026]),
        ("本年度", [2026]),
        ("当年度", [2026]),
        ("昨年度", [2025]),
        ("前年度", [2025]),
        ("一昨年度", [2024]),
        ("来年度", [2027]),
        ("再来年度", [2028]),
        ("今年の実績", [2026]),
        ("去年", [2025]),
        ("this fiscal year", [2026]),
        ("last year", [2025]),
    ],
)
def test_relative_years(text: str, expected: list[int]) -> None:
    assert parse_fiscal_years(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("今年度", [2023]), ("昨年度", [2022]), ("来年度", [2024])],
)
def test_relative_years_on_the_last_day_of_a_fiscal_year(text: str, expected: list[int]) -> None:
    assert parse_fiscal_years(text, LAST_DAY_OF_FY2023) == expected


@pytest.mark.parametrize(
    "text",
    [
        "令和2〜5年度",
        "令和2～5年度",
        "令和2年度〜令和5年度",
        "令和2年度から令和5年度まで",
        "R2-R5",
        "R2〜R5",
        "r2-5",
        "2020〜2023年度",
        "2020-2023",
        "2020年度から2023年度",
        "2020〜23年度",
        "FY2020-FY2023",
        "令和2年度〜2023年度",
    ],
)
def test_ranges_are_expanded(text: str) -> None:
    assert parse_fiscal_years(text, TODAY) == [2020, 2021, 2022, 2023]


def test_a_reversed_range_is_still_every_year_between() -> None:
    assert parse_fiscal_years("R5〜R2", TODAY) == [2020, 2021, 2022, 2023]


def test_several_years_in_order_without_duplicates() -> None:
    assert parse_fiscal_years("R4とR3、それと令和4年度と2020年度", TODAY) == [2022, 2021, 2020]
    assert parse_fiscal_years("今年と去年", TODAY) == [2026, 2025]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年3月の実績", [2023]),  # March belongs to the fiscal year that began the April before
        ("2024年4月", [2024]),
        ("2024/3/31", [2023]),
        ("2024-04-01", [2024]),
        ("令和6年3月", [2023]),
    ],
)
def test_a_month_counts_as_the_fiscal_year_it_is_in(text: str, expected: list[int]) -> None:
    assert parse_fiscal_years(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "正社員就職件数は？",
        "目標は3,300件です",
        "累計14317人",
        "2023件",
        "2,023件",
        "2021人が登録",
        "20.21%",
        "2021.5",
        "2001年生まれです",
        "2020年代",
        "電話は017-734-2021",
        "年度末に相談したい",
        "h2o",
        "year2",
    ],
)
def test_counts_and_other_numbers_are_not_years(text: str) -> None:
    assert parse_fiscal_years(text, TODAY) == []


def test_years_next_to_counts() -> None:
    assert parse_fiscal_years("令和4年度は972件、R5は1,033件", TODAY) == [2022, 2023]
    assert parse_fiscal_years("R2-5件", TODAY) == [2020]  # 5件 is a count, not the end of a range


@pytest.mark.parametrize(
    ("fy", "ja", "en"),
    [
        (2020, "令和2年度", "FY2020 (Reiwa 2)"),
        (2019, "令和元年度", "FY2019 (Reiwa 1)"),
        (2023, "令和5年度", "FY2023 (Reiwa 5)"),
        (2018, "平成30年度", "FY2018 (Heisei 30)"),
        (1989, "平成元年度", "FY1989 (Heisei 1)"),
    ],
)
def test_fiscal_year_label(fy: int, ja: str, en: str) -> None:
    assert fiscal_year_label(fy, "ja") == ja
    assert fiscal_year_label(fy, "en") == en


def test_fiscal_years_label_collapses_runs() -> None:
    assert fiscal_years_label([2020, 2021, 2022, 2023], "ja") == "令和2〜5年度"
    assert fiscal_years_label([2023, 2020, 2021, 2022], "en") == "FY2020–2023 (Reiwa 2–5)"
    assert fiscal_years_label([2019, 2020], "ja") == "令和元〜2年度"
    assert fiscal_years_label([2020, 2022], "ja") == "令和2年度、令和4年度"
    assert fiscal_years_label([2018, 2019], "ja") == "平成30年度〜令和元年度"
    assert fiscal_years_label([2024], "ja") == "令和6年度"


def test_every_label_parses_back() -> None:
    for fy in range(2019, 2040):
        assert parse_fiscal_years(fiscal_year_label(fy, "ja"), TODAY) == [fy]
        assert parse_fiscal_years(fiscal_year_label(fy, "en"), TODAY)[0] == fy
