#!/usr/bin/env python3
"""Benchmark: the engine's overhead per task transition, the agents left out.

100 tasks by default, each run through its whole lifecycle in this process by the engine
that `orchestrate tasks run --only ID` uses (drivers/tasks.run_task), with the stand-in
agent of the test suite (tests/task_agent.py: it writes only what its prompt's Checks
list). Every task goes plan -> plan review (rejected once, so a retry round is included)
-> plan -> plan review -> implementation -> code review -> a one-check quality gate:
ten lifecycle transitions.

Measured side by side in one run:

- wall time for all tasks;
- the time inside the steps (each ``step_finished`` event's ``duration_s``): the agent
  processes, the planner's `plan validate` check, the gate's command;
- the engine's share: wall minus the steps, per task and per transition (``lifecycle``
  event), covering the journal writes, the lifecycle decisions, the steps each transition
  adds, snapshots, prompts and locks;
- the same engine share per step of a plain run (bench/overhead.py's figure), for scale.

With --check, exits 1 when a task did not end DONE or when the engine's share exceeds
25 ms per transition.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

BUDGET_MS = 25.0
AGENT = REPO / "tests" / "task_agent.py"


def task_file(count: int) -> str:
    return "".join(f"- id: T-{n:03d}\n  goal: stand-in task {n}\n  risk: "
                   f"{('low', 'medium', 'high')[n % 3]}\n  area: area{n % 4}\n"
                   for n in range(1, count + 1))


def run_tasks(folder: Path, count: int) -> dict:
    from orchestrator.drivers.tasks import run_task
    from orchestrator.render.progress import make_progress

    (folder / "tasks.yaml").write_text(task_file(count))
    (folder / ".claude").mkdir()
    (folder / ".claude" / "orchestrate.yaml").write_text(
        "quality_gate: ['true']\nrouting:\n  - {risk: high, model: strong, reason: high risk}\n"
        "routing_default: standard\n")
    script = folder / "script.json"
    script.write_text(json.dumps({"plan-review": [{"verdict": "rejected",
                                                   "concerns": ["be more specific"]},
                                                  {"verdict": "approved"}]}))
    agent = f"{sys.executable} {AGENT} {{prompt_file}} {{agent}} {{model}}"
    states, started = [], time.perf_counter()
    for n in range(1, count + 1):
        calls = script.with_name(script.name + ".calls.jsonl")
        calls.unlink(missing_ok=True)  # each task's reviewer starts its script afresh
        progress = make_progress(io.StringIO(), json_mode=True)
        states.append(run_task(str(folder / "tasks.yaml"), f"T-{n:03d}", agent_cmd=agent,
                               cwd=folder, progress=progress))
    wall = time.perf_counter() - started
    steps_s, transitions, events = 0.0, 0, 0
    for journal in (folder / "state").rglob("journal.jsonl"):
        for line in journal.read_text().splitlines():
            event = json.loads(line)
            events += 1
            if event["type"] == "step_finished":
                steps_s += float(event.get("duration_s", 0.0))
            elif event["type"] == "lifecycle" and event["subject"] == "task":
                transitions += 1
    return {"tasks": count, "wall_s": wall, "steps_s": steps_s, "transitions": transitions,
            "events": events, "done": states.count("DONE"), "states": states}


def measure(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="orchestrate-tasks-bench-") as temp:
        folder = Path(temp).resolve()
        from orchestrator.store import project_root

        if project_root(folder) != folder:
            raise SystemExit(f"{folder} is inside a git repository; set TMPDIR elsewhere")
        saved = {name: os.environ.get(name) for name in
                 ("ORCHESTRATE_STATE_DIR", "TASK_AGENT_SCRIPT",
                  "PYTHONPATH")}
        os.environ.update({
            "ORCHESTRATE_STATE_DIR": str(folder / "state"),
            "TASK_AGENT_SCRIPT": str(folder / "script.json"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "lib"),
                                                        saved["PYTHONPATH"]]))})
        try:
            return run_tasks(folder, count)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def report(result: dict) -> list[str]:
    over = []
    engine = result["wall_s"] - result["steps_s"]
    per_task = engine * 1000 / result["tasks"]
    per_transition = engine * 1000 / max(result["transitions"], 1)
    print(f"tasks: {result['tasks']} stand-in tasks, each plan (rejected once), plan, "
          "implementation, review and a one-check gate; in-process, one at a time")
    print(f"  ended DONE                        {result['done']:8d} of {result['tasks']}")
    print(f"  wall                              {result['wall_s']:8.2f} s")
    print(f"  inside the steps (agents, checks) {result['steps_s']:8.2f} s")
    print(f"  engine                            {engine:8.2f} s, {per_task:.1f} ms per task")
    print(f"  task transitions                  {result['transitions']:8d}, "
          f"{result['events']} events journalled")
    print(f"  engine per transition             {per_transition:8.2f} ms (budget "
          f"{BUDGET_MS:g} ms)")
    if result["done"] != result["tasks"]:
        others = sorted({state for state in result["states"] if state != "DONE"})
        over.append(f"{result['tasks'] - result['done']} tasks did not end DONE: {others}")
    if per_transition > BUDGET_MS:
        over.append(f"{per_transition:.2f} ms per transition, budget {BUDGET_MS:g} ms")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100, help="tasks to run (default 100)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a budget is exceeded")
    args = parser.parse_args()
    if args.tasks < 1:
        parser.error("--tasks: at least 1")
    over = report(measure(args.tasks))
    for line in over:
        print(f"over budget: {line}", file=sys.stderr)
    return 1 if over and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
