"""A stand-in agent for the task lifecycle: it does only what the prompt's Checks list.

Run as ``python task_agent.py PROMPT_FILE AGENT MODEL`` (an ``agent_cmd`` template) in the
project. It reads the Checks section of the prompt and, for each item: writes a file that
must exist (a plan file gets ``$TASK_AGENT_PLAN``, else a one-phase plan), writes a verdict
file with the next verdict its role has in ``$TASK_AGENT_SCRIPT`` (JSON: ``{"plan-review":
[{"verdict": "rejected", "concerns": [...]}, ...], "code-review": [...]}``, the last
repeating, approved when none is given), and changes the tree when the checks say it
must change. Each call is appended to ``$TASK_AGENT_SCRIPT.calls.jsonl``. It prints a
Claude-style result object with a cost of $0.01.
"""

from __future__ import annotations

import json
import os
import re
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
    time.sleep(float(os.environ.get("TASK_AGENT_SLEEP", "0")))
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
            write(path, os.environ.get("TASK_AGENT_PLAN", PLAN) if kind == "plan"
                  else f"written by {agent} for {step}\n")
        elif check.startswith("the working tree changes"):
            write(f"changes/{step.replace(':', '_')}.txt", f"{agent} {time.time()}\n")
    with calls.open("a") as out:
        out.write(json.dumps({"step": step, "kind": kind, "agent": agent, "model": model,
                              "started": started, "ended": time.time()}) + "\n")
    print(json.dumps({"type": "result", "subtype": "success", "is_error": False,
                      "result": f"{agent} did {step}", "total_cost_usd": 0.01}))
    return 0


def write(name: str, text: str) -> None:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
