"""Driving a run through `orchestrate wf`, one process per call, as an external driver
would; a scripted stand-in performs the agent actions (tests/fake_claude.py, the same
scripted model the headless tests use)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[1]
FAKE = Path(__file__).with_name("fake_claude.py")
_SCHEMA_BLOCK = re.compile(r"^### (orchestrate/[\w-]+@\d+)\n\n```json\n(.*?)\n```", re.M | re.S)


def protocol_schemas() -> dict[str, dict]:
    """The JSON Schemas of docs/protocol.md, by schema name."""
    text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in _SCHEMA_BLOCK.findall(text)}


SCHEMAS = protocol_schemas()


def env_for(project: Path, scenario: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"), FAKE_CLAUDE_SCENARIO=str(scenario),
               **extra)
    env.pop("ORCHESTRATE_STATE_DIR", None)
    env.pop("ORCHESTRATE_CONFIG", None)
    return env


class Wf:
    """`orchestrate wf ...` in ``project``; every answer is checked against its schema."""

    def __init__(self, project: Path, scenario: Path):
        self.project = project
        self.scenario = scenario
        self.sizes: list[tuple[str, int]] = []
        self.performed: list[str] = []
        self.batches: list[list[str]] = []  # the action ids of each `next` answer
        self.handed: list[dict] = []  # every action `next` handed out, in order

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "orchestrator", "wf", *args, "--json"]

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), cwd=self.project,
                                env=env_for(self.project, self.scenario),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def call(self, *args: str, code: int = 0) -> dict:
        done = subprocess.run(self.argv(*args), cwd=self.project,
                              env=env_for(self.project, self.scenario), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return self.check(args[0], done.stdout)

    def check(self, verb: str, stdout: str) -> dict:
        answer = json.loads(stdout)
        jsonschema.validate(answer, SCHEMAS[answer["schema"]])
        self.sizes.append((verb, len(stdout.encode())))
        return answer

    def perform(self, action: dict) -> None:
        """Do an agent action as an obedient subagent would: read the prompt it points at
        and act (here: the scripted behaviour of its step)."""
        assert action["type"] == "agent"
        prompt = self.prompt_of(action)
        where = action.get("worktree") or self.project  # an isolated step works there
        subprocess.run([sys.executable, str(FAKE)], cwd=where, input=prompt,
                       env=env_for(self.project, self.scenario,
                                   ORCHESTRATE_STEP=action["step"]),
                       capture_output=True, text=True, timeout=60, check=True)
        self.performed.append(action["id"])

    def prompt_of(self, action: dict) -> str:
        relative = action["prompt"].split("Read ", 1)[1].split(" and do", 1)[0]
        return (self.project / relative).read_text()

    def drive(self, run: str, limit: int = 200, between=None) -> dict:
        """next -> perform -> report/exec until `done` (or `wait`: a person decides);
        returns that action. ``between(actions)``, if given, runs after each batch."""
        for _ in range(limit):
            answer = self.call("next", run)
            actions = answer["actions"]
            done = [a for a in actions if a["type"] in ("done", "wait")]
            if done:
                return done[0]
            assert actions or answer["in_flight"], answer
            self.batches.append([a["id"] for a in actions])
            self.handed += actions
            for action in actions:
                if action["type"] == "command":
                    self.call("exec", run, action["id"])
                elif action["type"] == "ask":  # as the scripted main model: the first option
                    self.call("answer", run, action["id"], action["options"][0]["id"])
            agents = [a for a in actions if a["type"] == "agent"]
            for action in agents:
                self.perform(action)
            for action in agents:
                self.call("report", run, action["id"])
            if between is not None:
                between(actions)
        raise AssertionError("the run did not reach done")


def write_scenario(path: Path, steps: dict | None = None, default: list | None = None) -> Path:
    path.write_text(json.dumps({"steps": steps or {}, "default": default or [{}]}))
    return path


def agent_phase(phase_id: str, files: list[str], depends: str = "none", *,
                verify: str = "") -> str:
    text = (f"## Phase {phase_id}: Agent work {phase_id}\n\n- **Owner:** implementer\n"
            f"- **Depends on:** {depends}\n")
    if files:
        text += "- **Files:** " + ", ".join(f"`{name}`" for name in files) + "\n"
    text += f"\nDo the work of phase {phase_id}.\n\n"
    if verify:
        text += f"**Verify:**\n```bash\n{verify}\n```\n\n"
    return text


def shell_phase(phase_id: str, script: str, depends: str = "none", *, verify: str = "") -> str:
    text = (f"## Phase {phase_id}: Shell work {phase_id}\n\n- **Depends on:** {depends}\n\n"
            f"**Run:**\n```bash\n{script}\n```\n\n")
    if verify:
        text += f"**Verify:**\n```bash\n{verify}\n```\n\n"
    return text


def six_phase_plan() -> str:
    """Two parallel branches after a shell step, joined by a last agent step."""
    return "# Plan: two branches\n\n" + "".join([
        shell_phase("1", "mkdir -p out && echo base > out/base.txt"),
        agent_phase("2a", ["out/a.txt"], "Phase 1"),
        agent_phase("2b", ["out/b.txt"], "Phase 1"),
        agent_phase("3a", ["out/a2.txt"], "Phase 2a", verify="grep -q a2 out/a2.txt"),
        shell_phase("3b", "cat out/b.txt > out/b2.txt", "Phase 2b",
                    verify="test -s out/b2.txt"),
        agent_phase("4", ["out/final.txt"], "Phase 3a, Phase 3b",
                    verify="test -s out/final.txt"),
    ])


def writes(name: str, text: str | None = None) -> dict:
    return {"write": {name: text or name}}


SIX_PHASE_SCENARIO = {
    "2a": [writes("out/a.txt")],
    "2b": [writes("out/b.txt")],
    "3a": [writes("out/a2.txt", "a2 done")],
    "4": [writes("out/final.txt")],
}
