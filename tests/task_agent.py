"""A stand-in agent for the task lifecycle: it does only what the prompt's Checks list.

Run as ``python task_agent.py PROMPT_FILE AGENT MODEL`` (an ``agent_cmd`` template) in the
project. It reads the Checks section of the prompt and, for each item: writes a file that
must exist (a plan file gets ``$TASK_AGENT_PLAN`` with ``{task}`` made the task's id, else
a one-phase plan), writes a verdict
file with the next verdict its role has in ``$TASK_AGENT_SCRIPT`` (JSON: ``{"plan-review":
[{"verdict": "rejected", "concerns": [...]}, ...], "code-review": [...]}``, the last
repeating, approved when none is given), and changes the tree when the checks say it
must change. A reviewer told to review exactly ``git diff BASE..COMMIT`` runs it and notes
the files it saw. Each call is appended to ``$TASK_AGENT_SCRIPT.calls.jsonl``, with the
folder it ran in. ``$TASK_AGENT_SLEEP`` seconds are slept first, and more for the steps
``$TASK_AGENT_SLOW`` names (``{"RUN STEP": seconds}``). It prints a Claude-style result
object with a cost of $0.01.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

PLAN = """# Plan

### Phase 1: Add the feature
**Objective**: Add the feature.
**Files**: src/feature.py
dependencies: []
"""


def checks(prompt: str) -> list[str]:
    section = prompt.split("## Checks", 1)[1] if "## Checks" in prompt else ""
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]


def main() -> int:
    prompt = Path(sys.argv[1]).read_text()
    agent, model = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    step = os.environ.get("ORCHESTRATE_STEP", "?")
    script_path = Path(os.environ["TASK_AGENT_SCRIPT"])
    script = json.loads(script_path.read_text()) if script_path.exists() else {}
    calls = script_path.with_name(script_path.name + ".calls.jsonl")
    earlier = [json.loads(line) for line in calls.read_text().splitlines()] \
        if calls.exists() else []
    started = time.time()
    if os.environ.get("TASK_AGENT_PIDS"):  # so a test can kill it with its runner
        with open(os.environ["TASK_AGENT_PIDS"], "a") as pids:
            pids.write(f"{os.getpgid(0)}\n")
    slow = json.loads(os.environ.get("TASK_AGENT_SLOW", "{}"))  # {"RUN STEP": seconds}
    time.sleep(float(os.environ.get("TASK_AGENT_SLEEP", "0")) +
               slow.get(f"{os.environ.get('ORCHESTRATE_RUN')} {step}", 0))
    kind = step.split(":", 1)[0]
    for check in checks(prompt):
        verdict = re.match(r"file (\S+) holds your verdict", check)
        plain = re.match(r"file (\S+) exists and is not empty", check)
        if verdict:
            given = script.get(kind, [])
            index = sum(1 for call in earlier if call["kind"] == kind)
            chosen = given[min(index, len(given) - 1)] if given else {"verdict": "approved"}
            write(verdict.group(1), json.dumps(chosen))
        elif plain:
            path = plain.group(1)
            task = re.search(r"tasks/([^/]+)/plan-", path)  # {task} in a plan: its id
            write(path, os.environ.get("TASK_AGENT_PLAN", PLAN).replace(
                "{task}", task.group(1) if task else "") if kind == "plan"
                else f"written by {agent} for {step}\n")
        elif check.startswith("the working tree changes"):
            run = os.environ.get("ORCHESTRATE_RUN", "run")
            write(f"changes/{run}-{step.replace(':', '_')}.txt", f"{agent} {time.time()}\n")
    entry = {"step": step, "kind": kind, "agent": agent, "model": model, "cwd": os.getcwd(),
             "run": os.environ.get("ORCHESTRATE_RUN"),
             "started": started, "ended": time.time()}
    change = re.search(r"`git diff ([0-9a-f]+\.\.[0-9a-f]+)`", prompt)
    if change:
        entry["change"] = change.group(1)
        entry["reviewed"] = subprocess.run(["git", "diff", "--name-only", change.group(1)],
                                           capture_output=True, text=True,
                                           check=True).stdout.split()
    with calls.open("a") as out:
        out.write(json.dumps(entry) + "\n")
    print(json.dumps({"type": "result", "subtype": "success", "is_error": False,
                      "result": f"{agent} did {step}", "total_cost_usd": 0.01}))
    return 0


def write(name: str, text: str) -> None:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
