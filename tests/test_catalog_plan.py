"""The catalog holds the whole plan, word for word and figure for figure."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from navigator_bot.catalog import Catalog, rate_percent
from tests.plan_source import category_headings, kpi_rows, measure_rows

ROWS = measure_rows()
KPIS = kpi_rows()


def test_plan_parser_sees_the_whole_plan() -> None:
    assert len(ROWS) == 29
    assert len({(row.title, row.summary) for row in ROWS}) == 26
    assert len(KPIS) == 4


def test_counts(catalog: Catalog) -> None:
    assert len(catalog.categories) == 4
    assert len(catalog.measures) == 26
    assert catalog.listing_count == 29
    assert len(catalog.kpis) == 4


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.category_number}-{row.position}" for row in ROWS])
def test_every_plan_row_is_a_listing_of_the_same_measure(catalog: Catalog, row) -> None:
    category = next(c for c in catalog.categories.values() if c.number == row.category_number)
    listed = [
        (measure, listing)
        for measure in catalog.measures.values()
        for listing in measure.listings
        if listing.category == category.id and listing.position == row.position
    ]
    assert len(listed) == 1, f"row {row.position} of category {row.category_number} is listed {len(listed)} times"
    measure, listing = listed[0]
    assert measure.title == row.title
    assert measure.summary == row.summary
    assert tuple(catalog.agencies[agency].short_name for agency in measure.agencies) == row.agencies
    assert listing.repost == row.repost


def test_no_listing_outside_the_plan(catalog: Catalog) -> None:
    plan = {(row.category_number, row.position) for row in ROWS}
    numbers = {category.id: category.number for category in catalog.categories.values()}
    listed = {(numbers[listing.category], listing.position)
              for measure in catalog.measures.values() for listing in measure.listings}
    assert listed == plan


def test_same_title_different_measures_are_kept_apart(catalog: Catalog) -> None:
    same_title = [m for m in catalog.measures.values() if m.title == "企業への働きかけ"]
    assert len(same_title) == 2
    assert same_title[0].id != same_title[1].id
    assert same_title[0].summary != same_title[1].summary


def test_category_titles_and_whom_they_serve(catalog: Catalog) -> None:
    for number, heading in category_headings().items():
        category = next(c for c in catalog.categories.values() if c.number == number)
        expected = f"{category.title}({category.serves})" if category.serves else category.title
        assert heading == expected


def _as_int(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize("row", KPIS, ids=[row.name for row in KPIS])
def test_every_kpi_figure(catalog: Catalog, row) -> None:
    kpi = next(k for k in catalog.kpis.values() if k.name == row.name)
    assert catalog.categories[kpi.category].number == row.category_number
    assert kpi.target == _as_int(row.target)
    assert kpi.cumulative_result == _as_int(row.cumulative)
    assert kpi.cumulative_published_rate == row.cumulative_rate
    assert [(item.fiscal_year, item.result, item.published_rate) for item in kpi.yearly] == [
        (2020 + index, _as_int(result), rate) for index, (result, rate) in enumerate(row.yearly)
    ]


def test_rate_rounding_is_half_up_to_a_tenth() -> None:
    assert rate_percent(781, 3300) == Decimal("23.7")
    assert rate_percent(1, 8) == Decimal("12.5")
    assert rate_percent(1, 16) == Decimal("6.3")  # 6.25 rounds up, as published tables do


def test_agencies_have_full_names_and_only_confirmed_urls(catalog: Catalog) -> None:
    for agency in catalog.agencies.values():
        assert agency.full_name != agency.short_name
        if agency.url:
            assert agency.verified, f"{agency.id} has a URL but its name is not confirmed"
    assert catalog.agencies["jeed"].verified is False
    assert catalog.agencies["labour-bureau"].url == "https://jsite.mhlw.go.jp/aomori-roudoukyoku/"


def test_crisis_lines_from_facts(catalog: Catalog) -> None:
    numbers = {line.name: line.number for line in catalog.crisis.lines}
    assert numbers["よりそいホットライン"] == "0120-279-338"
    assert numbers["あおもりいのちの電話"] == "0172-33-7830"
    assert numbers["こころの健康相談統一ダイヤル"] == "0570-064-556"
    assert {e.number for e in catalog.crisis.emergency} == {"119", "110"}
    assert all(line.source for line in catalog.crisis.lines)


def test_phone_numbers_live_only_in_sourced_contacts(catalog: Catalog) -> None:
    phone = re.compile(r"\d{2,5}-\d{1,4}-\d{3,4}")
    for facility in catalog.facilities.values():
        assert not phone.search(json.dumps(facility.model_dump(exclude={"contacts"}), ensure_ascii=False)), facility.id
        for contact in facility.contacts:
            assert contact.source and contact.as_of and contact.confidence in ("high", "medium"), facility.id
