"""The bundle inside the real Claude Code binary, against a scripted model on 127.0.0.1.

Everything is real except the model: the `claude` binary (npm, pinned in
tests/claude_code.py), its Bash, Write, Read and Agent tools, its slash commands and
subagent definitions, and the `orchestrate` CLI those call. The model is
tests/model_server.py, which follows the `wf` protocol the way an obedient model would, or
misbehaves where a test says so. See docs/testing.md.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests import claude_code
from tests.model_server import DelegateMain, ModelServer, Scenario, ScriptedModel

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 90
# acceptEdits lets subagents Write inside the project: a slash command's allowed-tools
# covers only the main session. --max-turns bounds a scripted loop gone wrong.
FLAGS = ["--permission-mode", "acceptEdits", "--max-turns", "60"]

IMPLEMENTER = """\
---
name: implementer
description: Implements one phase of a plan, writing the files it names.
tools: Bash, Write, Read
---
You implement the phase your prompt file describes, and nothing else.
"""

RUN_PLAN = """\
---
description: Run a plan through orchestrate, one action at a time
argument-hint: <plan.md>
allowed-tools: Bash(orchestrate:*), Agent
---
The run has started; this is the engine's answer:

!`orchestrate wf start --plan $ARGUMENTS --json`

Run the command in the answer's `next` field with Bash, and go on the same way with each
answer you get:
- `wf next` lists actions. For every `agent` action call the Agent tool with its
  `subagent_type`, `description` and `prompt`, all agents of one answer in one message,
  with `run_in_background` false. When all of them are back, run
  `orchestrate wf report RUN ID --json` for each. For every `command` action run
  `orchestrate wf exec RUN ID --json`.
- An `ask` action: answer with `orchestrate wf answer RUN ID CHOICE --json`.
- A `done` action: stop, and quote its message.
"""

PLAN = """\
# Plan: notes

## Phase 1: Prepare the folder

- **Depends on:** none

**Run:**
```bash
mkdir -p notes && echo ready > notes/ready.txt
```

## Phase 2a: First note

- **Owner:** implementer
- **Depends on:** 1
- **Files:** `notes/a.md`

Write the first note.

## Phase 2b: Second note

- **Owner:** implementer
- **Depends on:** 1
- **Files:** `notes/b.md`

