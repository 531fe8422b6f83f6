#!/usr/bin/env python3
"""Benchmark: `orchestrate --version` against `python3 -c pass`, measured in the same run.

Runs are interleaved so that machine load affects both alike. With --check, exits 1 when
the CLI's median start-up exceeds 3x the bare interpreter's (the budget of issue 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_scale import cli_command  # noqa: E402


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: the bytecode is cached
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def measure(runs: int) -> dict:
    bare = [sys.executable, "-c", "pass"]
    cli = [*cli_command(), "--version"]
    _once(bare), _once(cli)  # warm the page cache
    bare_times, cli_times = [], []
    for _ in range(runs):
        bare_times.append(_once(bare))
        cli_times.append(_once(cli))
    return {
        "command": " ".join(cli),
        "python_median_s": statistics.median(bare_times),
        "cli_median_s": statistics.median(cli_times),
        "ratio": statistics.median(cli_times) / statistics.median(bare_times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--check", action="store_true", help="exit 1 when over 3x")
    args = parser.parse_args()
    result = measure(args.runs)
    print(f"python3 -c pass        {result['python_median_s'] * 1000:7.1f} ms median")
    print(f"orchestrate --version  {result['cli_median_s'] * 1000:7.1f} ms median"
          f"  ({result['command']})")
    print(f"ratio                  {result['ratio']:7.2f}x (budget 3x)")
    if args.check and result["ratio"] > 3:
        print("OVER BUDGET: start-up above 3x the bare interpreter", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
