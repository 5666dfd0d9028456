"""The matching quality on the evaluation set may not fall below the level reached."""

from __future__ import annotations

import pytest

from navigator_bot.catalog import Catalog
from tests.evaluation import HOLDOUT, EvalReport, evaluate, load_queries

# Levels reached when this guard was set; raise them when the matching improves, never lower them.
# queries.yaml was used to tune the matching (reached: top-1 96.5 %, top-3 100 %).
MIN_TOP3 = 0.98
MIN_TOP1 = 0.95
# holdout.yaml was written afterwards and never tuned on (reached: top-1 50.0 %, top-3 65.4 %): the honest figure.
MIN_HOLDOUT_TOP3 = 0.65
MIN_HOLDOUT_TOP1 = 0.50


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


@pytest.fixture(scope="module")
def holdout(catalog: Catalog) -> EvalReport:
    result = evaluate(catalog, HOLDOUT)
    print("\n".join(result.lines()))
    return result


def test_holdout_accuracy_does_not_fall(holdout: EvalReport) -> None:
    assert len(load_queries(HOLDOUT)) >= 30
    assert holdout.rate(holdout.top3, holdout.measure_cases) >= MIN_HOLDOUT_TOP3, "\n".join(holdout.lines())
    assert holdout.rate(holdout.top1, holdout.measure_cases) >= MIN_HOLDOUT_TOP1, "\n".join(holdout.lines())


def test_holdout_kpi_crisis_and_off_topic_are_all_right(holdout: EvalReport) -> None:
    for intent, total in holdout.other_cases.items():
        assert holdout.other_right.get(intent, 0) == total, "\n".join(holdout.lines())
