"""Run every benchmark in bench/ and print their figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ["bench_understanding.py", "bench_chart.py", "bench_bot.py"]


def main() -> int:
    """Run each benchmark script that exists, in order; return non-zero if one failed."""
    failed = 0
    for name in BENCHES:
        path = Path(__file__).parent / name
        if not path.exists():
            continue
        print(f"== {name}", flush=True)
        failed |= subprocess.run([sys.executable, str(path)], check=False).returncode
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
