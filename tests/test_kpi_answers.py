"""KPI questions: recognising them (and leaving job seekers' messages alone) and answering from the catalog."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from navigator_bot.catalog import Catalog, load_catalog
from navigator_bot.i18n import Translator
from navigator_bot.models import YearlyResult
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.kpi import KpiAnswers, KpiKind, KpiQuery, progress_bar

TODAY = date(2026, 11, 26)  # 今年度 = FY2026 = 令和8年度, which has no data
ALL_YEARS = (2020, 2021, 2022, 2023)
REGULAR = "regular-employment"
JOB_CAFE = "job-cafe-registrations"
SAPOSUTE = "saposute-counselling"
PLATFORMS = "municipal-platforms"


@pytest.fixture(scope="module")
def kpi(catalog: Catalog) -> KpiAnswers:
    """The KPI answerer of the shipped catalog, built once as the bot does."""
    return KpiAnswers(catalog)


def _variant(catalog: Catalog, kpi_id: str, **update: object) -> Catalog:
    """A copy of the catalog with one KPI changed."""
    kpis = dict(catalog.kpis)
    kpis[kpi_id] = kpis[kpi_id].model_copy(update=update)
    return dataclasses.replace(catalog, kpis=kpis)


# --- recognition ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "kpi_ids", "years"),
    [
        ("正社員就職件数は？", "one", (REGULAR,), ()),
        ("R4の就職件数は？", "one", (REGULAR,), (2022,)),
        ("令和３年度の正社員就職数", "one", (REGULAR,), (2021,)),
        ("FY2021の正社員就職件数", "one", (REGULAR,), (2021,)),
        ("正社員就職件数の推移を見せて", "one", (REGULAR,), ()),
        ("正社員就職の目標は達成した？", "one", (REGULAR,), ()),
        ("ジョブカフェの新規登録者数", "one", (JOB_CAFE,), ()),
        ("ジョブカフェの新規登禄者数", "one", (JOB_CAFE,), ()),  # typo: 禄 for 録
        ("ｼﾞｮﾌﾞｶﾌｪの新規登録者数", "one", (JOB_CAFE,), ()),
        ("ジョブカフェの登録者は何人？", "one", (JOB_CAFE,), ()),
        ("令和5年度のジョブカフェ新規登録", "one", (JOB_CAFE,), (2023,)),
        ("サポステの相談件数は？", "one", (SAPOSUTE,), ()),
        ("さぽすてのそうだんけんすう", "one", (SAPOSUTE,), ()),
        ("地域若者サポートステーションのカウンセリング件数", "one", (SAPOSUTE,), ()),
        ("Ｒ５のカウンセリング件数", "one", (SAPOSUTE,), (2023,)),
        ("市町村PFは何市？", "one", (PLATFORMS,), ()),
        ("市町村プラットフォームの設置状況", "one", (PLATFORMS,), ()),
        ("市町村プラットフォームはいくつ設置された？", "one", (PLATFORMS,), ()),
        ("就職件数とサポステの相談件数", "one", (REGULAR, SAPOSUTE), ()),
        ("How many job placements in FY2022?", "one", (REGULAR,), (2022,)),
        ("令和5年度の実績", "year", (), (2023,)),
        ("R4の実績は？", "year", (), (2022,)),
        ("今年度の実績を知りたい", "year", (), (2026,)),
        ("2019年度の実績", "year", (), (2019,)),
        ("R2-R3のKPI", "year", (), (2020, 2021)),
        ("FY2021 results", "year", (), (2021,)),
        ("目標を達成していないKPIは？", "unmet", (), ()),
        ("未達成", "unmet", (), ()),
        ("Which KPIs are not achieved?", "unmet", (), ()),
        ("KPIの一覧", "list", (), ()),
        ("KPI", "list", (), ()),
        ("進捗状況", "list", (), ()),
        ("目標", "list", (), ()),
        ("達成率", "list", (), ()),
        ("進捗率", "list", (), ()),
        ("実績を教えてください", "list", (), ()),
    ],
)
def test_detects_kpi_questions(kpi: KpiAnswers, text: str, kind: KpiKind, kpi_ids: tuple[str, ...],
                               years: tuple[int, ...]) -> None:
    assert kpi.detect(text, TODAY) == KpiQuery(kind, kpi_ids, years)


@pytest.mark.parametrize(
    "text",
    [
        "ジョブカフェに行きたい",
        "ジョブカフェ",
        "ジョブカフェを利用したい",
        "ジョブカフェに新規登録したい",
        "ジョブカフェの登録方法を教えて",
        "ジョブカフェの利用時間",
        "サポステで相談したい",
        "サポステ相談したい",
        "サポステのカウンセリングを受けたい",
        "正社員になりたい",
        "正社員就職したい",
        "正社員就職を目標に頑張っています",
        "正社員になった人の話を聞きたい",
        "ハローワークで正社員の求人を探したい",
        "市町村プラットフォームって何？",
        "市町村の相談窓口はどこ？",
        "ひきこもりの息子のことで相談したい",
        "目標を立てて就職活動をしたい",
        "今年度の目標を達成したい",
        "自分の目標が達成できていない",
        "応募の進捗を知りたい",
        "2021年に仕事を辞めました",
        "令和5年度に離職しました",
        "3,300円の交通費は出ますか",
        "こんにちは",
        "",
        "I want to visit Job Cafe",
    ],
)
def test_leaves_other_messages_alone(kpi: KpiAnswers, text: str) -> None:
    assert kpi.detect(text, TODAY) is None


def test_relative_years_follow_today(kpi: KpiAnswers) -> None:
    query = kpi.detect("昨年度の正社員就職件数", date(2024, 3, 31))
    assert query == KpiQuery("one", (REGULAR,), (2022,))


def test_match_kpis_orders_by_mention(kpi: KpiAnswers) -> None:
    assert kpi.match_kpis("サポステの相談件数と正社員就職件数") == (SAPOSUTE, REGULAR)


def test_detect_is_fast(kpi: KpiAnswers) -> None:
    texts = ["R4の就職件数は？", "ジョブカフェの新規登禄者数", "サポステで相談したい", "KPIの一覧",
             "ひきこもりの息子のことで相談したいのですが、どこに行けばいいかわかりません"]
    for text in texts:
        kpi.detect(text, TODAY)
    rounds = 50
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            kpi.detect(text, TODAY)
    per_query = (time.perf_counter() - start) / (rounds * len(texts))
    assert per_query < 0.001


# --- answers ----------------------------------------------------------------------------------------------------


def _answer(kpi: KpiAnswers, text: str, lang: str = "ja") -> str:
    query = kpi.detect(text, TODAY)
    assert query is not None, text
    return kpi.answer(query, lang)


def test_one_kpi_for_one_year(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "R4の就職件数は？")
    assert "正社員就職件数" in text
    assert "令和4年度  972件  29.5% ▓▓░░░░░░░░" in text
    assert "令和3年度" not in text  # only the year asked, then the total
    assert "3,682件／目標 3,300件  111.6%" in text
    assert "達成" in text and "未達成" not in text
    assert "825件" in text  # the even yearly pace: 3,300 ÷ 4


def test_one_kpi_for_every_year(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "正社員就職件数の進捗")
    for line in ("令和2年度  781件  23.7% ▓▓░░░░░░░░", "令和3年度  896件  27.2%", "令和4年度  972件  29.5%",
                 "令和5年度  1,033件  31.3%"):
        assert line in text
    assert "3,682" in text and "3,300" in text and "111.6%" in text


def test_job_cafe_and_saposute_figures(kpi: KpiAnswers) -> None:
    job_cafe = _answer(kpi, "ジョブカフェの新規登録者数")
    assert "14,317人／目標 8,000人  179.0%" in job_cafe
    assert "2,000人" in job_cafe  # pace
    assert "3,589人  44.9%" in _answer(kpi, "令和3年度のジョブカフェ新規登録者数")
    saposute = _answer(kpi, "サポステの相談件数は？")
    assert "4,231件" in saposute and "256.4%" in saposute
    assert "412.5件" in saposute  # 1,650 ÷ 4 is not whole


def test_municipal_platforms_not_achieved(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "市町村PFは何市？")
    assert "6市／目標 10市  60.0% ▓▓▓▓▓▓░░░░  未達成（あと4市）" in text
    assert "令和2年度  0市  0.0% ░░░░░░░░░░" in text
    assert "2.5市" in text


def test_no_data_for_a_year_outside_the_catalog(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "令和6年度の正社員就職件数")
    assert "令和6年度の実績データはありません" in text
    assert "令和2〜5年度" in text and "令和5年度" in text
    # No figure is guessed for 令和6年度: the one figure shown is the nearest year's, named as such.
    assert re.findall(r"[\d,]+件", text) == ["1,033件"]
    assert "いちばん近い令和5年度の実績は1,033件（進捗率 31.3%）です" in text


def test_no_data_for_2019(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "2019年度の実績")
    assert "令和元年度の実績データはありません" in text
    assert "令和2〜5年度" in text
    assert "件" not in text


def test_some_years_with_data_and_some_without(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "令和4〜6年度のサポステの相談件数")
    assert "令和4年度  1,291件  78.2%" in text
    assert "令和5年度  1,309件  79.3%" in text
    assert "令和6年度の実績データはありません" in text
    year_text = _answer(kpi, "R5とR6の実績")
    assert "1,033件" in year_text and "令和6年度の実績データはありません" in year_text


def test_results_of_one_year(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "令和5年度の実績")
    assert text.startswith("令和5年度のKPI実績")
    for figure in ("1,033件  31.3%", "3,861人  48.3%", "1,309件  79.3%", "1市  10.0%"):
        assert figure in text
    assert "令和2〜5年度" in text  # what the rates are shares of


def test_unmet_is_computed(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "目標を達成していないKPIは？")
    assert "1つ" in text
    assert "県内全市での市町村プラットフォームの設置  6市／目標 10市  60.0%" in text
    assert "正社員就職件数" not in text


def test_unmet_follows_the_data(catalog: Catalog) -> None:
    missed = KpiAnswers(_variant(catalog, REGULAR, target=5000))
    text = missed.answer(KpiQuery("unmet"))
    assert "2つ" in text
    assert "正社員就職件数  3,682件／目標 5,000件  73.6%" in text
    assert "あと1,318件" in text
    assert "市町村プラットフォーム" in text
    assert [k.id for k in missed.unmet_kpis()] == [REGULAR, PLATFORMS]

    reached = KpiAnswers(_variant(catalog, PLATFORMS, target=6))
    assert "すべてのKPIが目標を達成しています" in reached.answer(KpiQuery("unmet"))


def test_rates_are_computed_not_copied(catalog: Catalog) -> None:
    yearly = [*catalog.kpis[REGULAR].yearly, YearlyResult(fiscal_year=2024, result=660, published_rate="99.9%")]
    extended = KpiAnswers(_variant(catalog, REGULAR, yearly=yearly))
    text = extended.answer(KpiQuery("one", (REGULAR,), (2024,)))
    assert "令和6年度  660件  20.0% ▓▓░░░░░░░░" in text
    assert "99.9%" not in text
    assert "4,342件" in text  # the cumulative is the sum of the yearly results
    assert "1年あたり660件が目安です（目標3,300件÷5年）" in text


def test_list(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "KPIの一覧")
    for line in kpi.summary_lines("ja"):
        assert line in text
    for figure in ("3,682件／目標 3,300件  111.6%", "14,317人／目標 8,000人  179.0%", "4,231件／目標 1,650件  256.4%",
                   "6市／目標 10市  60.0%"):
        assert figure in text
    assert len(kpi.summary_lines("ja")) == 4


def test_answers_are_plain_and_calm(kpi: KpiAnswers) -> None:
    queries = [KpiQuery("one", (REGULAR, PLATFORMS), (2022, 2024)), KpiQuery("year", (), ALL_YEARS),
               KpiQuery("unmet"), KpiQuery("list")]
    for lang in ("ja", "en"):
        for query in queries:
            text = kpi.answer(query, lang)
            assert not re.search(r"[!！*_`<>#]", text), text
            assert "{" not in text


def test_a_figure_asked_for_comes_in_the_first_sentence(kpi: KpiAnswers) -> None:
    """「R4の就職件数は？」 is answered in its first line; the table follows as the supporting figures."""
    row = kpi.catalog.kpis[REGULAR]
    value = row.result_for(2022).result  # type: ignore[union-attr]
    rate = Decimal(value * 100 / row.target).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    lines = _answer(kpi, "R4の就職件数は？").splitlines()
    assert lines[0] == f"{row.name}：令和4年度は{value:,}件（進捗率 {rate}%）です。" and len(lines) > 2
    total = sum(item.result for item in row.yearly)
    first = _answer(kpi, "正社員就職件数は？").splitlines()[0]
    assert first.startswith(f"{row.name}：累計（令和2〜5年度）は{total:,}件で")


def test_english(kpi: KpiAnswers) -> None:
    text = _answer(kpi, "R4の就職件数は？", "en")
    assert text.startswith("Job placements as regular employees (正社員就職件数)")
    assert "FY2022 (Reiwa 4)  972 placements  29.5% ▓▓░░░░░░░░" in text
    assert "3,682 placements / target 3,300 placements  111.6%" in text
    assert "achieved" in text
    missing = kpi.answer(KpiQuery("one", (REGULAR,), (2024,)), "en")
    assert "There is no data for FY2024 (Reiwa 6)" in missing
    assert "FY2020–2023 (Reiwa 2–5)" in missing
    unmet = kpi.answer(KpiQuery("unmet"), "en")
    assert "6 cities / target 10 cities  60.0%" in unmet and "4 cities to go" in unmet
    listing = kpi.answer(KpiQuery("list"), "en")
    assert "New registrations at Job Cafe Aomori (ジョブカフェ利用者の新規登録者数)  14,317 people" in listing


def test_english_singular_unit(kpi: KpiAnswers) -> None:
    assert "1 city  10.0%" in kpi.answer(KpiQuery("year", (), (2023,)), "en")


@pytest.mark.parametrize(
    ("rate", "bar"),
    [("0.0", "░░░░░░░░░░"), ("9.9", "░░░░░░░░░░"), ("23.7", "▓▓░░░░░░░░"), ("99.9", "▓▓▓▓▓▓▓▓▓░"),
     ("100.0", "▓▓▓▓▓▓▓▓▓▓"), ("256.4", "▓▓▓▓▓▓▓▓▓▓")],
)
def test_progress_bar(rate: str, bar: str) -> None:
    assert progress_bar(Decimal(rate)) == bar


def test_unknown_ids_fall_back_to_the_list(kpi: KpiAnswers) -> None:
    assert kpi.answer(KpiQuery("one", ("no-such-kpi",))) == kpi.answer(KpiQuery("list"))


@pytest.mark.parametrize(("text", "kind", "years"), [
    ("令和4年度の前年度のサポステ相談件数は？", "one", (2021,)),
    ("今年度を令和5年度とすると、前年度のジョブカフェ新規登録者数はいくつ？", "one", (2022,)),
    ("R3とR4の正社員就職件数を比べるとどう？", "compare", (2021, 2022)),
    ("令和5年度の正社員就職件数は前年比で何％伸びた？", "compare", (2023, 2022)),
    ("ジョブカフェの新規登録者が最も多かったのはいつ？", "extreme", ()),
    ("令和4年度までの実績だと、正社員就職件数は目標まであと何件だった？", "cumulative", (2022,)),
    ("サポステのカウンセリング件数が累計で目標を超えたのはどの年度？", "crossed", ()),
])
def test_questions_beyond_one_figure(kpi: KpiAnswers, text: str, kind: str, years: tuple[int, ...]) -> None:
    query = kpi.detect(text, TODAY)
    assert query is not None and query.kind == kind and query.fiscal_years == years, query


def test_comparison_and_remaining_answers_lead_with_the_figure_asked(kpi: KpiAnswers) -> None:
    compare = kpi.answer(kpi.detect("R3とR4の正社員就職件数の差は？", TODAY))  # type: ignore[arg-type]
    assert compare.split("\n")[0] == "正社員就職件数：令和4年度は令和3年度より76件増えました（8.5%増）。"
    down = kpi.answer(kpi.detect("ジョブカフェ新規登録者数、令和5年度の前年比は？", TODAY))  # type: ignore[arg-type]
    assert "317人減りました（7.6%減）" in down.split("\n")[0]
    remaining = kpi.answer(kpi.detect("令和4年度までの正社員就職件数の累計と、目標まであと何件？", TODAY))  # type: ignore[arg-type]
    assert "2,649件" in remaining and "目標まであと651件" in remaining
    crossed = kpi.answer(kpi.detect("サポステ相談件数が累計で目標を超えたのはどの年度？", TODAY))  # type: ignore[arg-type]
    assert crossed.startswith("サポートステーション") and "令和4年度" in crossed and "2,922件" in crossed
    best = kpi.answer(kpi.detect("一番進捗が悪いKPIは？", TODAY))  # type: ignore[arg-type]
    assert best.startswith("取組期間（令和2〜5年度）の累計で進捗が一番遅れているKPIは"
                           "「市町村プラットフォームの設置」（目標の60.0%）")


def test_average_per_year_and_the_year_after(kpi: KpiAnswers) -> None:
    """「1年あたり平均」 divides the total by its years; 「令和2年度の翌年度」 is 令和3年度."""
    today = date(2026, 11, 26)
    query = kpi.detect("正社員就職件数は1年あたり平均何件？", today)
    assert query is not None and query.aspect == "average"
    assert kpi.answer(query).startswith("正社員就職件数の1年あたりの平均は920.5件です")
    query = kpi.detect("令和2年度の翌年度の市町村プラットフォーム設置の進捗率は？", today)
    assert query is not None and query.fiscal_years == (2021,)
    assert "40.0%" in kpi.answer(query)
    query = kpi.detect("正社員就職件数の令和2年度から令和5年度までの伸び率は？", today)
    assert query is not None and query.kind == "compare" and "32.3%" in kpi.answer(query)


def test_a_change_of_rate_is_answered_in_points_first(kpi: KpiAnswers) -> None:
    query = kpi.detect("R3とR4で、サポステの進捗率は何ポイント上がった？", TODAY)
    assert query is not None and query.kind == "compare" and query.aspect == "points"
    first, *rest = kpi.answer(query).splitlines()
    # 78.2 % − 57.2 % of the published rates, computed here from the catalog's own figures
    yearly = {item.fiscal_year: item.published_rate for item in kpi.catalog.kpis["saposute-counselling"].yearly}
    assert yearly[2021] in first and yearly[2022] in first and "21.0ポイント上がりました" in first
    assert any("348件増えました" in line for line in rest)


def test_a_cumulative_result_against_the_target_is_not_a_comparison_of_years(kpi: KpiAnswers) -> None:
    query = kpi.detect("How does the cumulative number of counselling sessions compare with the target?", TODAY)
    assert query is not None and query.kind == "cumulative"
    assert "4,231" in kpi.answer(query, "en") and "256.4%" in kpi.answer(query, "en")


def test_the_years_named_are_added_up(kpi: KpiAnswers) -> None:
    """「R3〜R5の合計」 sums those years, not everything from the first year; 「4年間の合計」 is the whole period."""
    items = {item.fiscal_year: item.result for item in kpi.catalog.kpis["job-cafe-registrations"].yearly}
    query = kpi.detect("令和３年度から令和５年度までのジョブカフェ新規登録者の合計を教えてください", TODAY)
    assert query is not None and query.kind == "cumulative" and query.aspect == "sum"
    first = kpi.answer(query).splitlines()[0]
    assert f"{items[2021] + items[2022] + items[2023]:,}人" in first and first.startswith("ジョブカフェ")
    query = kpi.detect("ジョブカフェ、R2とR3を足すと何人？", TODAY)
    assert query is not None and f"{items[2020] + items[2021]:,}人" in kpi.answer(query).splitlines()[0]
    query = kpi.detect("ジョブカフェの新規登録者、4年間の合計は？", TODAY)
    assert query is not None and f"{sum(items.values()):,}人" in kpi.answer(query)
    query = kpi.detect("Sum of regular job placements from FY2020 to FY2022?", TODAY)
    assert query is not None and "2,649 placements" in kpi.answer(query, "en").splitlines()[0]


@pytest.mark.parametrize(("text", "figures"), [
    ("PF R3", ["4市"]),  # staff's abbreviation next to a year
    ("れいわ5ねんどのプラットホーム設置数は？", ["1市"]),
    ("JC 新規登録 R5", ["3,861人"]),
    ("サポステの相談件数は何年度に累計で目標を達成したのですか", ["令和4年度"]),
    ("4年間で正社員就職件数の実績が最も少なかった年度と、その年の進捗率を教えてください", ["令和2年度", "23.7%"]),
    ("FY2024の正社員就職件数の進捗率", ["令和5年度", "31.3%"]),  # the nearest year's figure and rate
    ("PF設置がゼロだった年ってある？", ["令和2年度"]),
    ("正社員就職って順調なの？目標と比べてどう？", ["111.6%"]),
    ("the support station counselling is how many in R4? i need it for report", ["1,291"]),
    # two things at once: each part's figure is in the answer
    ("サポステの相談件数が累計で目標を超えたのはいつで、その時点の累計進捗率は？", ["令和4年度", "177.1%"]),
    ("正社員就職件数の累計進捗率と、年度別で進捗率が最も高かった年度とその率", ["111.6%", "令和5年度", "31.3%"]),
    ("正社員就職件数の年平均は何件？目標を4年で割った1年あたりの目安は？", ["920.5件", "825件"]),
    ("R4の就職件数とR4までの累計", ["2,649件", "972件"]),
    ("令和3年度と令和4年度の正社員就職件数の平均は？", ["934件"]),
    ("ジョブカフェの令和4年度の新規登録者数と、それが4年間の累計に占める割合", ["4,178人", "29.2%"]),
    ("What share of all regular employment placements came in the first year?", ["781", "21.2%"]),
    ("累計の進捗率で比べると、サポステの相談件数は正社員就職件数の何倍くらい進んでいますか", ["2.3倍"]),
    ("令和4年度のジョブカフェ新規登録者数は、同じ年の正社員就職件数の何倍ですか", ["4.3倍"]),
    ("令和4年度末時点の累計進捗率で、正社員就職件数とジョブカフェ新規登録はどちらが進んでいましたか", ["50.4ポイント"]),
    ("令和4年度に前年度比の伸び率が一番大きかったKPIはどれですか", ["サポステの相談件数", "36.9%"]),
    ("令和5年度に前年度より実績が減ったKPIはありますか", ["317人減りました"]),
    ("ジョブカフェ 減った年", ["令和5年度（317人減"]),
    ("就職件数 前年比", ["61件増えました（6.3%増）"]),
    ("How many cities have set up a municipal platform by FY2022?", ["5 cities", "50.0%"]),
    ("regular employment: how much was left to the target at the end of FY2022?", ["651"]),
    ("進捗まとめて", ["111.6%", "256.4%", "60.0%"]),
    ("令和3 全部", ["896件", "3,589人", "943件"]),
    ("JCの新規登録が一番減ったのっていつ？", ["令和5年度（317人減"]),
    ("プラットフォームの設置が一つもなかった年度はありますか", ["令和2年度"]),
    ("サポステ相談件数の伸びが一番小さかったのはいつですか", ["令和5年度（18件増"]),
    ("正社員就職件数は目標の3,300件をいつ超えましたか。超過分も教えてください", ["令和5年度", "382件上回りました"]),
    ("ジョブカフェ新規登録者数が累計で目標を超えた年度と、その年度末時点の累計進捗率は？", ["令和4年度", "130.7%"]),
    ("In what year did seishain placements go over 1,000 for the first time?", ["FY2023", "1,033"]),
    ("サポステの相談件数が累計で初めて2,000件を超えたのは？", ["令和4年度（2,922件）"]),
    ("ジョブカフェの登録が初めて5,000人を超えたのはいつ？", ["どの年度も5,000人に届いていません"]),
    # a year and the total "now": that year's figure, then the total to the last year (not to the year asked)
    ("市町村PFは令和3年度にいくつ設置されて、累計の進捗率は今どれくらい？",
     ["令和3年度  4市", "6市／目標 10市  60.0%"]),
    ("ジョブカフェの新規登録者数は、令和4年度までの累計で目標を何人超えていましたか", ["10,456人", "2,456人上回って"]),
    ("令和4年度時点の累計は？", ["2,649件", "10,456人", "2,922件", "5市"]),  # every KPI up to that year
    ("ジョブカフェ新規登録者数が前年度を下回った年度はありますか", ["令和5年度（317人減"]),
    ("市町村プラットフォームの設置がいちばん進んだ年度はいつだべ？", ["令和3年度（4市、進捗率 40.0%）"]),
    ("サポステのカウンセリング件数は、累計で何年度に目標の1,650件に達しましたか", ["令和4年度", "2,922件"]),
    ("How far did Job Cafe registrations overshoot the 8,000 target?", ["6,317"]),
    ("市町村プラットフォーム設置とジョブカフェ新規登録者数、それぞれの累計進捗率を比べたいです", ["60.0%", "179.0%"]),
    ("目標達成してる？", ["達成（目標を382件上回る）", "未達成（あと4市）"]),  # the targets as a whole
    ("ジョブカフェの累計は？", ["達成（目標を6,317人上回る）"]),
    # 最も / いちばん / もっとも are read as 一番: a pattern written with one reads them all
    ("ジョブカフェ新規登録者数で、前年度からの増加がいちばん大きかったのは何年度ですか", ["令和3年度（900人増"]),
    ("ジョブカフェの新規登録者数が最も落ち込んだのはどの年度で、どれだけ減りましたか", ["令和5年度（317人減"]),
    ("正社員就職件数がもっとも少なかった年度", ["令和2年度（781件"]),
])
def test_staff_phrasings_found_in_training(kpi: KpiAnswers, text: str, figures: list[str]) -> None:
    query = kpi.detect(text, TODAY)
    assert query is not None, text
    lang = "en" if text.isascii() else "ja"
    answer = kpi.answer(query, lang)
    assert all(figure.replace("市", " cities" if lang == "en" else "市") in answer for figure in figures), answer


def test_a_comparison_asked_after_the_data_ends_compares_the_latest_two_years(kpi: KpiAnswers) -> None:
    items = {item.fiscal_year: item.result for item in kpi.catalog.kpis["job-cafe-registrations"].yearly}
    query = kpi.detect("Job Cafe registrations: did they go down last year compared with the year before?", TODAY)
    assert query is not None and query.kind == "compare"
    lines = kpi.answer(query, "en").splitlines()
    assert lines[0].startswith("There is no data for FY2024")  # 今年度 is FY2026: last year and the one before
    assert f"{items[2022] - items[2023]:,} people" in lines[1]


def test_growth_from_the_year_before_a_named_year(kpi: KpiAnswers) -> None:
    query = kpi.detect("正社員就職件数の令和5年度の前年度からの伸び率を教えて", TODAY)
    assert query is not None and query.kind == "compare" and set(query.fiscal_years) == {2022, 2023}
    assert "6.3%増" in kpi.answer(query).splitlines()[0]


def test_a_name_pattern_added_by_staff_counts_with_no_code_change(catalog_copy: Path) -> None:
    question = "How many apprenticeship-style hires in FY2022?"
    assert KpiAnswers(load_catalog(catalog_copy)).detect(question, TODAY) is None
    path = catalog_copy / "kpis.yaml"
    text = path.read_text(encoding="utf-8")
    first = '      - "(regular|fulltime'
    path.write_text(text.replace(first, '      - "apprenticeshipstylehires"\n' + first, 1), encoding="utf-8")
    query = KpiAnswers(load_catalog(catalog_copy)).detect(question, TODAY)
    assert query is not None and query.kpi_ids == ("regular-employment",) and query.fiscal_years == (2022,)


@pytest.mark.parametrize(("text", "years"), [
    ("How did regular placements in the last year compare with the first year?", (2023, 2020)),
    ("正社員就職件数の初年度と最終年度の差は？", (2020, 2023)),
    ("How many regular placements were there in the first two years combined?", (2020, 2021)),
    ("counselling, last year of plan", (2023,)),
    ("2年目から3年目にかけてのサポステ相談件数の伸び率", (2021, 2022)),
    ("最終年度の前年度のサポステ相談件数", (2022,)),
    ("regular employment placements in the year before last of the plan", (2022,)),
    ("最後の2年間のジョブカフェ新規登録者数の合計", (2022, 2023)),
    ("計画期間の後半の正社員就職件数の合計", (2022, 2023)),
    ("計画期間の前半の正社員就職件数は？", (2020, 2021)),
    ("counseling cases in the last two years combined?", (2022, 2023)),
])
def test_years_named_by_their_place_in_the_plan(kpi: KpiAnswers, text: str, years: tuple[int, ...]) -> None:
    """"The last year of the plan" is its last year with data, not last year from today (FY2025 here)."""
    query = kpi.detect(text, TODAY)
    assert query is not None and set(query.fiscal_years) == set(years), query


def test_the_smallest_rise_and_a_sum_from_the_first_year(kpi: KpiAnswers) -> None:
    results = [item.result for item in kpi.catalog.kpis["regular-employment"].yearly]
    query = kpi.detect("smallest yearly gain in regular job placements, in people?", TODAY)
    assert query is not None and query.aspect == "least_rise"
    smallest = min(later - earlier for earlier, later in itertools.pairwise(results))
    assert f"{smallest:,} placements more" in kpi.answer(query, "en").splitlines()[0]
    query = kpi.detect("令和2年度と令和3年度のサポステ相談件数を足すといくつで、目標まであと何件？", TODAY)
    assert query is not None
    assert kpi.answer(query).splitlines()[0].endswith("目標まであと19件です。")



def _rates(kpi: KpiAnswers, years: tuple[int, ...] = ()) -> dict[str, Decimal]:
    """Each KPI's rate over the years given (every year when none), computed here from the catalog."""
    return {kpi_id: Decimal(sum(item.result for item in row.yearly if not years or item.fiscal_year in years) * 100
                            / row.target).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            for kpi_id, row in kpi.catalog.kpis.items()}


