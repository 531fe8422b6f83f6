#!/usr/bin/env python3
"""Benchmark: the engine's cost per step, from a run of 200 no-op shell steps.

A generated plan (independent steps and chains, each step's **Run:** block is `true`) runs
in-process through `orchestrator.runner.service.start_run` with 1 and 4 jobs, in a temporary
folder that is not a git repository. Wall time / steps includes the journal fsyncs, snapshot
writes, reports and spawning bash; the bare cost of spawning `bash -c true` is measured in
the same run and shown beside it. With --check, exits 1 when the time per step with 1 job
reaches 15 ms (DESIGN section 7).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

BUDGET_MS = 15.0
CHAIN = 5  # steps per chain in the chained half of the plan


def generate_plan(steps: int) -> str:
    """The first half of the steps independent, the second half in chains of CHAIN."""
    out = ["# Plan: engine overhead", ""]
    independent = steps // 2
    for number in range(1, steps + 1):
        chained = number > independent and (number - independent - 1) % CHAIN
        depends = f"Phase {number - 1}" if chained else "none"
        out += [
            f"## Phase {number}: No-op step {number}",
            "",
            f"- **Depends on:** {depends}",
            "",
            "**Run:**",
            "```bash",
            "true",
            "```",
            "",
        ]
    return "\n".join(out)


def spawn_cost(count: int) -> float:
    """Seconds to run `bash -c true` ``count`` times, one after another."""
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(["bash", "-c", "true"], check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def snapshot_cost(state, repeat: int = 5) -> float:
    """Seconds to redact and encode one snapshot of ``state``, as the store does after every
    event (in memory: no file, no fsync).
    """
    from orchestrator.store import MemoryRunStore, MemorySpace

    store = MemoryRunStore(state.name, space=MemorySpace())
    start = time.perf_counter()
    for _ in range(repeat):
        store.save_snapshot(state)
    return (time.perf_counter() - start) / repeat


def run_plan(folder: Path, steps: int, jobs: int) -> dict:
    """Run the generated plan in ``folder``; wall time, outcome and what it left on disk."""
    from orchestrator.progress import make_progress
    from orchestrator.runner.service import start_run

    plan = folder / f"overhead-j{jobs}.md"
    plan.write_text(generate_plan(steps), encoding="utf-8")
    progress = make_progress(io.StringIO(), json_mode=True)
    start = time.perf_counter()
    result = start_run(str(plan), jobs=jobs, cwd=folder, progress=progress)
    wall = time.perf_counter() - start
    counts = result.state.counts()
    journal = result.run_dir / "journal.jsonl"
    return {
        "jobs": jobs,
        "wall_s": wall,
        "status": result.state.status,
        "completed": counts.get("completed", 0),
        "journal_bytes": journal.stat().st_size,
        "journal_lines": journal.read_bytes().count(b"\n"),
        "snapshot_bytes": (result.run_dir / "state.json").stat().st_size,
        "snapshot_s": snapshot_cost(result.state),
    }


def measure(steps: int) -> dict:
    from orchestrator.store import project_root

    with tempfile.TemporaryDirectory(prefix="orchestrate-overhead-") as temp:
        folder = Path(temp).resolve()
        if project_root(folder) != folder:
            raise SystemExit(f"{folder} is inside a git repository; set TMPDIR elsewhere")
        previous = os.environ.get("ORCHESTRATE_STATE_DIR")
        os.environ["ORCHESTRATE_STATE_DIR"] = str(folder / "state")
        try:
            spawn_cost(5)  # warm the page cache
            bare = spawn_cost(steps)
            runs = [run_plan(folder, steps, jobs) for jobs in (1, 4)]
        finally:
            if previous is None:
                os.environ.pop("ORCHESTRATE_STATE_DIR", None)
            else:
                os.environ["ORCHESTRATE_STATE_DIR"] = previous
    return {"steps": steps, "bash_s": bare, "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="no-op steps (default 200)")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when a step costs {BUDGET_MS:g} ms or more with 1 job")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    result = measure(args.steps)
    steps = result["steps"]
    bash_ms = result["bash_s"] * 1000 / steps
    print(f"overhead: {steps} no-op shell steps ({steps // 2} independent, the rest in chains "
          f"of {CHAIN}), run in-process")
    print(f"  bash -c true, {steps}x                {result['bash_s'] * 1000:8.1f} ms total "
          f"{bash_ms:6.2f} ms each")
    over = []
    for run in result["runs"]:
        per_step = run["wall_s"] * 1000 / steps
        print(f"  jobs {run['jobs']}: {run['status']}, {run['completed']}/{steps} completed")
        print(f"    wall time                      {run['wall_s'] * 1000:8.1f} ms")
        print(f"    per step                       {per_step:8.2f} ms"
              + (f" (budget {BUDGET_MS:g} ms)" if run["jobs"] == 1 else ""))
        print(f"    per step minus bash            {per_step - bash_ms:8.2f} ms")
        print(f"    journal                        {run['journal_bytes'] / 1024:8.1f} KiB, "
              f"{run['journal_lines']} events, "
              f"{run['journal_bytes'] / run['journal_lines']:.0f} bytes each")
        print(f"    snapshot at the end            {run['snapshot_bytes'] / 1024:8.1f} KiB, "
              f"{run['snapshot_s'] * 1000:.2f} ms to redact and encode (written at most every "
              "0.2 s and at run boundaries)")
        if run["status"] != "completed":
            over.append(f"the run with {run['jobs']} jobs ended {run['status']}")
        if run["jobs"] == 1 and per_step >= BUDGET_MS:
            over.append(f"{per_step:.2f} ms per step with 1 job, budget {BUDGET_MS:g} ms")
    if not args.check:
        return 0
    for line in over:
        print(f"OVER BUDGET: {line}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
