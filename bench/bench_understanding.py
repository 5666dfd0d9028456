"""In-process latency of understanding a message, over the evaluation set, and the index build time.

Usage: .venv/bin/python bench/bench_understanding.py [--rounds N]
Targets (issue 3): median under 1 ms per query, index build under 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from navigator_bot.catalog import load_catalog  # noqa: E402
from navigator_bot.i18n import Translator  # noqa: E402
from navigator_bot.understanding import Understanding  # noqa: E402
from tests.evaluation import load_queries  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of the sorted values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    catalog = load_catalog()
    translator = Translator()
    builds = []
    for _ in range(10):
        start = time.perf_counter()
        understanding = Understanding(catalog, translator, today=lambda: dt.date(2026, 11, 26))
        builds.append(time.perf_counter() - start)
    queries = [case["q"] for case in load_queries()]
    for query in queries:  # warm-up
        understanding.interpret(query)
    latencies = []
    for _ in range(args.rounds):
        for query in queries:
            start = time.perf_counter()
            understanding.interpret(query)
            latencies.append(time.perf_counter() - start)
    baseline = []  # the floor: normalizing the text alone, measured in the same run
    for _ in range(args.rounds):
        for query in queries:
            start = time.perf_counter()
            understanding.rewriter.canonical(query)
            baseline.append(time.perf_counter() - start)
    median = statistics.median(latencies)
    print(f"queries: {len(queries)} x {args.rounds} rounds")
    print(f"interpret latency: median {median * 1e3:.3f} ms, p99 {percentile(latencies, 0.99) * 1e3:.3f} ms, "
          f"max {max(latencies) * 1e3:.3f} ms (target: median < 1 ms)")
    print(f"normalize-only baseline: median {statistics.median(baseline) * 1e3:.3f} ms "
          f"(interpret / baseline = {median / statistics.median(baseline):.1f}x)")
    print(f"index build (Understanding from a loaded catalog): median {statistics.median(builds) * 1e3:.1f} ms, "
          f"max {max(builds) * 1e3:.1f} ms (target < 200 ms)")
    start = time.perf_counter()
    load_catalog()
    print(f"catalog load + validation: {(time.perf_counter() - start) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