def test_two_kpis_set_against_each_other_by_rate_and_in_numbers(kpi: KpiAnswers) -> None:
    """Counts of different units are compared by their rates; asked in numbers, the count comes first."""
    rates = _rates(kpi, (2023,))
    query = kpi.detect("R5はジョブカフェとサポステのどっちが進んでる？", TODAY)
    assert query == KpiQuery("between", (JOB_CAFE, SAPOSUTE), (2023,), "")
    first = kpi.answer(query).splitlines()[0]
    assert first.startswith("令和5年度の進捗率") and f"{rates[SAPOSUTE] - rates[JOB_CAFE]}ポイント高い" in first
    query = kpi.detect("were there more job cafe registrations or counselling sessions in FY2023, and by how many?",
                       TODAY)
    assert query is not None and query.kind == "between" and query.aspect == "count"
    values = {kpi_id: kpi.catalog.kpis[kpi_id].result_for(2023).result for kpi_id in (JOB_CAFE, SAPOSUTE)}  # type: ignore[union-attr]
    first = kpi.answer(query, "en").splitlines()[0]
    assert f"is {values[JOB_CAFE] - values[SAPOSUTE]:,} more than" in first and "units differ" in first
    cumulative = _rates(kpi)
    query = kpi.detect("gap in points between the cumulative rates of counselling and Job Cafe?", TODAY)
    assert query is not None and query.kind == "between" and not query.fiscal_years
    assert f"{cumulative[SAPOSUTE] - cumulative[JOB_CAFE]} points higher" in kpi.answer(query, "en")
    # two years of two KPIs stay a comparison of years, KPI by KPI
    query = kpi.detect("R4とR5の正社員就職件数とジョブカフェ登録者数の増減は？", TODAY)
    assert query is not None and query.kind == "compare"


