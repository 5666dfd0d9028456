"""In-process cost of understanding typed messages (with the embedding model) and of button presses.

Usage: .venv/bin/python bench/bench_understanding.py [--rounds N]

Every figure is measured against a baseline taken in the same run, since the machines are shared and noisy:
- typed messages through the full understanding (model included) vs the words-only understanding;
- a button press through the engine with the model loaded vs without it (it should not touch the model);
- catalog embedding: cold (empty cache) vs warm (cache hit).
Targets (issue 10): typed median <= 30 ms and p99 <= 80 ms; buttons as fast as before; warm start-up and memory
are measured end to end by bench_bot.py (start-up <= 1.5 s, RSS <= 150 MB with 1,000 users).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from navigator_bot.catalog import load_catalog  # noqa: E402
from navigator_bot.dialogue import ButtonPressed, UserContext  # noqa: E402
from navigator_bot.engine import ConversationState, DialogueEngine  # noqa: E402
from navigator_bot.i18n import Translator  # noqa: E402
from navigator_bot.understanding import Understanding  # noqa: E402
from navigator_bot.understanding.semantic import load_encoder  # noqa: E402
from tests.evaluation import BLIND, QUERIES, load_queries  # noqa: E402

BUTTONS = ["p:self", "s:unstable-work", "a:single-parent:no", "a:training:yes", "back", "res", "m:hellowork-desk"]


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of the sorted values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timings(function: Callable[[str], object], items: list[str], rounds: int) -> list[float]:
    """Return the seconds of each call, over `rounds` passes (after one warm-up pass)."""
    for item in items:
        function(item)
    out = []
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            function(item)
            out.append(time.perf_counter() - start)
    return out


def describe(label: str, values: list[float]) -> str:
    """Return median, p99 and max in milliseconds."""
    return (f"{label}: median {statistics.median(values) * 1e3:.2f} ms, p99 {percentile(values, 0.99) * 1e3:.2f} ms, "
            f"max {max(values) * 1e3:.2f} ms")


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    catalog = load_catalog()
    translator = Translator()
    today = lambda: dt.date(2026, 11, 26)  # noqa: E731
    encoder, status = load_encoder()
    if encoder is None:
        print(f"embedding model unavailable ({status.detail}): nothing to compare")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        start = time.perf_counter()
        full = Understanding(catalog, translator, today=today, encoder=encoder, cache_dir=cache)
        cold = time.perf_counter() - start
        warm_builds = []
        for _ in range(5):
            start = time.perf_counter()
            full = Understanding(catalog, translator, today=today, encoder=encoder, cache_dir=cache)
            warm_builds.append(time.perf_counter() - start)
    words_only = Understanding(catalog, translator, today=today)

    queries = [case["q"] for path in (QUERIES, BLIND) for case in load_queries(path)]
    typed_full = timings(full.interpret, queries, args.rounds)
    typed_words = timings(words_only.interpret, queries, args.rounds)
    print(f"typed messages: {len(queries)} x {args.rounds} rounds")
    print(describe("  with the model (target: median <= 30 ms, p99 <= 80 ms)", typed_full))
    print(describe("  words only (baseline)", typed_words))
    print(f"  ratio of medians: {statistics.median(typed_full) / statistics.median(typed_words):.1f}x")

    def press(understanding: Understanding) -> Callable[[str], object]:
        engine = DialogueEngine(catalog, understanding, translator)
        state = ConversationState()
        context = UserContext()
        return lambda action: engine.handle(state, ButtonPressed(action), context)

    buttons_full = timings(press(full), BUTTONS, args.rounds * 40)
    buttons_words = timings(press(words_only), BUTTONS, args.rounds * 40)
    print(describe("button presses with the model", buttons_full))
    print(describe("button presses words only (baseline)", buttons_words))
    print(f"  ratio of medians: {statistics.median(buttons_full) / statistics.median(buttons_words):.2f}x "
          "(target: about 1)")
    print(f"catalog embedding: cold {cold * 1e3:.0f} ms, warm (cache hit) median "
          f"{statistics.median(warm_builds) * 1e3:.1f} ms; ratio {cold / statistics.median(warm_builds):.0f}x")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
