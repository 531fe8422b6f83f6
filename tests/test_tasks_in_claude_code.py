"""`/tasks` inside the real Claude Code: the bundle's slash command and agent definitions,
the real binary and hooks, the scripted model of tests/model_server.py as the only stand-in.
Three plan rejections, a stop at the human review, an approval from a shell, then the same
slash command again to done."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.model_server import Scenario, ScriptedModel
from tests.test_claude_code_e2e import ClaudeProject, answers, binary, succeeded  # noqa: F401

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PLAN = """# Implementation Plan: search

### Phase 1: Strategies
**Objective**: Add the search strategies.
dependencies: []

Files: `src/strategies.txt`
"""
CONCERNS = ["Missing error handling", "No rollback strategy", "Still no rollback"]


def rejected(concern: str) -> str:
    return json.dumps({"verdict": "rejected", "concerns": [concern]})


@pytest.fixture
def project(binary, tmp_path) -> ClaudeProject:  # noqa: F811
    scratch = ClaudeProject(binary, tmp_path)
    root = scratch.root
    shutil.copy(REPO / ".claude" / "commands" / "tasks.md", root / ".claude" / "commands")
    for definition in (REPO / "lib" / "orchestrator" / "agents" / "definitions").glob("*.md"):
        shutil.copy(definition, root / ".claude" / "agents" / definition.name)
    scratch.write(".claude/settings.json", json.dumps({"hooks": {"Stop": [{"hooks": [
        {"type": "command", "command": "orchestrate hook stop"}]}]}}))
    scratch.write("tasks.yaml", "- id: RAE-001\n  goal: Implement search strategies\n"
                                "  risk: high\n  area: core\n")
    scratch.git("add", "-A")
    scratch.git("commit", "-q", "-m", "the tasks")
    return scratch


def orchestrate(project: ClaudeProject, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=project.root,
                          env=project.env, capture_output=True, text=True, timeout=60)


def test_tasks_stops_at_the_human_review_and_goes_on_after_the_approval(project):
    contents = {f"plan-{n}.md": PLAN for n in (1, 2, 3)}
    contents.update({f"plan-{n}.json": rejected(CONCERNS[n - 1]) for n in (1, 2, 3)})
    contents["code-1-1.json"] = json.dumps({"verdict": "approved"})
    scenario = Scenario(contents=contents)

    result, server = project.claude("/tasks tasks.yaml", ScriptedModel(scenario))
    final = succeeded(result)
    assert "waits for a person's review" in final["result"], final["result"]
    assert "orchestrate task RAE-001 --approve" in final["result"]
    # the reviewers were the bundle's own agents, each handed the verdict file to write
    agents = [block["input"]["subagent_type"] for block in server.tool_uses("main")
              if block.get("name") == "Agent"]
    assert agents == ["plan-architect", "plan-reviewer"] * 3
    expects = [item for answer in answers(server, "wf-next@1")
               for action in answer["actions"] if action["type"] == "agent"
               for item in action["expects"] if item["kind"] == "verdict"]
    assert len(expects) == 3 and all(item["schema"]["required"] == ["verdict"]
                                     for item in expects)
    # the Stop hook let the session end: a person's decision is what it waits for
    assert not [use for use in server.tool_uses()
                if use["input"].get("description") == "Go on as the Stop hook says"]
    review = json.loads(orchestrate(project, "review", "--json").stdout)
    assert [task["id"] for task in review["tasks"]] == ["RAE-001"]
    assert review["tasks"][0]["concerns"] == ["Still no rollback"]

    approved = orchestrate(project, "task", "RAE-001", "--approve")
    assert approved.returncode == 0, approved.stderr

    result, server = project.claude("/tasks tasks.yaml", ScriptedModel(scenario))
    final = succeeded(result)
    assert "tasks: 1 done, 0 failed, 0 waiting" in final["result"], final["result"]
    agents = [block["input"]["subagent_type"] for block in server.tool_uses("main")
              if block.get("name") == "Agent"]
    assert agents == ["implementer", "code-reviewer"]
    shown = json.loads(orchestrate(project, "task", "RAE-001", "--json").stdout)
    assert shown["state"] == "DONE" and shown["steps"] == {"1": "COMPLETED"}
    log = (project.root / "ORCHESTRATOR_RUN_LOG.md").read_text()
    for number, concern in enumerate(CONCERNS, 1):
        assert f"rejected ({number}/3): {concern}" in log
    assert "approved by a person" in log and "completed: done" in log
    assert (project.root / "src" / "strategies.txt").exists()
