"""The matching quality on the evaluation set may not fall below the level reached."""

from __future__ import annotations

import pytest

from navigator_bot.catalog import Catalog
from tests.evaluation import EvalReport, evaluate, load_queries

# Levels reached when this guard was set; raise them when the matching improves, never lower them.
MIN_TOP3 = 0.95
MIN_TOP1 = 0.80


@pytest.fixture(scope="module")
def report(catalog: Catalog) -> EvalReport:
    result = evaluate(catalog)
    print("\n".join(result.lines()))
    return result


def test_the_set_is_large_and_varied() -> None:
    queries = load_queries()
    assert len(queries) >= 80
    intents = {case["expect"]["intent"] for case in queries}
    assert intents == {"measures", "kpi", "crisis", "help"}
    assert {case["who"] for case in queries} >= {"self", "family", "employer", "supporter", "other"}


def test_top3_accuracy(report: EvalReport) -> None:
    assert report.rate(report.top3, report.measure_cases) >= MIN_TOP3, "\n".join(report.lines())


def test_top1_accuracy(report: EvalReport) -> None:
    assert report.rate(report.top1, report.measure_cases) >= MIN_TOP1, "\n".join(report.lines())


@pytest.mark.parametrize("intent", ["kpi", "crisis", "help"])
def test_kpi_crisis_and_off_topic_are_all_right(report: EvalReport, intent: str) -> None:
    assert report.other_cases[intent] >= 8
    assert report.other_right.get(intent, 0) == report.other_cases[intent], "\n".join(report.lines())
