"""Staff add a year to kpis.yaml: answers, the chart, the exports and validation follow, with no code change."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from navigator_bot.catalog import CatalogInvalid, load_catalog
from navigator_bot.i18n import Translator
from navigator_bot.kpi_chart import chart_size, render_kpi_chart
from navigator_bot.kpi_export import kpi_csv, kpi_json
from navigator_bot.understanding.kpi import KpiAnswers

TODAY = date(2026, 11, 27)
OLD = '      - {fiscal_year: 2023, result: 1033, published_rate: "31.3%"}\n'
NEW = OLD + '      - {fiscal_year: 2024, result: 900, published_rate: "27.3%"}\n'


def _add_reiwa_6(catalog_copy: Path, cumulative: str = "4582", rate: str = "138.8%") -> None:
    kpis = catalog_copy / "kpis.yaml"
    text = kpis.read_text(encoding="utf-8").replace(OLD, NEW, 1)
    text = text.replace("    cumulative_result: 3682\n    cumulative_published_rate: \"111.6%\"",
                        f"    cumulative_result: {cumulative}\n    cumulative_published_rate: \"{rate}\"", 1)
    kpis.write_text(text, encoding="utf-8")


def test_a_new_year_flows_into_answers_chart_and_exports(catalog_copy: Path) -> None:
    _add_reiwa_6(catalog_copy)
    catalog = load_catalog(catalog_copy)
    kpi = KpiAnswers(catalog, Translator())
    answer = kpi.answer(kpi.detect("令和6年度の正社員就職件数は？", TODAY))  # type: ignore[arg-type]
    assert "令和6年度  900件" in answer and "累計（令和2〜6年度）  4,582件" in answer
    compare = kpi.answer(kpi.detect("正社員就職件数、令和6年度は前年度より減った？", TODAY))  # type: ignore[arg-type]
    assert compare.startswith("正社員就職件数：令和6年度は令和5年度より133件減りました（12.9%減）")
    png = render_kpi_chart(catalog, ["regular-employment"])
    assert png.startswith(b"\x89PNG") and chart_size(1)[1] > 0
    assert "2024,令和6年度,900,27.3,4582,138.8" in kpi_csv(catalog).decode("utf-8-sig")
    regular = json.loads(kpi_json(catalog))["kpis"][0]
    assert regular["yearly"][-1] == {"fiscal_year": 2024, "label": "令和6年度", "result": 900, "rate_percent": "27.3"}


def test_a_new_year_with_a_wrong_total_is_refused_with_its_line(catalog_copy: Path) -> None:
    _add_reiwa_6(catalog_copy, cumulative="3682", rate="111.6%")  # the total not updated
    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(catalog_copy)
    assert any("kpis.yaml" in str(issue) and "add up to 4,582" in str(issue) for issue in raised.value.issues)


def test_kpi_exports_from_the_command_line() -> None:
    csv = subprocess.run([sys.executable, "-m", "navigator_bot", "kpi", "--csv"], capture_output=True, timeout=60,
                         check=True).stdout
    assert csv.startswith("\ufeff".encode()) and "令和5年度,1033,31.3,3682,111.6" in csv.decode("utf-8-sig")
    header = csv.decode("utf-8-sig").splitlines()[0].split(",")  # headings a spreadsheet reader understands
    assert header[:3] == ["KPI ID", "KPI（重要業績評価指標）", "単位"] and header[-2:] == ["達成状況", "出典"]
    data = json.loads(subprocess.run([sys.executable, "-m", "navigator_bot", "kpi", "--json"], capture_output=True,
                                     timeout=60, check=True, text=True).stdout)
    assert data["source"].startswith("あおもり") and len(data["kpis"]) == 4
