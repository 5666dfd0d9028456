"""The matching quality on the evaluation set may not fall below the level reached."""

from __future__ import annotations

import pytest

from navigator_bot.catalog import Catalog
from tests.evaluation import DEV, HOLDOUT, EvalReport, evaluate, load_queries

# Levels reached when this guard was set; raise them when the matching improves, never lower them.
# queries.yaml and dev.yaml were used to tune the matching; holdout.yaml never was: its score is the honest one.
LEVELS = {
    "queries": {"top1": 1.0, "top3": 1.0},
    "dev": {"top1": 0.88, "top3": 0.92},
    "holdout": {"top1": 0.75, "top3": 0.78},
}
SETS = {"dev": DEV, "holdout": HOLDOUT}


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
    assert report.rate(report.top3, report.measure_cases) >= LEVELS["queries"]["top3"], "\n".join(report.lines())


def test_top1_accuracy(report: EvalReport) -> None:
    assert report.rate(report.top1, report.measure_cases) >= LEVELS["queries"]["top1"], "\n".join(report.lines())


@pytest.mark.parametrize("intent", ["kpi", "crisis", "help"])
def test_kpi_crisis_and_off_topic_are_all_right(report: EvalReport, intent: str) -> None:
    assert report.other_cases[intent] >= 8
    assert report.other_right.get(intent, 0) == report.other_cases[intent], "\n".join(report.lines())


@pytest.mark.parametrize("name", sorted(SETS))
def test_dev_and_holdout_accuracy_do_not_fall(catalog: Catalog, name: str) -> None:
    result = evaluate(catalog, SETS[name])
    print("\n".join(result.lines()))
    assert len(load_queries(SETS[name])) >= 30
    assert result.rate(result.top3, result.measure_cases) >= LEVELS[name]["top3"], "\n".join(result.lines())
    assert result.rate(result.top1, result.measure_cases) >= LEVELS[name]["top1"], "\n".join(result.lines())
    for intent, total in result.other_cases.items():
        assert result.other_right.get(intent, 0) == total, "\n".join(result.lines())
