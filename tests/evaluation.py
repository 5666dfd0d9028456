"""Score the evaluation sets (tests/eval/*.yaml) through the understanding, as a person's message would go.

Two kinds of set:
- understanding sets (`queries:`): a message and what must come back: a measure among the top 3 (`any_of`), or an
  intent (kpi, smalltalk, help …) with strings the reply must contain;
- crisis sets (`cases:`): a message and its kind: a crisis kind (the crisis reply, in the family form when
  `other: true`), danger (110), distress, a line request, or a look-alike that must not get the crisis reply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from navigator_bot.catalog import Catalog
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.semantic import Encoder

EVAL_DIR = Path(__file__).parent / "eval"
QUERIES = EVAL_DIR / "queries.yaml"
DEV = EVAL_DIR / "dev.yaml"
HOLDOUT = EVAL_DIR / "holdout.yaml"
BLIND = EVAL_DIR / "blind.yaml"
FRESH = EVAL_DIR / "fresh.yaml"
CRISIS_BLIND = EVAL_DIR / "crisis_blind.yaml"
CRISIS_FRESH = EVAL_DIR / "crisis_fresh.yaml"
FINAL = EVAL_DIR / "final.yaml"
CRISIS_FINAL = EVAL_DIR / "crisis_final.yaml"
CHECK = EVAL_DIR / "check.yaml"
CRISIS_CHECK = EVAL_DIR / "crisis_check.yaml"
CRISIS_HOLDOUT = EVAL_DIR / "crisis_holdout.yaml"
CRISIS_LAST = EVAL_DIR / "crisis_last.yaml"
ROUND7 = EVAL_DIR / "round7.yaml"
CRISIS_ROUND7 = EVAL_DIR / "crisis_round7.yaml"
ROUND8 = EVAL_DIR / "round8.yaml"
CRISIS_ROUND8 = EVAL_DIR / "crisis_round8.yaml"
ROUND9 = EVAL_DIR / "round9.yaml"
CRISIS_ROUND9 = EVAL_DIR / "crisis_round9.yaml"
ROUND10 = EVAL_DIR / "round10.yaml"
CRISIS_ROUND10 = EVAL_DIR / "crisis_round10.yaml"
ROUND11 = EVAL_DIR / "round11.yaml"
CRISIS_ROUND11 = EVAL_DIR / "crisis_round11.yaml"
ROUND12 = EVAL_DIR / "round12.yaml"
CRISIS_ROUND12 = EVAL_DIR / "crisis_round12.yaml"
ROUND13 = EVAL_DIR / "round13.yaml"
ROUND14 = EVAL_DIR / "round14.yaml"
CRISIS_ROUND14 = EVAL_DIR / "crisis_round14.yaml"
KPI_BLIND = EVAL_DIR / "kpi_blind.yaml"
KPI_FRESH = EVAL_DIR / "kpi_fresh.yaml"
ROUND15 = EVAL_DIR / "round15.yaml"
CRISIS_ROUND15 = EVAL_DIR / "crisis_round15.yaml"
KPI_FRESH2 = EVAL_DIR / "kpi_fresh2.yaml"
ROUND16 = EVAL_DIR / "round16.yaml"
CRISIS_ROUND16 = EVAL_DIR / "crisis_round16.yaml"
KPI_FRESH3 = EVAL_DIR / "kpi_fresh3.yaml"
ROUND17 = EVAL_DIR / "round17.yaml"
CRISIS_ROUND17 = EVAL_DIR / "crisis_round17.yaml"
KPI_FRESH4 = EVAL_DIR / "kpi_fresh4.yaml"
CRISIS_ROUND18 = EVAL_DIR / "crisis_round18.yaml"
CRISIS_ROUND19 = EVAL_DIR / "crisis_round19.yaml"
CRISIS_ROUND20 = EVAL_DIR / "crisis_round20.yaml"
CRISIS_ROUND21 = EVAL_DIR / "crisis_round21.yaml"
KPI_FRESH5 = EVAL_DIR / "kpi_fresh5.yaml"
KPI_FRESH6 = EVAL_DIR / "kpi_fresh6.yaml"
KPI_FRESH7 = EVAL_DIR / "kpi_fresh7.yaml"
CRISIS_ROUND22 = EVAL_DIR / "crisis_round22.yaml"
CRISIS_ROUND23 = EVAL_DIR / "crisis_round23.yaml"
CRISIS_ROUND24 = EVAL_DIR / "crisis_round24.yaml"
CRISIS_ROUND25 = EVAL_DIR / "crisis_round25.yaml"
CRISIS_ROUND26 = EVAL_DIR / "crisis_round26.yaml"
KPI_FRESH8 = EVAL_DIR / "kpi_fresh8.yaml"
KPI_FRESH9 = EVAL_DIR / "kpi_fresh9.yaml"
KPI_FRESH10 = EVAL_DIR / "kpi_fresh10.yaml"
KPI_FRESH11 = EVAL_DIR / "kpi_fresh11.yaml"
KPI_FRESH12 = EVAL_DIR / "kpi_fresh12.yaml"
KPI_FRESH13 = EVAL_DIR / "kpi_fresh13.yaml"
KPI_TRAIN2 = EVAL_DIR / "kpi_train2.yaml"
KPI_TRAIN3 = EVAL_DIR / "kpi_train3.yaml"
KPI_TRAIN4 = EVAL_DIR / "kpi_train4.yaml"
KPI_FRESH14 = EVAL_DIR / "kpi_fresh14.yaml"
KPI_FRESH15 = EVAL_DIR / "kpi_fresh15.yaml"
KPI_FRESH16 = EVAL_DIR / "kpi_fresh16.yaml"
KPI_FRESH17 = EVAL_DIR / "kpi_fresh17.yaml"
KPI_FRESH18 = EVAL_DIR / "kpi_fresh18.yaml"
KPI_FRESH19 = EVAL_DIR / "kpi_fresh19.yaml"
KPI_TRAIN = EVAL_DIR / "kpi_train.yaml"
KPI_EN_TRAIN = EVAL_DIR / "kpi_en_train.yaml"
CRISIS_ROUND13 = EVAL_DIR / "crisis_round13.yaml"
EVAL_TODAY = dt.date(2026, 11, 26)
EVAL_NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)  # 23:00 in Aomori: some lines closed
CRISIS_KINDS = frozenset({"wish", "selfharm", "method", "farewell", "worthless", "hopeless", "other", "carer",
                          "english"})


def build_understanding(catalog: Catalog, encoder: Encoder | None, cache_dir: Path | None) -> Understanding:
    """Return the understanding as the bot builds it, at a fixed date and time."""
    return Understanding(catalog, Translator(), today=lambda: EVAL_TODAY, now=lambda: EVAL_NOW,
                         encoder=encoder, cache_dir=cache_dir)


@dataclass
class EvalReport:
    """Scores over an understanding set, by intent and by group, with the failures for reading."""

    measure_cases: int = 0
    top1: int = 0
    top3: int = 0
    dead_ends: int = 0  # on-topic messages answered "could not find"
    other_cases: dict[str, int] = field(default_factory=dict)
    other_right: dict[str, int] = field(default_factory=dict)
    groups: Counter[str] = field(default_factory=Counter)
    groups_right: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def rate(self, right: int, total: int) -> float:
        """Return right/total as a fraction (1.0 when there is nothing to score)."""
        return right / total if total else 1.0

    def group_rate(self, group: str) -> float:
        """Return the share right in one group (english, dialect …)."""
        return self.rate(self.groups_right[group], self.groups[group])

    def lines(self) -> list[str]:
        """Return a readable summary."""
        out = [f"measure queries: {self.measure_cases}, top-1 {self.rate(self.top1, self.measure_cases):.1%}, "
               f"top-3 {self.rate(self.top3, self.measure_cases):.1%}, could-not-find {self.dead_ends}"]
        out += [f"{intent}: {self.other_right.get(intent, 0)}/{total}"
                for intent, total in sorted(self.other_cases.items())]
        out += [f"group {group}: {self.groups_right[group]}/{total}" for group, total in sorted(self.groups.items())]
        return out + [f"  FAIL {failure}" for failure in self.failures]


_REIWA_YEAR = re.compile(r"令和(\d+)年度")


def _shown(wanted: str, text: str, lang: str) -> bool:
    """Whether an answer shows a wanted figure; an English answer names 令和5年度 as "FY2023 (Reiwa 5)"."""
    era = _REIWA_YEAR.fullmatch(wanted)
    if lang == "en" and era:
        return f"(Reiwa {era.group(1)})" in text
    return wanted in text


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    """Return the cases of an understanding set."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def evaluate(understanding: Understanding, path: Path = QUERIES) -> EvalReport:
    """Score every case of an understanding set."""
    report = EvalReport()
    lang = yaml.safe_load(path.read_text(encoding="utf-8")).get("lang", "ja")  # the asker's language setting
    for case in load_queries(path):
        expect = case["expect"]
        message = understanding.read(case["q"])
        # as the engine does: a message written in English is answered in English, whatever the phone's language
        asked_in = "en" if message.english else lang
        answer = understanding.interpret(message, asked_in)
        ids = [match.measure.id for match in answer.matches]
        group = case.get("group", case.get("who", "other"))
        report.groups[group] += 1
        if expect["intent"] == "measures":
            report.measure_cases += 1
            wanted = set(expect["any_of"])
            # A direct question about a window (サポステって何歳まで？) is answered from the window; its measures count.
            listed = answer.intent in ("measures", "window")
            right = listed and bool(wanted.intersection(ids[:3]))
            report.top1 += listed and bool(ids[:1]) and ids[0] in wanted
            report.top3 += right
            report.dead_ends += answer.intent == "help"
            if not right:
                report.failures.append(f"{case['q']!r}: got {answer.intent} {ids[:3]}, wanted {sorted(wanted)}")
        else:
            intent = expect["intent"]
            report.other_cases[intent] = report.other_cases.get(intent, 0) + 1
            right = answer.intent == intent and all(_shown(text, answer.text, asked_in)
                                                    for text in expect.get("contains", []))
            if right:
                report.other_right[intent] = report.other_right.get(intent, 0) + 1
            else:
                report.failures.append(f"{case['q']!r}: got {answer.intent}, wanted {intent} "
                                       f"{expect.get('contains', [])}")
        report.groups_right[group] += right
    return report


