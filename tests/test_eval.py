"""Understanding and the crisis floor may not fall below the levels reached on the evaluation sets.

How each set was used (the honest figures are the fresh sets', scored once, never tuned on):
- queries.yaml, dev.yaml: tuned on from the start; holdout.yaml: tuned on since the semantic search came in.
- blind.yaml, crisis_blind.yaml: written by people who never saw the keywords; scored once as written (top-3 55 %,
  crisis recall 26.0 %), then tuned on.
- fresh.yaml, crisis_fresh.yaml: written the same way, scored once after that tuning (top-3 91.1 %, crisis
  recall 85.3 %), then tuned on.
- final.yaml, crisis_final.yaml: the same again, scored once (top-3 93.4 %, crisis recall 76.1 %), then tuned on.
- check.yaml, crisis_check.yaml: the same again, scored once (top-3 91.3 %, crisis recall 67.9 %), then tuned on.
- crisis_holdout.yaml (recall 84.3 %) and crisis_last.yaml (88.2 %): the same again, each scored once, then tuned on.
- round7.yaml (top-3 94.4 %) and crisis_round7.yaml (recall 83.5 %): the same again, scored once, then tuned on.
- round8.yaml (top-3 95.2 %) and crisis_round8.yaml (recall 91.6 %): the same again, scored once, then tuned on.
- round9.yaml (top-3 91.3 %) and crisis_round9.yaml (recall 79.3 %): the same again, scored once, then tuned on.
- round10.yaml (top-3 89.7 %) and crisis_round10.yaml (recall 86.1 %): the same again, scored once, then tuned on.
- round11.yaml (top-3 91.6 %) and crisis_round11.yaml (recall 89.7 %): the same again, scored once, then tuned on.
- round12.yaml (top-3 96.3 %) and crisis_round12.yaml (recall 91.8 %): the same again, scored once, then tuned on.
- round13.yaml (top-3 91.0 %) and crisis_round13.yaml (recall 88.0 %): the same again, scored once, then tuned on.
- round14.yaml, crisis_round14.yaml: written the same way after all that, scored once (top-3 95.5 %, crisis recall
  85.5 %, look-alikes flagged 2.8 %), then tuned on.
- round15.yaml, crisis_round15.yaml, kpi_fresh2.yaml: written the same way, scored once as written (top-3 94.8 %,
  top-1 80.4 %, English 17/20, dialect 14/14, off-topic 11/12, no dead end; crisis recall 90.9 %, direct 28/28,
  family form 8/8, look-alikes flagged 1.2 %; KPI 52/55), then tuned on.
- round16.yaml, crisis_round16.yaml, kpi_fresh3.yaml: written the same way after that tuning, scored once as written
  (top-3 91.9 %, top-1 80.8 %, English 21/22, dialect 13/14, off-topic 7/12, no dead end; crisis recall 89.9 %,
  direct 30/31, family form 9/10, look-alikes flagged 2.8 %; KPI 63/66), then tuned on.
- round17.yaml, crisis_round17.yaml, kpi_fresh4.yaml: written the same way after all that, scored once, never tuned
  on: the honest figures (top-3 97.0 %, top-1 88.1 %, English 15/16, dialect 9/10, off-topic 9/9, small talk 6/8, no
  dead end; crisis recall 87.7 %, direct 25/26, family form 7/9, danger 8/8, lines 7/8, distress 4/8, look-alikes
  flagged 1.2 %; KPI 54/57). Its crisis misses and KPI misses were tuned on afterwards; its other messages were
  not.
- crisis_round18.yaml, kpi_fresh5.yaml: written the same way, scored once as written (crisis recall 90.1 %, direct
  43/47, family form 13/15, look-alikes flagged 4.5 %; KPI 55/57); then the learned signal (crisis_model.py) was
  built, validated on round 17 only, and round 18 scored again before tuning (recall 97.3 %, look-alikes 8.2 %);
  then tuned on.
- crisis_round19.yaml, kpi_fresh6.yaml: written the same way, scored once (recall 98.7 %, direct 38/39, family form
  9/10, look-alikes flagged 8.2 %; KPI 45/47), then tuned on.
- crisis_round20.yaml, kpi_fresh7.yaml: the final fresh sets, scored once (crisis recall 98.7 % (78/79), direct
  34/34, family form 10/11, danger 8/8, lines 6/6, distress 8/8, look-alikes flagged 4.0 % (5/126); KPI 52/59),
  then tuned on.
- crisis_round21.yaml: written the same way after that tuning, scored once (recall 100 % (77/77), direct 40/40,
  family form 10/10, danger 8/8, lines 6/6, distress 7/8, look-alikes flagged 7.1 % (12/169)), then tuned on:
  with round 20, the honest figures of this round.
- crisis_round22.yaml, kpi_fresh8.yaml: written the same way after the learned signal was given 1,520 more training
  messages (mostly look-alikes) and the KPI questions were tuned on a training set (kpi_train.yaml, 165/190 as
  written), scored once: crisis recall 100 % (88/88), direct 38/38, danger 9/9, lines 7/7, distress 9/9,
  look-alikes flagged 1.6 % (4/256); KPI 60/61. Then tuned on.
- kpi_fresh9.yaml: written after kpi_fresh8's one miss was mended, scored once (59/63: Japanese 50/50, English
  9/13), then tuned on.
- crisis_round23.yaml: written the same way, scored once (recall 98.9 % (88/89), direct 39/40 — romaji inside
  English, "shinitai... sorry my japanese bad" — family form 11/12, danger 9/9, lines 6/7, distress 8/9,
  look-alikes flagged 0.9 % (3/334)), then tuned on.
- crisis_round24.yaml: the last fresh set, scored once: recall 100 % (93/93), direct 49/49, family form 12/12,
  danger 8/9, lines 6/7, distress 9/9, look-alikes flagged 0.7 % (2/292) — the honest crisis figures. Then tuned on.
The sets were scored again when the plain-words summaries joined what the model reads, and when the crisis examples
were regenerated from rounds 10–13 (the passages changed): a few tuned sets moved by a message or two either way,
and their guards follow the level reached then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from navigator_bot.catalog import Catalog
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.semantic import Encoder
from tests.evaluation import (
    BLIND,
    CHECK,
    CRISIS_BLIND,
    CRISIS_CHECK,
    CRISIS_FINAL,
    CRISIS_FRESH,
    CRISIS_HOLDOUT,
    CRISIS_LAST,
    CRISIS_ROUND7,
    CRISIS_ROUND8,
    CRISIS_ROUND9,
    CRISIS_ROUND10,
    CRISIS_ROUND11,
    CRISIS_ROUND12,
    CRISIS_ROUND13,
    CRISIS_ROUND14,
    CRISIS_ROUND15,
    CRISIS_ROUND16,
    CRISIS_ROUND17,
    CRISIS_ROUND18,
    CRISIS_ROUND19,
    CRISIS_ROUND20,
    CRISIS_ROUND21,
    CRISIS_ROUND22,
    CRISIS_ROUND23,
    CRISIS_ROUND24,
    CRISIS_ROUND25,
    CRISIS_ROUND26,
    DEV,
    FINAL,
    FRESH,
    HOLDOUT,
    KPI_BLIND,
    KPI_EN_TRAIN,
    KPI_FRESH,
    KPI_FRESH2,
    KPI_FRESH3,
    KPI_FRESH4,
    KPI_FRESH5,
    KPI_FRESH6,
    KPI_FRESH7,
    KPI_FRESH8,
    KPI_FRESH9,
    KPI_FRESH10,
    KPI_FRESH11,
    KPI_FRESH12,
    KPI_FRESH13,
    KPI_FRESH14,
    KPI_FRESH15,
    KPI_FRESH16,
    KPI_FRESH17,
    KPI_FRESH18,
    KPI_FRESH19,
    KPI_TRAIN,
    KPI_TRAIN2,
    KPI_TRAIN3,
    KPI_TRAIN4,
    QUERIES,
    ROUND7,
    ROUND8,
    ROUND9,
    ROUND10,
    ROUND11,
    ROUND12,
    ROUND13,
    ROUND14,
    ROUND15,
    ROUND16,
    ROUND17,
    build_understanding,
    evaluate,
    evaluate_crisis,
    load_queries,
)

# Levels reached when this guard was set; raise them when the matching improves, never lower them.
LEVELS = {
    "queries": {"top1": 0.95, "top3": 1.0},
    "dev": {"top1": 0.96, "top3": 1.0},
    "holdout": {"top1": 0.92, "top3": 0.96},
    "blind": {"top1": 0.85, "top3": 0.97},
    "fresh": {"top1": 0.84, "top3": 0.96},
    "final": {"top1": 0.85, "top3": 0.99},
    "check": {"top1": 0.88, "top3": 0.97},
    "round7": {"top1": 0.82, "top3": 0.96, "help": 0.92},
    "round8": {"top1": 0.82, "top3": 0.97},
    "round9": {"top1": 0.84, "top3": 0.95},
    "round10": {"top1": 0.84, "top3": 0.96},
    "round11": {"top1": 0.81, "top3": 0.98, "help": 0.93},
    "round12": {"top1": 0.84, "top3": 0.97, "help": 0.82, "smalltalk": 0.93},
    "round13": {"top1": 0.82, "top3": 0.92, "help": 0.94},
    "round14": {"top1": 0.88, "top3": 0.97, "help": 0.93},
    "round15": {"top1": 0.83, "top3": 1.0, "help": 0.91},
    "round16": {"top1": 0.84, "top3": 0.96, "help": 0.91},
    # Never tuned on: the honest figure. Two small-talk messages missed (おばんでございます, きみってロボット？).
    "round17": {"top1": 0.88, "top3": 0.97, "smalltalk": 0.75},
}
# With the model unavailable the bot runs on words alone; this is what that fallback reaches.
LEXICAL_ONLY_LEVELS = {"queries": 0.98, "dev": 0.92, "holdout": 0.82, "blind": 0.66, "fresh": 0.78, "final": 0.76,
                       "check": 0.74, "round7": 0.72, "round8": 0.65, "round9": 0.71,
                       "round10": 0.73, "round11": 0.71, "round12": 0.77, "round13": 0.73,
                       "round14": 0.73, "round15": 0.69, "round16": 0.70, "round17": 0.73}
GROUP_LEVELS = {
    "blind": {"english": 0.96, "dialect": 1.0, "easy": 1.0, "hiragana": 0.88, "romaji": 1.0},
    "fresh": {"english": 0.92, "dialect": 0.9, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "final": {"english": 0.94, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "check": {"english": 1.0, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round7": {"english": 1.0, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round8": {"english": 1.0, "dialect": 0.88, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round9": {"english": 0.96, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round10": {"english": 0.96, "dialect": 0.86, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round11": {"english": 1.0, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 0.9},
    "round12": {"english": 1.0, "dialect": 1.0, "easy": 0.91, "hiragana": 1.0, "romaji": 0.83},
    "round13": {"english": 1.0, "dialect": 0.9, "easy": 1.0, "hiragana": 0.91, "romaji": 0.83},
    "round14": {"english": 0.96, "dialect": 0.91, "easy": 1.0, "hiragana": 1.0, "romaji": 0.9},
    "round15": {"english": 1.0, "dialect": 1.0, "easy": 1.0, "hiragana": 1.0, "romaji": 1.0},
    "round16": {"english": 1.0, "dialect": 1.0, "easy": 0.85, "hiragana": 1.0, "romaji": 1.0},
    "round17": {"english": 0.93, "dialect": 0.9, "easy": 0.8, "hiragana": 1.0, "romaji": 1.0},
}
CRISIS_LEVELS = {
    CRISIS_BLIND: {"recall": 1.0, "lookalikes": 0.013},  # 2 of 159: a gentle reply to a joke and to a list
    CRISIS_FRESH: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_FINAL: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_CHECK: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_HOLDOUT: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_LAST: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND7: {"recall": 1.0, "lookalikes": 0.008},
    CRISIS_ROUND8: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND9: {"recall": 1.0, "lookalikes": 0.0, "line": 0.94},
    CRISIS_ROUND10: {"recall": 0.98, "lookalikes": 0.021, "line": 0.88},
    CRISIS_ROUND11: {"recall": 1.0, "lookalikes": 0.0, "line": 0.92},
    CRISIS_ROUND12: {"recall": 1.0, "lookalikes": 0.0, "line": 0.91},
    CRISIS_ROUND13: {"recall": 1.0, "lookalikes": 0.0},
    # 「ひきこもりの相談、電話でできるところ」 gets the windows with their phones, not the crisis lines.
    CRISIS_ROUND14: {"recall": 1.0, "lookalikes": 0.008, "line": 0.91},
    CRISIS_ROUND15: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND16: {"recall": 1.0, "lookalikes": 0.0},
    # Scored once (recall 87.7 %), then its crisis misses tuned on; the DV threat in English gets the danger reply.
    CRISIS_ROUND17: {"recall": 0.98, "lookalikes": 0.0, "line": 0.87},
    CRISIS_ROUND18: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND19: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND20: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND21: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND22: {"recall": 1.0, "lookalikes": 0.0},
    CRISIS_ROUND23: {"recall": 1.0, "lookalikes": 0.0},
    # 「DVの相談窓口を教えてください」 gets the danger reply (110 and the lines), not the lines alone.
    CRISIS_ROUND24: {"recall": 1.0, "lookalikes": 0.0, "line": 0.85},
    # English only, written blind: scored once at recall 88.6 % (explicit 38/41), look-alikes flagged 10.0 %,
    # danger 5/8, lines 5/6; then its misses tuned on.
    CRISIS_ROUND25: {"recall": 1.0, "lookalikes": 0.0},
    # English only, written blind after round 25 was tuned on; scored once and guarded as it scored, not tuned on:
    # recall 98.3 % (59/60; self-scratching until bleeding missed), explicit 30/31, look-alikes flagged 8.0 %.
    CRISIS_ROUND26: {"recall": 0.98, "direct": 0.96, "lookalikes": 0.08, "danger": 0.83, "line": 0.8},
}
SETS = {"queries": QUERIES, "dev": DEV, "holdout": HOLDOUT, "blind": BLIND, "fresh": FRESH, "final": FINAL,
        "check": CHECK, "round7": ROUND7, "round8": ROUND8,
        "round9": ROUND9, "round10": ROUND10, "round11": ROUND11, "round12": ROUND12,
        "round13": ROUND13, "round14": ROUND14, "round15": ROUND15, "round16": ROUND16, "round17": ROUND17}


@pytest.fixture(scope="module")
def understanding(catalog: Catalog, encoder: Encoder, embedding_cache: Path) -> Understanding:
    return build_understanding(catalog, encoder, embedding_cache)


@pytest.fixture(scope="module")
def lexical_only(catalog: Catalog) -> Understanding:
    return build_understanding(catalog, None, None)


def test_the_sets_are_large_and_varied() -> None:
    queries = load_queries(QUERIES)
    assert len(queries) >= 80
    assert {case["expect"]["intent"] for case in queries} == {"measures", "kpi", "crisis", "help", "smalltalk"}
    assert {case["who"] for case in queries} >= {"self", "family", "employer", "supporter", "other"}
    blind = load_queries(BLIND)
    assert len(blind) >= 150
    assert {case["group"] for case in blind} >= {"english", "dialect", "easy", "hiragana", "romaji", "offtopic"}
    assert len(load_queries(FRESH)) >= 60


@pytest.mark.parametrize("name", sorted(SETS))
def test_measure_questions_find_fitting_help(understanding: Understanding, name: str) -> None:
    report = evaluate(understanding, SETS[name])
    summary = "\n".join(report.lines())
    print(summary)
    assert report.rate(report.top3, report.measure_cases) >= LEVELS[name]["top3"], summary
    assert report.rate(report.top1, report.measure_cases) >= LEVELS[name]["top1"], summary
    assert report.dead_ends <= LEVELS[name].get("dead_ends", 0), summary  # on-topic messages: no "could not find"
    for intent in ("help", "smalltalk"):  # off-topic and small talk: 100 % where tuned on
        right = report.rate(report.other_right.get(intent, 0), report.other_cases.get(intent, 0))
        assert right >= LEVELS[name].get(intent, 1.0), summary
    assert report.other_right.get("crisis", 0) == report.other_cases.get("crisis", 0), summary


@pytest.mark.parametrize("name", sorted(GROUP_LEVELS))
def test_english_dialect_and_plain_japanese(understanding: Understanding, name: str) -> None:
    report = evaluate(understanding, SETS[name])
    for group, level in GROUP_LEVELS[name].items():
        assert report.group_rate(group) >= level, "\n".join(report.lines())


@pytest.mark.parametrize("name", sorted(LEXICAL_ONLY_LEVELS))
def test_words_alone_still_find_help(lexical_only: Understanding, name: str) -> None:
    report = evaluate(lexical_only, SETS[name])
    summary = "\n".join(report.lines())
    assert report.rate(report.top3, report.measure_cases) >= LEXICAL_ONLY_LEVELS[name], summary
    assert report.other_right.get("crisis", 0) == report.other_cases.get("crisis", 0), summary


@pytest.mark.parametrize("path", sorted(CRISIS_LEVELS), ids=lambda path: path.stem)
def test_crisis_floor(understanding: Understanding, path: Path) -> None:
    report = evaluate_crisis(understanding, path)
    summary = "\n".join(report.lines())
    print(summary)
    assert report.crisis_cases >= 40 and report.total["lookalike"] >= 40
    assert report.recall >= CRISIS_LEVELS[path]["recall"], summary
    levels = CRISIS_LEVELS[path]
    assert report.direct_right >= levels.get("direct", 1.0) * report.direct, summary  # explicit wishes: all
    assert report.lookalikes_flagged <= levels["lookalikes"], summary
    for kind in ("danger", "line"):
        assert report.right[kind] >= levels.get(kind, 1.0) * report.total[kind], summary


@pytest.mark.parametrize("path", [CRISIS_BLIND, CRISIS_FRESH, CRISIS_FINAL, CRISIS_CHECK, CRISIS_HOLDOUT, CRISIS_LAST,
                                  CRISIS_ROUND7],  # round 8: the expressions alone reach 100 % too, but for 3 cases
                         ids=lambda path: path.stem)
def test_crisis_floor_without_the_model_catches_the_tuned_sets(lexical_only: Understanding, path: Path) -> None:
    """The expressions and the learned signal's word scores, as on a machine without the embedding model."""
    report = evaluate_crisis(lexical_only, path)
    assert report.recall == 1.0 and report.direct_right == report.direct, "\n".join(report.lines())


