#!/usr/bin/env python3
"""Benchmark: a generated N-phase plan read, validated and scheduled.

Prints the in-process time of each stage and the wall time of `orchestrate plan waves` as a
process. With --check, exits 1 when a budget printed is exceeded: a 1000-phase plan validated
and scheduled within 0.5 s (in-process, and `plan waves` as a process), and a 20-phase
`plan validate` as a process within 100 ms (DESIGN section 7).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))


def generate_plan(phases: int, seed: int = 7) -> str:
    """A plan in the /execute-plan format with random back edges and realistic fields."""
    rng = random.Random(seed)
    out = ["# Plan: generated benchmark plan", "", "## Overview", "", "Generated.", ""]
    for number in range(1, phases + 1):
        earlier = list(range(max(1, number - 30), number))
        deps = sorted(rng.sample(earlier, min(len(earlier), rng.randint(0, 3))))
        depends = ", ".join(f"Phase {d}" for d in deps) or "none"
        out += [
            f"## Phase {number}: Generated step {number} [NOT STARTED]",
            "",
            f"- **Owner:** {rng.choice(['rust-developer', 'doc-writer', 'schema-architect'])}",
            f"- **Depends on:** {depends}",
            f"- **Files:** `src/mod_{number}.rs`, `tests/mod_{number}_test.rs`",
            f"- **Blast radius:** `mod_{number}::`",
            f"- **Estimated Hours:** {rng.randint(1, 4)}-{rng.randint(5, 8)}",
            "",
            f"Implement module {number} and its tests.",
            "",
            "**Checkpoint:**",
            "```bash",
            f"cargo test mod_{number}::",
            "```",
            "",
        ]
    return "\n".join(out)


def cli_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m orchestrator`."""
    script = Path(sys.executable).with_name("orchestrate")
    if script.exists():
        return [str(script)]
    found = shutil.which("orchestrate")
    return [found] if found else [sys.executable, "-m", "orchestrator"]


def time_process(argv: list[str], runs: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure the CLI as installed: bytecode cached
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        samples.append(time.perf_counter() - start)
    return samples


def measure(phases: int, runs: int) -> dict:
    from orchestrator.engine.scheduler import simulate
    from orchestrator.plan import parse_plan
    from orchestrator.plan.analysis import analyze_plan

    text = generate_plan(phases)
    start = time.perf_counter()
    plan, _ = parse_plan(text, "generated.md")
    parsed = time.perf_counter()
    analysis = analyze_plan(plan)
    analysed = time.perf_counter()
    simulate(plan.ids, plan.dependencies(), analysis.durations, jobs=4)
    scheduled = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.md"
        path.write_text(text)
        process = time_process([*cli_command(), "plan", "waves", str(path), "--json"], runs)
        small = Path(folder) / "small.md"
        small.write_text(generate_plan(20))
        small_process = time_process([*cli_command(), "plan", "validate", str(small)], runs)
    return {
        "phases": phases,
        "bytes": len(text.encode()),
        "parse_validate_s": parsed - start,
        "waves_critical_path_s": analysed - parsed,
        "simulate_jobs4_s": scheduled - analysed,
        "in_process_total_s": scheduled - start,
        "process_waves_median_s": statistics.median(process),
        "process_waves_min_s": min(process),
        "process_validate_20_median_s": statistics.median(small_process),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="process timings to take")
    parser.add_argument("--check", action="store_true", help="exit 1 when over budget")
    args = parser.parse_args()
    result = measure(args.phases, args.runs)
    print(f"plan: {result['phases']} phases, {result['bytes'] / 1024:.0f} KiB")
    print(f"  parse + validate (in-process)      {result['parse_validate_s'] * 1000:8.1f} ms")
    waves_ms = result["waves_critical_path_s"] * 1000
    print(f"  waves + critical path (in-process) {waves_ms:8.1f} ms")
    print(f"  simulated schedule, 4 jobs         {result['simulate_jobs4_s'] * 1000:8.1f} ms")
    print(f"  total in-process                   {result['in_process_total_s'] * 1000:8.1f} ms")
    print(f"  `plan waves --json` as a process   {result['process_waves_median_s'] * 1000:8.1f} ms"
          f" median, {result['process_waves_min_s'] * 1000:.1f} ms min (budget 500 ms)")
    small_ms = result["process_validate_20_median_s"] * 1000
    print(f"  `plan validate` 20 phases, process {small_ms:8.1f} ms median (budget 100 ms)")
    if not args.check:
        return 0
    over = []
    if result["in_process_total_s"] > 0.5:
        over.append("in-process validate + schedule over 0.5 s")
    if args.phases >= 1000 and result["process_waves_median_s"] > 0.5:
        over.append("plan waves process over 0.5 s")
    # About 55 ms of the 20-phase figure is importing markdown-it-py and what it needs, so
    # it is close to DESIGN's 100 ms: --check says so whenever it is over.
    if result["process_validate_20_median_s"] > 0.1:
        over.append("plan validate of 20 phases as a process over 100 ms")
    for line in over:
        print(f"OVER BUDGET: {line}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
