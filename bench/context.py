#!/usr/bin/env python3
"""Benchmark: what the session driving `/orchestrate` reads, per step, over a whole workflow.

A scratch git project runs the whole workflow (research, overview, plan, two phases, tests,
docs, summary) through `orchestrate wf`, one process per call, as the slash command's loop
does; a stand-in agent writes each step's files. The bytes the driving model reads are the
command file's text, every `wf` answer (its Bash tool results) and each agent's closing
reply (a STATUS/FILES/NOTES block; the stand-in's is typical of the format). They are
printed per step beside seed 001's 187 KB prompt, which its model read before doing
anything. With --check, exits 1 when a step costs 2 KB or more on average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED_001_BYTES = 186_919
BUDGET = 2048
FEATURE = "Add a greeting and a farewell with research into security best practices"
AGENT_REPLY = ("STATUS: done\nFILES: {files}\nNOTES: wrote what the prompt asked for; the "
               "checks pass here.\n")
PLAN = """# Implementation Plan: a greeting

## Implementation Phases

### Phase 1: Greeting module
**Objective**: Write the greeting.
dependencies: []

Files: `src/greet.txt`

### Phase 2: Farewell module
**Objective**: Write the farewell.
dependencies: []

Files: `src/bye.txt`
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"))
    env.pop("ORCHESTRATE_STATE_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _call(project: Path, *args: str) -> tuple[dict, int]:
    done = subprocess.run([sys.executable, "-m", "orchestrator", "wf", *args, "--json"],
                          cwd=project, env=_env(), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"wf {args[0]} failed: {done.stdout} {done.stderr[-2000:]}")
    return json.loads(done.stdout), len(done.stdout.encode())


def _perform(project: Path, action: dict) -> str:
    """Do what the action's contract (``expects``) lists: its files, with their sections.
    The subagent reads its prompt; that read is not the driving model's and not counted."""
    relative = action["prompt"].split("Read ", 1)[1].split(" and do", 1)[0]
    (project / relative).read_text()
    files = [item["path"] for item in action["expects"] if item["kind"] == "file"]
    for item in action["expects"]:
        if item["kind"] != "file":
            continue
        target = Path(item["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.name.endswith("_implementation.md"):
            target.write_text(PLAN)
        else:
            body = "".join(f"## {name}\n\nNoted.\n\n" for name in item["sections"])
            target.write_text(f"# {action['description']}\n\n{body or 'Done.'}\n")
    if action["step"] == "docs":
        readme = project / "README.md"
        readme.write_text(readme.read_text() + "\nGreets and says goodbye.\n")
    return AGENT_REPLY.format(files=", ".join(files) or "README.md")


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="orchestrate-context-") as temp:
        project = Path(temp) / "project"
        project.mkdir()
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        (project / "Makefile").write_text("test:\n\ttest -s src/greet.txt\n")
        (project / "README.md").write_text("# Project\n")
        command = (REPO / ".claude" / "commands" / "orchestrate.md").read_bytes()
        read = {"command": len(command), "answers": 0, "agent_replies": 0}
        answer, size = _call(project, "start", FEATURE)
        read["answers"] += size
        run = answer["run"]
        steps = 0
        while True:
            nxt, size = _call(project, "next", run)
            read["answers"] += size
            actions = nxt["actions"]
            if actions and actions[0]["type"] in ("done", "ask"):
                break
            for action in actions:
                steps += 1
                if action["type"] == "command":
                    _, size = _call(project, "exec", run, action["id"])
                    read["answers"] += size
                    continue
                read["agent_replies"] += len(_perform(project, action).encode())
            for action in actions:
                if action["type"] == "agent":
                    _, size = _call(project, "report", run, action["id"])
                    read["answers"] += size
        read["status"] = actions[0].get("status", actions[0]["type"])
        read["steps"] = steps
        return read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when a step costs {BUDGET} bytes or more on average")
    args = parser.parse_args()
    read = measure()
    total = read["command"] + read["answers"] + read["agent_replies"]
    per_step = total / max(read["steps"], 1)
    print(f"context: one /orchestrate workflow, {read['steps']} steps, ended {read['status']}")
    print(f"  command text                 {read['command']:8d} bytes")
    print(f"  wf answers (tool results)    {read['answers']:8d} bytes")
    print(f"  agents' closing replies      {read['agent_replies']:8d} bytes")
    print(f"  total                        {total:8d} bytes, {per_step:.0f} bytes per step "
          f"(budget {BUDGET})")
    print(f"  seed 001's prompt            {SEED_001_BYTES:8d} bytes before the first step "
          f"({SEED_001_BYTES / total:.1f}x this whole workflow)")
    if args.check and per_step >= BUDGET:
        print(f"OVER BUDGET: {per_step:.0f} bytes per step", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