# KPI questions in staff's words (issue 13): kpi_blind.yaml scored once as written (61/111, 55.0 %), then tuned on;
# kpi_fresh.yaml written the same way afterwards, scored once (37/40, 92.5 %); kpi_fresh2.yaml the same again,
# scored once (52/55, 94.5 %), then tuned on; kpi_fresh3.yaml the same (63/66, 95.5 %), then tuned on;
# kpi_fresh4.yaml the same again, scored once (54/57, 94.7 %), then its three misses tuned on; kpi_fresh5.yaml
# (55/57, 96.5 %), kpi_fresh6.yaml (45/47, 95.7 %) and kpi_fresh7.yaml (52/59, 88.1 %: the honest figure; five of
# its misses asked for the nearest year's figure when a year has no data) the same, each scored once, then tuned on;
# kpi_train.yaml (written for training: 165/190 as written), then kpi_fresh8.yaml (60/61, 98.4 %) and kpi_fresh9.yaml
# (59/63, 93.7 %; its four misses were English naming a KPI in the writer's own words); then kpi_en_train.yaml (168
# English questions written for training, answered in English: 139/168 as written, 165/168 after tuning; the three
# left: the highest single-year rate across all KPIs, "after the first year", and 「cities w/ platform」 alone);
# kpi_fresh10.yaml (67/72, 93.1 %: Japanese 56/58, English 11/14), kpi_fresh11.yaml (65/67, 97.0 %: Japanese 51/52,
# English 14/15) and kpi_fresh12.yaml (62/64, 96.9 %: Japanese 50/50, English 12/14), each scored once, then tuned
# on; kpi_train2.yaml (168 written for training, two-part questions among them: 149/168 as written, 165/168 after;
# left: two KPIs compared with each other, twice, and 「プラットフォーム 目標」), then kpi_fresh13.yaml, the last
# (75/76, 98.7 %: English 17/17, Japanese 58/59; its miss asked for a sum and what it fell short of), then tuned on.
# Next session: kpi_train3.yaml (200 written for training on two-part questions, KPIs set against each other, years
# named by their place in the plan, vague and English questions: 155/200 as written, 197/200 after; left: the first
# half of the plan against the second, 「サポステどう？」 and 「プラットフォームって県内の全部の市でもうできたの？」),
# kpi_train4.yaml (220 written for training: 213/220 as written, 220/220 after), then kpi_fresh14.yaml, scored once
# (80/80, 100 %: English 19/19, answered in English as the engine does) and kpi_fresh15.yaml, scored once (59/60,
# 98.3 %: a year's figure and the cumulative rate "now" in one question), then tuned on; kpi_fresh16.yaml, scored
# once (69/70, 98.6 %: 「前の年より一番増えだのっていつだば」, the largest rise asked in Tsugaru), then tuned on;
# kpi_fresh17.yaml, scored once (75/80, 93.8 %: 前年度を下回った年度, いちばん進んだ年度, 達しました, "overshoot",
# 比べたい read as the writer's own wish), then tuned on; kpi_fresh18.yaml, scored once (78/80, 97.5 %: 「増加が
# いちばん大きかった」 and 「最も落ち込んだ」 — the superlative adverbs are now folded into one), then tuned on; and
# kpi_fresh19.yaml, the last, scored once: 80/80, 100 % (English 17/17, compound 7/7) — the honest figure. Over the
# six fresh sets of that session (kpi_fresh14–19), 441 of 450.