def test_the_kpi_furthest_ahead_in_a_year_and_the_best_single_year(kpi: KpiAnswers) -> None:
    rates = _rates(kpi, (2023,))
    top = max(rates, key=rates.__getitem__)
    query = kpi.detect("令和5年度単年の進捗率が4指標の中で最も高かったのはどの指標？", TODAY)
    assert query == KpiQuery("best", (), (2023,), "")
    answer = kpi.answer(query)
    name = kpi.catalog.kpis[top].short_name.ja  # type: ignore[union-attr]
    assert answer.startswith(f"令和5年度で進捗が一番進んでいるKPIは「{name}」（目標の{rates[top]}%）")
    query = kpi.detect("Out of all the indicators, which one recorded the highest single-year progress rate?", TODAY)
    assert query is not None and query.kind == "best" and query.aspect == "single"
    best = max(((_rates(kpi, (item.fiscal_year,))[row.id], item.fiscal_year, row) for row in kpi.catalog.kpis.values()
                for item in row.yearly), key=lambda entry: entry[0])
    assert kpi.answer(query, "en").startswith(f"The highest single-year rate was '{best[2].short_name.en}' in "  # type: ignore[union-attr]
                                              f"FY{best[1]}")


def test_a_cumulative_total_past_its_target_says_when_it_passed_it(kpi: KpiAnswers) -> None:
    running, crossed = 0, None
    for item in kpi.catalog.kpis[SAPOSUTE].yearly:
        running += item.result
        crossed = crossed or (item.fiscal_year if running >= kpi.catalog.kpis[SAPOSUTE].target else None)
    query = kpi.detect("サポステの相談件数、目標を何件上回った？", TODAY)
    assert query is not None and query.kind == "cumulative"
    assert f"（目標を超えたのは令和{crossed - 2018}年度）" in kpi.answer(query).splitlines()[0]  # type: ignore[operator]


