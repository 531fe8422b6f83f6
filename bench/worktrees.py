#!/usr/bin/env python3
"""Benchmark: what a git worktree per isolated step costs.

In a scratch repository of a few hundred files, for each of N steps (20 by default): create
the step's worktree at the integration commit (checked with `git rev-parse`), write one file
and commit it, merge the step into the integration branch (fast-forward for the first,
merge commits after, computed without a working tree), and remove the worktree and its
branch. Each phase's time per step is printed beside the cost of starting `git --version`,
measured in the same run.

Then the makespan of a 4-branch plan (four independent chains of 3 shell steps, each
sleeping 0.2 s and writing a file) under `orchestrate run --jobs 4`, in-process, with and
without `--isolate`, side by side.

With --check, exits 1 when create + merge + remove take over 500 ms per step, or isolation
adds over 150 ms per step to the 4-branch plan's makespan (the git work runs in the
runner's loop; with agent steps of minutes it is lost in the noise).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

BUDGET_MS = 500.0
ADDED_MS = 150.0  # the makespan added by isolation, per step of the plan
BRANCHES, CHAIN, SLEEP_S = 4, 3, 0.2


def branch_plan() -> str:
    lines = ["# Plan: four branches", ""]
    for branch in range(1, BRANCHES + 1):
        for link in range(1, CHAIN + 1):
            step = f"{branch}{chr(96 + link)}"
            depends = f"Phase {branch}{chr(95 + link)}" if link > 1 else "none"
            lines += [f"## Phase {step}: Branch {branch} step {link}", "",
                      f"- **Depends on:** {depends}", "", "**Run:**", "```bash",
                      f"sleep {SLEEP_S} && echo {step} > out_{step}.txt", "```", ""]
    return "\n".join(lines)


def makespan(folder: Path, isolate: bool) -> dict:
    import io

    from orchestrator.drivers.run import start_run
    from orchestrator.render.progress import make_progress

    root = scratch(folder / ("isolated" if isolate else "shared"), 50)
    (root / "plan.md").write_text(branch_plan())
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@localhost",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@localhost"}
    subprocess.run(["git", "add", "plan.md"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "plan"], cwd=root, check=True,
                   env=dict(os.environ, **env))
    started = time.perf_counter()
    result = start_run(str(root / "plan.md"), jobs=BRANCHES, cwd=root, isolate=isolate,
                       progress=make_progress(io.StringIO(), json_mode=True))
    wall = time.perf_counter() - started
    made = sorted(p.name for p in root.glob("out_*.txt"))
    return {"wall_s": wall, "status": result.state.status, "files": len(made)}


def scratch(folder: Path, files: int) -> Path:
    root = folder / "repo"
    (root / "src").mkdir(parents=True)
    for n in range(files):
        (root / "src" / f"module_{n}.py").write_text(f"VALUE = {n}\n" * 20)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@localhost",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@localhost")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


def measure(steps: int, files: int) -> dict:
    from orchestrator.store import worktrees as wt

    with tempfile.TemporaryDirectory(prefix="orchestrate-worktrees-") as temp:
        root = scratch(Path(temp), files)
        started = time.perf_counter()
        for _ in range(20):
            subprocess.run(["git", "--version"], check=True, capture_output=True)
        git_s = (time.perf_counter() - started) / 20
        base = wt.start_integration(root, "bench")
        times = {"create": 0.0, "commit": 0.0, "merge": 0.0, "remove": 0.0}
        kinds = []
        for n in range(steps):
            clock = time.perf_counter()
            step = wt.create(root, "bench", f"s{n}", base)
            times["create"] += time.perf_counter() - clock
            (step.path / f"new_{n}.txt").write_text(f"{n}\n")
            clock = time.perf_counter()
            wt.commit_all(step, f"step {n}")
            times["commit"] += time.perf_counter() - clock
            clock = time.perf_counter()
            kinds.append(wt.merge(root, "bench", step, f"merge step {n}").kind)
            times["merge"] += time.perf_counter() - clock
            clock = time.perf_counter()
            wt.remove(root, step)
            times["remove"] += time.perf_counter() - clock
        left = len(wt.listed(root))
        plain = makespan(Path(temp), isolate=False)
        isolated = makespan(Path(temp), isolate=True)
    return {"steps": steps, "files": files, "git_s": git_s, "times": times, "kinds": kinds,
            "left": left, "plain": plain, "isolated": isolated}


def report(result: dict) -> list[str]:
    steps = result["steps"]
    per = {name: seconds * 1000 / steps for name, seconds in result["times"].items()}
    print(f"worktrees: {steps} isolated steps in a repository of {result['files']} files")
    print(f"  git --version                     {result['git_s'] * 1000:8.2f} ms")
    for name in ("create", "commit", "merge", "remove"):
        print(f"  {name:<34}{per[name]:8.2f} ms per step")
    total = per["create"] + per["merge"] + per["remove"]
    print(f"  create + merge + remove           {total:8.2f} ms per step (budget "
          f"{BUDGET_MS:g} ms)")
    print(f"  merges: {result['kinds'].count('fast-forward')} fast-forward, "
          f"{result['kinds'].count('merge')} merge commits; worktrees left: {result['left']}")
    plain, isolated = result["plain"], result["isolated"]
    ratio = isolated["wall_s"] / plain["wall_s"]
    print(f"makespan: {BRANCHES} branches of {CHAIN} shell steps ({SLEEP_S:g} s each), "
          f"--jobs {BRANCHES}; critical path {CHAIN * SLEEP_S:.1f} s")
    for name, run in (("shared tree", plain), ("--isolate", isolated)):
        print(f"  {name:<34}{run['wall_s']:8.2f} s, {run['status']}, {run['files']} files")
    added = (isolated["wall_s"] - plain["wall_s"]) * 1000 / (BRANCHES * CHAIN)
    print(f"  ratio                             {ratio:8.2f}x; added {added:.0f} ms per step "
          f"(budget {ADDED_MS:g} ms)")
    over = []
    for name, run in (("shared", plain), ("isolated", isolated)):
        if run["status"] != "completed" or run["files"] != BRANCHES * CHAIN:
            over.append(f"the {name} run ended {run['status']} with {run['files']} files")
    if added > ADDED_MS:
        over.append(f"isolation adds {added:.0f} ms per step, budget {ADDED_MS:g} ms")
    if total > BUDGET_MS:
        over.append(f"{total:.1f} ms per step, budget {BUDGET_MS:g} ms")
    if result["left"]:
        over.append(f"{result['left']} worktrees left behind")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="isolated steps (default 20)")
    parser.add_argument("--files", type=int, default=300,
                        help="files in the scratch repository (default 300)")
    parser.add_argument("--check", action="store_true", help="exit 1 when over budget")
    args = parser.parse_args()
    if args.steps < 1 or args.files < 1:
        parser.error("--steps and --files: at least 1")
    over = report(measure(args.steps, args.files))
    for line in over:
        print(f"over budget: {line}", file=sys.stderr)
    return 1 if over and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