Write the second note.
"""


class ClaudeProject:
    """A scratch git project with a `.claude/`, a fresh HOME, and the real binary."""

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.root = root / "project"
        self.home = root / "home"
        self.home.mkdir()
        self.write(".claude/agents/implementer.md", IMPLEMENTER)
        self.write(".claude/commands/run-plan.md", RUN_PLAN)
        self.write("plan.md", PLAN)
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "scratch project")
        self.env: dict = {}

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def git(self, *args: str) -> None:
        subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
                        "-c", "init.defaultBranch=main", *args], cwd=self.root, check=True,
                       capture_output=True)

    def claude(self, prompt: str, policy=None, args: list[str] | None = None,
               ) -> tuple[claude_code.ClaudeResult, ModelServer]:
        """One headless session against a fresh scripted model server."""
        with ModelServer(policy or ScriptedModel()) as server:
            self.env = claude_code.headless_env(self.home, server.url)
            result = claude_code.run(self.binary, prompt, cwd=self.root, env=self.env,
                                     args=FLAGS + (args or []), timeout=RUN_TIMEOUT_S)
        assert not server.errors, server.errors
        print(f"claude -p {prompt!r}: {result.seconds:.1f}s, "
              f"{len(server.model_requests())} model requests, "
              f"the main session read {server.read_chars()} characters of tool output")
        return result, server

    def orchestrate(self, *args: str) -> dict:
        done = subprocess.run(["orchestrate", *args, "--json"], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=60)
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def binary() -> str:
    found = claude_code.install()
    if found is None:
        pytest.skip(f"Claude Code {claude_code.VERSION} is not available: "
                    f"{claude_code.last_failure}")
    return found


@pytest.fixture
def project(binary, tmp_path) -> ClaudeProject:
    return ClaudeProject(binary, tmp_path)


def succeeded(result: claude_code.ClaudeResult) -> dict:
    assert result.code == 0 and result.result is not None, result.explain()
    assert result.result["is_error"] is False, result.explain()
    assert result.result["permission_denials"] == [], result.explain()
    return result.result


def answers(server: ModelServer, schema: str) -> list[dict]:
    """The orchestrate answers of ``schema`` the main session got as Bash results."""
    found = []
    for text in server.tool_results("main").values():
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("schema") == f"orchestrate/{schema}":
            found.append(value)
    return found


def step_statuses(project: ClaudeProject) -> dict[str, tuple[str, int]]:
    status = project.orchestrate("status", "plan")
    return {step["id"]: (step["status"], step["attempts"]) for step in status["steps"]}


def test_smoke_the_real_binary_runs_bash_for_the_scripted_model(project):
    result, server = project.claude("Run `echo hello` with Bash.")
    final = succeeded(result)
    assert [use["input"]["command"] for use in server.tool_uses()] == ["echo hello"]
    assert list(server.tool_results().values()) == ["hello"]
    assert final["result"].endswith("hello")
    assert final["num_turns"] == 2


def test_a_subagent_reaches_the_same_server_and_writes_its_file(project):
    target = project.root / "notes" / "out.md"
    project.write("task.md", f"## Phase 1: Write a note\n\nFiles to create or change:\n"
                             f"- `{target}`\n")
    main = DelegateMain("implementer", "Read task.md and do what it says.")
    result, server = project.claude("Hand the task to the implementer.",
                                    ScriptedModel(main=main))
    final = succeeded(result)
    subagent = server.model_requests("subagent")
    assert len(subagent) == 3  # read the prompt file, write, report
    assert all(r.request.is_subagent for r in subagent)
    assert not any(r.request.is_subagent for r in server.model_requests("main"))
    assert "You implement the phase" in subagent[0].request.system_text
    assert target.read_text().startswith("# out.md")
    # The main session got the subagent's report back as the Agent tool's result.
    (agent_use,) = server.tool_uses("main")
    assert agent_use["name"] == "Agent"
    handed_back = server.tool_results("main")[agent_use["id"]]
    assert "STATUS: done" in handed_back and str(target) in handed_back
    assert final["result"].startswith("The agent said:")


def test_the_protocol_runs_a_plan_to_done_inside_claude_code(project):
    result, server = project.claude("/run-plan plan.md",
                                    ScriptedModel(Scenario(subagent_pause_s=0.3)))
    final = succeeded(result)
    assert "run completed: 3 of 3 steps done" in final["result"]
    assert step_statuses(project) == {"1": ("completed", 1), "2a": ("completed", 1),
                                      "2b": ("completed", 1)}
    assert (project.root / "notes" / "ready.txt").read_text() == "ready\n"
    assert (project.root / "notes" / "a.md").read_text().startswith("# a.md")
    assert (project.root / "notes" / "b.md").read_text().startswith("# b.md")

    # The two agent actions went out in one assistant message, as Claude Code kept it.
    history = server.model_requests("main")[-1].request.messages
    agent_messages = [[block["input"]["description"] for block in message["content"]
                       if block.get("type") == "tool_use" and block["name"] == "Agent"]
                      for message in history if message["role"] == "assistant"]
    assert [names for names in agent_messages if names] == [
        ["Phase 2a: First note", "Phase 2b: Second note"]]
    # ... and ran together: each subagent started before the other finished.
    spans: dict[str, list[int]] = {}
    for index, recorded in enumerate(server.requests):
        if recorded.kind == "subagent":
            spans.setdefault(recorded.request.first_user_text(), []).append(index)
    assert len(spans) == 2
    (first, second) = spans.values()
    assert first[0] < second[-1] and second[0] < first[-1]

    # Every answer the driving model read stays small (DESIGN §7: under ~1 KB a step).
    sizes = [len(text.encode()) for text in server.tool_results("main").values()
             if text.startswith('{"schema": "orchestrate/')]
    assert len(sizes) >= 6 and max(sizes) < 1024, sizes
    assert [a["outcome"] for a in answers(server, "wf-report@1")] == ["completed"] * 2


def test_a_subagent_that_claims_success_without_writing_gets_retry(project):
    scenario = Scenario(lazy={"2a": {1}})
    result, server = project.claude("/run-plan plan.md", ScriptedModel(scenario))
    succeeded(result)
    reports = {a["action"]: a for a in answers(server, "wf-report@1")}
    assert reports["2a@1"]["outcome"] == "retry"
    assert "did not change" in reports["2a@1"]["reason"]
    assert reports["2a@2"]["outcome"] == "completed"
    assert reports["2b@1"]["outcome"] == "completed"
    lazy = [r for r in server.model_requests("subagent")
            if "2a.1.prompt.md" in r.request.first_user_text() and r.reply.stop_reason ==
            "end_turn"]
    assert len(lazy) == 1 and "STATUS: done" in lazy[0].reply.content[0]["text"]
    assert step_statuses(project) == {"1": ("completed", 1), "2a": ("completed", 2),
                                      "2b": ("completed", 1)}


def test_a_session_that_stops_early_is_finished_by_the_next_one(project):
    project.write("plan.md", PLAN + textwrap.dedent("""
        ## Phase 3: Check both notes

        - **Depends on:** 2a, 2b

        **Run:**
        ```bash
        cat notes/a.md notes/b.md > notes/both.md
        ```
        """))
    result, _ = project.claude("/run-plan plan.md",
                               ScriptedModel(Scenario(quit_after_first_report=True)))
    assert "stopping here" in succeeded(result)["result"]
    assert step_statuses(project)["3"] == ("pending", 0)
    assert project.orchestrate("wf", "status", "plan")["status"] == "running"

    result, server = project.claude("/run-plan plan.md")
    assert "run completed: 4 of 4 steps done" in succeeded(result)["result"]
    # The command's `!` line inlined the start answer, which offered the unfinished run.
    assert '"resumable"' in server.model_requests("main")[0].request.first_user_text()
    assert {status for status, _ in step_statuses(project).values()} == {"completed"}
    assert (project.root / "notes" / "both.md").exists()