def test_which_kpis_fell_comes_first_then_each_kpi(kpi: KpiAnswers) -> None:
    """「令和5年度に前年度より減ったKPIは？」: one line of the falls, one of the rises, then KPI by KPI."""
    changes = {row.id: row.result_for(2023).result - row.result_for(2022).result  # type: ignore[union-attr]
               for row in kpi.catalog.kpis.values()}
    query = kpi.detect("令和5年度に前年度より実績が減ったKPIはありますか", TODAY)
    assert query is not None and query.aspect == "all_fell"
    lines = kpi.answer(query).splitlines()
    fell = [kpi.catalog.kpis[kpi_id].short_name.ja  # type: ignore[union-attr]
            for kpi_id, change in changes.items() if change < 0]
    assert lines[0].startswith("令和5年度に令和4年度より減ったKPI：")
    assert fell and all(f"「{name}」" in lines[0] for name in fell)
    rose = kpi.answer(kpi.detect("令和5年度に前年度より増えたKPIは？", TODAY)).splitlines()[0]  # type: ignore[arg-type]
    assert rose.startswith("令和5年度に令和4年度より増えたKPI：")


def test_the_writers_own_goal_is_not_the_plans(kpi: KpiAnswers) -> None:
    assert kpi.detect("目標達成したいです", TODAY) is None
    assert kpi.detect("目標達成してる？", TODAY) == KpiQuery("list")


