"""Run the evaluation set (tests/eval/queries.yaml) through the understanding module and score it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from navigator_bot.catalog import Catalog
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding

QUERIES = Path(__file__).parent / "eval" / "queries.yaml"
DEV = Path(__file__).parent / "eval" / "dev.yaml"
HOLDOUT = Path(__file__).parent / "eval" / "holdout.yaml"
EVAL_TODAY = dt.date(2026, 11, 26)


@dataclass
class EvalReport:
    """Scores over the evaluation set, with the failures for reading."""

    measure_cases: int = 0
    top1: int = 0
    top3: int = 0
    other_cases: dict[str, int] = field(default_factory=dict)
    other_right: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def rate(self, right: int, total: int) -> float:
        """Return right/total as a fraction (1.0 when there is nothing to score)."""
        return right / total if total else 1.0

    def lines(self) -> list[str]:
        """Return a readable summary."""
        out = [f"measure queries: {self.measure_cases}, top-1 {self.rate(self.top1, self.measure_cases):.1%}, "
               f"top-3 {self.rate(self.top3, self.measure_cases):.1%}"]
        for intent, total in sorted(self.other_cases.items()):
            out.append(f"{intent}: {self.other_right.get(intent, 0)}/{total}")
        return out + [f"  FAIL {failure}" for failure in self.failures]


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    """Return the evaluation cases of a set."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def evaluate(catalog: Catalog, path: Path = QUERIES) -> EvalReport:
    """Score every case of an evaluation set."""
    understanding = Understanding(catalog, Translator(), today=lambda: EVAL_TODAY)
    report = EvalReport()
    for case in load_queries(path):
        expect = case["expect"]
        answer = understanding.interpret(case["q"])
        ids = [match.measure.id for match in answer.matches]
        if expect["intent"] == "measures":
            report.measure_cases += 1
            wanted = set(expect["any_of"])
            if answer.intent == "measures" and ids[:1] and ids[0] in wanted:
                report.top1 += 1
            if answer.intent == "measures" and wanted.intersection(ids[:3]):
                report.top3 += 1
            else:
                report.failures.append(f"{case['q']!r}: got {answer.intent} {ids[:3]}, wanted {sorted(wanted)}")
            continue
        intent = expect["intent"]
        report.other_cases[intent] = report.other_cases.get(intent, 0) + 1
        right = answer.intent == intent and all(text in answer.text for text in expect.get("contains", []))
        if right:
            report.other_right[intent] = report.other_right.get(intent, 0) + 1
        else:
            report.failures.append(f"{case['q']!r}: got {answer.intent}, wanted {intent} {expect.get('contains', [])}")
    return report
