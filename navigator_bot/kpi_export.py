"""The KPI table as files staff can open in a spreadsheet: CSV (UTF-8 with BOM, for Excel) and JSON.

Every figure comes from the catalog; rates are computed (rate_percent), with the source of the figures.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .catalog import Catalog, rate_percent
from .fiscal_year import fiscal_year_label

SOURCE = "あおもり就職氷河期世代活躍支援プラットフォーム事業実施計画 進捗状況"
COLUMNS = ("kpi_id", "kpi", "unit", "fiscal_year", "fiscal_year_label", "result", "rate_percent", "cumulative",
           "cumulative_rate_percent", "target", "status", "source")
# The CSV's header row, for staff who open it in a spreadsheet; the JSON keeps the keys above.
HEADINGS = {
    "kpi_id": "KPI ID", "kpi": "KPI（重要業績評価指標）", "unit": "単位", "fiscal_year": "年度（西暦）",
    "fiscal_year_label": "年度", "result": "実績", "rate_percent": "進捗率（%）", "cumulative": "累計実績",
    "cumulative_rate_percent": "累計進捗率（%）", "target": "目標値（取組期間累計）", "status": "達成状況",
    "source": "出典",
}


def kpi_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """One row per KPI and fiscal year, then one for the whole period, with every figure and rate."""
    rows: list[dict[str, Any]] = []
    for kpi in catalog.kpis.values():
        cumulative = 0
        for item in kpi.yearly:
            cumulative += item.result
            rows.append({
                "kpi_id": kpi.id, "kpi": kpi.name, "unit": kpi.unit, "fiscal_year": item.fiscal_year,
                "fiscal_year_label": fiscal_year_label(item.fiscal_year, "ja"), "result": item.result,
                "rate_percent": str(rate_percent(item.result, kpi.target)), "cumulative": cumulative,
                "cumulative_rate_percent": str(rate_percent(cumulative, kpi.target)), "target": kpi.target,
                "status": "", "source": SOURCE,
            })
        total = sum(item.result for item in kpi.yearly)
        rows.append({
            "kpi_id": kpi.id, "kpi": kpi.name, "unit": kpi.unit, "fiscal_year": "",
            "fiscal_year_label": "累計", "result": total, "rate_percent": str(rate_percent(total, kpi.target)),
            "cumulative": total, "cumulative_rate_percent": str(rate_percent(total, kpi.target)),
            "target": kpi.target, "status": "達成" if total >= kpi.target else "未達成", "source": SOURCE,
        })
    return rows


def kpi_csv(catalog: Catalog) -> bytes:
    """Return the KPI table as CSV, UTF-8 with a byte-order mark so that Excel reads the Japanese right."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows(kpi_rows(catalog))
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def kpi_json(catalog: Catalog) -> str:
    """Return the KPI table as JSON: the source and one entry per KPI with its years."""
    kpis = []
    for kpi in catalog.kpis.values():
        total = sum(item.result for item in kpi.yearly)
        kpis.append({
            "id": kpi.id, "name": kpi.name, "name_en": kpi.name_en, "unit": kpi.unit, "target": kpi.target,
            "cumulative": total, "cumulative_rate_percent": str(rate_percent(total, kpi.target)),
            "achieved": total >= kpi.target,
            "yearly": [{"fiscal_year": item.fiscal_year, "label": fiscal_year_label(item.fiscal_year, "ja"),
                        "result": item.result, "rate_percent": str(rate_percent(item.result, kpi.target))}
                       for item in kpi.yearly],
        })
    return json.dumps({"source": SOURCE, "kpis": kpis}, ensure_ascii=False, indent=2)