@pytest.mark.parametrize("text", [
    "サポステって若い人だけかと思ってた。40代前半でも登録できますか",  # 前半 of one's forties, not of the plan
    "40代後半の人を正社員で雇うと会社がもらえるお金ってありますか",
    "市町村プラットフォームを立ち上げて2年目ですが、検討会がうまく回りません。他の市の工夫を教えてもらえる場は？",
])
def test_halves_and_nth_years_of_a_life_are_not_the_plans(kpi: KpiAnswers, text: str) -> None:
    assert kpi.detect(text, TODAY) is None


def test_english_words_are_not_found_across_the_missing_spaces(kpi: KpiAnswers) -> None:
    """Normalized text has no spaces: "of all" holds "fall", "against" holds "gain", "almost" holds "most"."""
    share = kpi.detect("What share of all Job Cafe registrations came in FY2021?", TODAY)
    assert share is not None and share.kind == "one" and share.aspect == "share"
    best = kpi.detect("Which KPI is the most advanced against its target?", TODAY)
    assert best == KpiQuery("best", (), (), "")
    almost = kpi.detect("Job Cafe registrations in FY2022, almost 4,000?", TODAY)
    assert almost is not None and almost.kind == "one"
    at_least = kpi.detect("Were there at least 1,000 counselling sessions in FY2022?", TODAY)
    assert at_least is not None and at_least.kind == "one"


def test_a_question_in_dialect_is_read_in_its_standard_form(catalog: Catalog) -> None:
    """「いぢばん多がったのはいづだべ」 (Tsugaru) is いちばん多かったのはいつ: the catalog's dialect forms apply."""
    understanding = Understanding(catalog, Translator())
    answer = understanding.interpret("正社員就職、いぢばん多がったのはいづだべ？")
    assert answer.intent == "kpi"
    assert answer.text.startswith("正社員就職件数が一番多かったのは令和5年度（1,033件")
    answer = understanding.interpret("サポステの相談件数、前の年より一番増えだのっていつだば?")  # 増えだ = 増えた
    assert answer.intent == "kpi" and "令和4年度（348件増、36.9%増）" in answer.text.splitlines()[0]