@dataclass
class CrisisReport:
    """Scores over a crisis set."""

    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    direct: int = 0
    direct_right: int = 0
    other: int = 0
    other_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def crisis_cases(self) -> int:
        """How many messages must get the crisis reply."""
        return sum(self.total[kind] for kind in CRISIS_KINDS)

    @property
    def recall(self) -> float:
        """The share of crisis messages that got the crisis reply."""
        return sum(self.right[kind] for kind in CRISIS_KINDS) / max(1, self.crisis_cases)

    @property
    def lookalikes_flagged(self) -> float:
        """The share of look-alikes that wrongly got the crisis reply."""
        return (self.total["lookalike"] - self.right["lookalike"]) / max(1, self.total["lookalike"])

    def lines(self) -> list[str]:
        """Return a readable summary."""
        out = [f"crisis recall {self.recall:.1%} of {self.crisis_cases}, direct {self.direct_right}/{self.direct}, "
               f"family form {self.other_right}/{self.other}, look-alikes flagged {self.lookalikes_flagged:.1%}"]
        out += [f"{kind}: {self.right[kind]}/{total}" for kind, total in sorted(self.total.items())]
        return out + [f"  MISS {miss}" for miss in self.misses]


def evaluate_crisis(understanding: Understanding, path: Path) -> CrisisReport:
    """Score every case of a crisis set."""
    report = CrisisReport()
    for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
        kind = case["kind"]
        answer = understanding.interpret(case["q"])
        report.total[kind] += 1
        if kind in CRISIS_KINDS:
            right = answer.intent == "crisis"
            if case.get("direct"):
                report.direct += 1
                report.direct_right += right
            if case.get("other"):
                report.other += 1
                report.other_right += right and answer.safety.form in ("family", "carer")
        elif kind == "danger":
            right = answer.intent in ("danger", "crisis") and "110" in answer.text
        elif kind == "distress":
            right = answer.intent == "distress" or (answer.intent in ("measures", "window") and answer.safety.distress)
        elif kind == "line":
            right = answer.intent in ("line", "crisis") and "0120-279-338" in answer.text
        else:
            right = answer.intent != "crisis"
        report.right[kind] += right
        if not right:
            report.misses.append(f"{kind}: {case['q']!r} got {answer.intent}")
    return report
