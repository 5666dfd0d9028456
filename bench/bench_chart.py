"""Time to render the KPI chart (staff /kpi and `navigator-bot chart`), against a blank figure of the same size.

Usage: .venv/bin/python bench/bench_chart.py
Target: well under 1 s for all KPIs (it runs in a worker thread, off the event loop).
"""

from __future__ import annotations

import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from navigator_bot.catalog import load_catalog
from navigator_bot.kpi_chart import DPI, chart_size, render_kpi_chart


def blank_png(width: int, height: int) -> bytes:
    """Render an empty figure of the same pixel size: the floor any chart of that size pays."""
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def timed(action: object, rounds: int = 5) -> list[float]:
    """Return the wall time of each of `rounds` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    """Print the figures."""
    catalog = load_catalog()
    start = time.perf_counter()
    render_kpi_chart(catalog)
    first = time.perf_counter() - start
    full = timed(lambda: render_kpi_chart(catalog))
    one = timed(lambda: render_kpi_chart(catalog, ["regular-employment"]))
    blank = timed(lambda: blank_png(*chart_size(len(catalog.kpis))))
    print(f"chart, all {len(catalog.kpis)} KPIs: first {first * 1e3:.0f} ms, then median "
          f"{statistics.median(full) * 1e3:.0f} ms (blank figure of the same size: "
          f"{statistics.median(blank) * 1e3:.0f} ms, ratio {statistics.median(full) / statistics.median(blank):.1f}x)")
    print(f"chart, one KPI: median {statistics.median(one) * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
