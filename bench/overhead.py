#!/usr/bin/env python3
"""Benchmark: the engine's cost per step, and a no-op DAG beside make -j4.

Two measurements, side by side in one process so that machine load affects both alike:

1. Per-step overhead at several run sizes (100, 1,000 and 10,000 no-op steps by default):
   a generated plan (half independent steps, half chains of 5; each step's **Run:** block is
   `true`) runs in-process through `orchestrator.drivers.run.start_run` with 1 job. Wall
   time / steps includes the journal fsyncs, snapshots, reports and spawning bash; the bare
   cost of `bash -c true` is measured in the same run. The figures should stay flat as the
   run grows: nothing in the loop may cost more as the run gets longer.
2. A 500-step no-op DAG (five independent chains of 100) run by `orchestrate run --jobs 4` as
   a process, beside the same DAG as a Makefile under `make -j4` (SHELL = bash, so both start
   one bash per step). The ratio is what matters.

3. The `wf` path: a chain of agent steps driven through `orchestrate wf`, one process per
   call as the slash commands do (`wf next`, the stand-in agent writes its file, `wf report`),
   per step beside the headless figure.

With --check, exits 1 when a budget is exceeded: 15 ms per step with 1 job (DESIGN section 7),
per-step time across sizes flat within 1.5x, the DAG within 4x of make -j4, and the `wf`
path under 250 ms per step.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

BUDGET_MS = 15.0
FLAT_RATIO = 1.5
MAKE_RATIO = 4.0
WF_BUDGET_MS = 250.0
WF_STEPS = 20
CHAIN = 5  # steps per chain in the chained half of the sized plans
DAG_CHAINS, DAG_LENGTH = 5, 100


def _phase(number: int, depends: str) -> list[str]:
    return [f"## Phase {number}: No-op step {number}", "", f"- **Depends on:** {depends}", "",
            "**Run:**", "```bash", "true", "```", ""]


def generate_plan(steps: int) -> str:
    """The first half of the steps independent, the second half in chains of CHAIN."""
    out = ["# Plan: engine overhead", ""]
    independent = steps // 2
    for number in range(1, steps + 1):
        chained = number > independent and (number - independent - 1) % CHAIN
        out += _phase(number, f"Phase {number - 1}" if chained else "none")
    return "\n".join(out)


def generate_dag(chains: int = DAG_CHAINS, length: int = DAG_LENGTH) -> tuple[str, str]:
    """The same DAG as a plan and as a Makefile: ``chains`` independent chains."""
    plan = ["# Plan: no-op DAG", ""]
    make = ["SHELL := /bin/bash", ".PHONY: all", ""]
    ends = []
    number = 0
    for _ in range(chains):
        for position in range(length):
            number += 1
            plan += _phase(number, f"Phase {number - 1}" if position else "none")
            before = f" s{number - 1}" if position else ""
            make += [f".PHONY: s{number}", f"s{number}:{before}", "\ttrue", ""]
        ends.append(f"s{number}")
    make.insert(2, "all: " + " ".join(ends))
    return "\n".join(plan), "\n".join(make) + "\n"


def spawn_cost(count: int) -> float:
    """Seconds to run `bash -c true` ``count`` times, one after another."""
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(["bash", "-c", "true"], check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_in_process(folder: Path, steps: int, jobs: int) -> dict:
    """Run a generated plan of ``steps`` in ``folder``; wall time and what it left."""
    from orchestrator.drivers.run import start_run
    from orchestrator.render.progress import make_progress

    plan = folder / f"overhead-{steps}.md"
    plan.write_text(generate_plan(steps), encoding="utf-8")
    progress = make_progress(io.StringIO(), json_mode=True)
    start = time.perf_counter()
    result = start_run(str(plan), jobs=jobs, cwd=folder, progress=progress)
    wall = time.perf_counter() - start
    journal = result.run_dir / "journal.jsonl"
    return {
        "steps": steps,
        "wall_s": wall,
        "status": result.state.status,
        "completed": result.state.counts().get("completed", 0),
        "journal_bytes": journal.stat().st_size,
        "journal_lines": journal.read_bytes().count(b"\n"),
    }


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of the CLI processes measured: as a user's, whose installed
    package has its bytecode cached (PYTHONDONTWRITEBYTECODE, set in some shells and CI
    images, would make every call compile the package from source)."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("orchestrate")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "orchestrator"]


def run_dag(folder: Path, jobs: int) -> dict:
    """The DAG through `orchestrate run` (a process) and through `make`, back to back."""
    plan_text, makefile = generate_dag()
    (folder / "dag.md").write_text(plan_text, encoding="utf-8")
    (folder / "Makefile").write_text(makefile, encoding="utf-8")
    env = cli_env(ORCHESTRATE_STATE_DIR=str(folder / "dag-state"))
    start = time.perf_counter()
    done = subprocess.run([*cli_command(), "run", "dag.md", "--jobs", str(jobs), "--json"],
                          cwd=folder, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    ours = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"orchestrate run failed ({done.returncode}): {done.stderr[-2000:]}")
    journal = folder / "dag-state" / "runs" / "dag" / "journal.jsonl"
    events = journal.read_bytes().count(b"\n")
    start = time.perf_counter()
    subprocess.run(["make", "-s", f"-j{jobs}", "all"], cwd=folder, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    make = time.perf_counter() - start
    return {"steps": DAG_CHAINS * DAG_LENGTH, "jobs": jobs, "ours_s": ours, "make_s": make,
            "events": events}


def run_wf(folder: Path, steps: int = WF_STEPS) -> dict:
    """A chain of agent steps through `wf next` + `wf report`, each call a process."""
    import json

    project = folder / "wf-project"
    project.mkdir()
    lines = ["# Plan: wf path", ""]
    for number in range(1, steps + 1):
        depends = f"Phase {number - 1}" if number > 1 else "none"
        lines += [f"## Phase {number}: Step {number}", f"- **Depends on:** {depends}",
                  f"- **Files:** `out/{number}.txt`", ""]
    (project / "plan.md").write_text("\n".join(lines), encoding="utf-8")
    env = cli_env(ORCHESTRATE_STATE_DIR=str(project / ".state"))

    def call(*args: str) -> dict:
        done = subprocess.run([*cli_command(), "wf", *args, "--json"], cwd=project, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"wf {args[0]} failed: {done.stdout} {done.stderr[-2000:]}")
        return json.loads(done.stdout)

    call("start", "--plan", "plan.md")  # also leaves the bytecode cached, as installed
    (project / "out").mkdir()
    start = time.perf_counter()
    reported = 0
    while True:
        actions = call("next", "plan")["actions"]
        if actions[0]["type"] == "done":
            break
        for action in actions:
            (project / "out" / f"{action['step']}.txt").write_text("done\n")
            call("report", "plan", action["id"])
            reported += 1
    wall = time.perf_counter() - start
    return {"steps": steps, "reported": reported, "wall_s": wall}


def measure(sizes: list[int], with_make: bool) -> dict:
    from orchestrator.store import project_root

    with tempfile.TemporaryDirectory(prefix="orchestrate-overhead-") as temp:
        folder = Path(temp).resolve()
        if project_root(folder) != folder:
            raise SystemExit(f"{folder} is inside a git repository; set TMPDIR elsewhere")
        previous = os.environ.get("ORCHESTRATE_STATE_DIR")
        os.environ["ORCHESTRATE_STATE_DIR"] = str(folder / "state")
        try:
            spawn_cost(5)  # warm the page cache
            bare = spawn_cost(200) / 200
            runs = [run_in_process(folder, steps, jobs=1) for steps in sizes]
            dag = run_dag(folder, jobs=4) if with_make else None
            wf = run_wf(folder)
        finally:
            if previous is None:
                os.environ.pop("ORCHESTRATE_STATE_DIR", None)
            else:
                os.environ["ORCHESTRATE_STATE_DIR"] = previous
    return {"bash_s": bare, "runs": runs, "dag": dag, "wf": wf}


def report(result: dict) -> list[str]:
    """Print the figures; return the budgets they exceed."""
    over = []
    bash_ms = result["bash_s"] * 1000
    print("overhead: no-op shell steps (half independent, half in chains of "
          f"{CHAIN}), in-process, 1 job")
    print(f"  bash -c true                      {bash_ms:8.2f} ms each")
    per_step = []
    for run in result["runs"]:
        ms = run["wall_s"] * 1000 / run["steps"]
        per_step.append(ms)
        print(f"  {run['steps']:6} steps: {run['status']}, {run['completed']} completed, "
              f"{run['wall_s']:.2f} s")
        print(f"    per step                        {ms:8.2f} ms (budget {BUDGET_MS:g} ms), "
              f"minus bash {ms - bash_ms:.2f} ms")
        print(f"    journal                         {run['journal_bytes'] / 1024:8.1f} KiB, "
              f"{run['journal_lines']} events")
        if run["status"] != "completed":
            over.append(f"the {run['steps']}-step run ended {run['status']}")
        if ms >= BUDGET_MS:
            over.append(f"{ms:.2f} ms per step at {run['steps']} steps, budget {BUDGET_MS:g}")
    if len(per_step) > 1:
        ratio = max(per_step) / min(per_step)
        print(f"  largest / smallest per-step time  {ratio:8.2f}x (flat: within "
              f"{FLAT_RATIO:g}x)")
        if ratio > FLAT_RATIO:
            over.append(f"per-step time varies {ratio:.2f}x across sizes, budget {FLAT_RATIO:g}x")
    dag = result["dag"]
    if dag is not None:
        ratio = dag["ours_s"] / dag["make_s"]
        print(f"dag: {dag['steps']} no-op steps in {DAG_CHAINS} independent chains, "
              f"--jobs {dag['jobs']}")
        print(f"  orchestrate run (process)         {dag['ours_s'] * 1000:8.1f} ms, "
              f"{dag['events']} events journalled")
        print(f"  make -j{dag['jobs']} (SHELL = bash)         {dag['make_s'] * 1000:8.1f} ms")
        print(f"  ratio                             {ratio:8.2f}x (aim: {MAKE_RATIO:g}x or "
              "better)")
        if ratio > MAKE_RATIO:
            over.append(f"the DAG takes {ratio:.2f}x make -j{dag['jobs']}, budget "
                        f"{MAKE_RATIO:g}x")
    wf = result["wf"]
    wf_ms = wf["wall_s"] * 1000 / wf["steps"]
    headless_ms = result["runs"][0]["wall_s"] * 1000 / result["runs"][0]["steps"]
    print(f"wf: {wf['steps']} agent steps in a chain through `wf next` + `wf report` "
          f"(two processes a step), {wf['reported']} reported")
    print(f"  per step                          {wf_ms:8.1f} ms (budget {WF_BUDGET_MS:g} ms); "
          f"headless {headless_ms:.2f} ms")
    if wf["reported"] != wf["steps"]:
        over.append(f"the wf run reported {wf['reported']} of {wf['steps']} steps")
    if wf_ms > WF_BUDGET_MS:
        over.append(f"the wf path takes {wf_ms:.1f} ms per step, budget {WF_BUDGET_MS:g} ms")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="comma-separated run sizes in steps (default 100,1000,10000)")
    parser.add_argument("--no-make", action="store_true", help="skip the make comparison")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a budget is exceeded")
    args = parser.parse_args()
    try:
        sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error(f"--sizes: expected numbers, got {args.sizes!r}")
    if not sizes or min(sizes) < 2:
        parser.error("--sizes: each size must be at least 2")
    with_make = not args.no_make
    if with_make and shutil.which("make") is None:
        print("make is not installed: skipping the make comparison", file=sys.stderr)
        with_make = False
    over = report(measure(sizes, with_make))
    if not args.check:
        return 0
    for line in over:
        print(f"OVER BUDGET: {line}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
