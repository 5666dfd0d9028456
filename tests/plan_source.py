"""Parse the source document (a copy in tests/fixtures) so tests can compare the catalog with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PLAN = Path(__file__).parent / "fixtures" / "aomori_platform_plan.txt"
REPOST = "(再掲)"


@dataclass(frozen=True)
class PlanRow:
    """One row of a measure table in the plan."""

    category_number: int
    position: int
    title: str
    summary: str
    agencies: tuple[str, ...]
    repost: bool


@dataclass(frozen=True)
class PlanKpi:
    """One row of the KPI table in the plan, with the figures as printed."""

    category_number: int
    name: str
    target: str
    cumulative: str
    cumulative_rate: str
    yearly: tuple[tuple[str, str], ...]


def _lines() -> list[str]:
    return PLAN.read_text(encoding="utf-8").split("\n")


def measure_rows() -> list[PlanRow]:
    """Return every row of the plan's measure tables, in order."""
    rows: list[PlanRow] = []
    in_measures = False
    category = 0
    position = 0
    for line in _lines():
        cells = line.split("\t")
        if cells[0] in ("支援", "支 援"):
            in_measures = True
            continue
        if not in_measures or not line.strip():
            continue
        if cells[0][:1].isdigit() and cells[0][1:2] == " ":
            category, position = int(cells[0][0]), 0
            continue
        position += 1
        title, summary, agencies = cells
        repost = title.endswith(REPOST)
        rows.append(PlanRow(category, position, title.removesuffix(REPOST), summary,
                            tuple(agencies.split("・")), repost))
    return rows


def category_headings() -> dict[int, str]:
    """Return each category's heading line of the measure tables, without its number."""
    headings: dict[int, str] = {}
    for line in _lines():
        cells = line.split("\t")
        if len(cells) == 3 and cells[0][:1].isdigit() and cells[0][1:2] == " " and not cells[1]:
            headings[int(cells[0][0])] = cells[0][2:]
    return headings


def kpi_rows() -> list[PlanKpi]:
    """Return every row of the KPI table, with figures as printed (e.g. '3,300', '111.6%')."""
    rows: list[PlanKpi] = []
    category = 0
    for line in _lines():
        cells = line.split("\t")
        if len(cells) != 13 or not cells[2][:1].isdigit():
            continue
        if cells[0]:
            category = int(cells[0][0])
        yearly = tuple((cells[index], cells[index + 1]) for index in range(5, 13, 2))
        rows.append(PlanKpi(category, cells[1], cells[2], cells[3], cells[4], yearly))
    return rows