KPI_LEVELS = {KPI_BLIND: 1.0, KPI_FRESH: 1.0, KPI_FRESH2: 1.0, KPI_FRESH3: 1.0, KPI_FRESH4: 1.0, KPI_FRESH5: 1.0,
              KPI_FRESH6: 1.0, KPI_FRESH7: 1.0, KPI_TRAIN: 1.0, KPI_FRESH8: 1.0, KPI_FRESH9: 1.0, KPI_EN_TRAIN: 0.98,
              KPI_FRESH10: 1.0, KPI_FRESH11: 1.0, KPI_FRESH12: 1.0, KPI_TRAIN2: 1.0, KPI_FRESH13: 1.0,
              KPI_TRAIN3: 0.98, KPI_TRAIN4: 1.0, KPI_FRESH14: 1.0, KPI_FRESH15: 1.0,
              KPI_FRESH16: 1.0, KPI_FRESH17: 1.0, KPI_FRESH18: 1.0,
              KPI_FRESH19: 1.0}


@pytest.mark.parametrize("path", sorted(KPI_LEVELS), ids=lambda path: path.stem)
def test_kpi_questions_in_staff_words(understanding: Understanding, path: Path) -> None:
    report = evaluate(understanding, path)
    summary = "\n".join(report.lines())
    assert report.other_cases.get("kpi", 0) >= 40, summary
    assert report.rate(report.other_right.get("kpi", 0), report.other_cases["kpi"]) >= KPI_LEVELS[path], summary
