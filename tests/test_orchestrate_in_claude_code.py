"""`/orchestrate` inside the real Claude Code: the bundle's own slash command and agent
definitions, the real binary, and the scripted model of tests/model_server.py as the only
stand-in. From a feature description to a summary and a pull request."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.model_server import Scenario, ScriptedModel
from tests.test_claude_code_e2e import ClaudeProject, answers, binary, succeeded  # noqa: F401

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FEATURE = "Add a session timeout with research into security best practices"
PLAN = """# Implementation Plan: session timeout

## Implementation Phases

### Phase 1: Expiry
**Objective**: Record when a session expires.
dependencies: []

Files: `src/expiry.txt`

### Phase 2: Warning
**Objective**: Warn before a session expires.
dependencies: []

Files: `src/warning.txt`
"""


@pytest.fixture
def project(binary, tmp_path, monkeypatch) -> ClaudeProject:  # noqa: F811
    """A scratch project with the bundle's command and agents, tests and a stand-in gh."""
    scratch = ClaudeProject(binary, tmp_path)
    root = scratch.root
    shutil.copy(REPO / ".claude" / "commands" / "orchestrate.md",
                root / ".claude" / "commands" / "orchestrate.md")
    for definition in (REPO / "lib" / "orchestrator" / "agents" / "definitions").glob("*.md"):
        shutil.copy(definition, root / ".claude" / "agents" / definition.name)
    scratch.write("Makefile", "test:\n\ttest -s src/expiry.txt && test -s src/warning.txt\n")
    scratch.write("README.md", "# Sessions\n")
    scratch.git("add", "-A")
    scratch.git("commit", "-q", "-m", "the bundle")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path / "gh.log"}"\n'
                  'case "$1" in pr) echo https://example.invalid/pr/7;; esac\n')
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return scratch


def test_orchestrate_runs_a_feature_to_done_with_a_pull_request(project, tmp_path):
    scenario = Scenario(subagent_pause_s=0.1, contents={"001_implementation.md": PLAN})
    result, server = project.claude(f'/orchestrate "{FEATURE}" --create-pr',
                                    ScriptedModel(scenario))
    final = succeeded(result)
    assert "run completed" in final["result"], final["result"]
    [start] = answers(server, "wf-start@1")
    topic = Path(start["topic_dir"])
    assert topic.parent == project.root / "specs"
    for kind in ("reports", "plans", "summaries", "debug", "scripts", "outputs"):
        assert (topic / kind).is_dir()
    reports = sorted(path.name for path in (topic / "reports").glob("*.md"))
    assert reports and reports[-1].endswith("_research_overview.md")
    assert (topic / "plans" / "001_implementation.md").read_text().startswith(PLAN)
    assert (project.root / "src" / "expiry.txt").exists()
    assert (project.root / "src" / "warning.txt").exists()
    assert list((topic / "outputs").glob("tests*.log"))
    summary = (topic / "summaries" / "001_workflow_summary.md").read_text()
    assert "```mermaid" in summary and "001_implementation.md" in summary
    assert "pr create" in (tmp_path / "gh.log").read_text()
    reports_seen = [a["outcome"] for a in answers(server, "wf-report@1")]
    assert reports_seen and set(reports_seen) == {"completed"}
    print(f"the main session read {server.read_chars()} characters of tool output over "
          f"{len(reports_seen)} agent reports")


def test_orchestrate_isolated_changes_code_in_worktrees_and_lands_it(project):
    """`isolate: true`: the phases and the docs are handed out with worktrees of their own,
    the subagents write there, the tests pass on the merged code, and the work lands."""
    import subprocess

    project.write(".claude/orchestrate.yaml", "isolate: true\n")
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "isolated")
    scenario = Scenario(subagent_pause_s=0.1, contents={"001_implementation.md": PLAN})
    result, server = project.claude(f'/orchestrate "{FEATURE}"', ScriptedModel(scenario))
    final = succeeded(result)
    assert "run completed" in final["result"], final["result"]
    handed = [a for answer in answers(server, "wf-next@1") for a in answer["actions"]
              if a["type"] == "agent"]
    trees = {a["step"]: a["worktree"] for a in handed if "worktree" in a}
    assert set(trees) == {"phase:1", "phase:2", "docs"}, [a["step"] for a in handed]
    writes = [b["input"]["file_path"] for b in server.tool_uses(None)
              if b.get("name") == "Write"]
    assert any(path.startswith(trees["phase:1"]) and path.endswith("src/expiry.txt")
               for path in writes)
    assert (project.root / "src" / "expiry.txt").exists()  # landed in the user's branch
    assert (project.root / "src" / "warning.txt").exists()
    listed = subprocess.run(["git", "worktree", "list"], cwd=project.root, check=True,
                            capture_output=True, text=True).stdout
    assert len(listed.splitlines()) == 1, listed


def test_a_research_subagent_that_writes_nothing_gets_retry_inside_claude_code(project):
    scenario = Scenario(contents={"001_implementation.md": PLAN},
                        lazy={"research:session_timeout": {1}})
    result, server = project.claude(f'/orchestrate "{FEATURE}"', ScriptedModel(scenario))
    succeeded(result)
    outcomes = {(a["action"], a["outcome"]) for a in answers(server, "wf-report@1")}
    assert ("research:session_timeout@1", "retry") in outcomes
    assert ("research:session_timeout@1", "completed") not in outcomes
    assert ("research:session_timeout@2", "completed") in outcomes


def test_a_hostile_description_runs_nothing_inside_claude_code(project, tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}) `touch {marker}` ../../etc; rm -rf ~"
    result, server = project.claude(f"/orchestrate {hostile} --dry-run", ScriptedModel())
    succeeded(result)
    assert not marker.exists()
    [preview] = answers(server, "wf-dry-run@1")
    assert preview["description"] == hostile
    assert Path(preview["topic_dir"]).parent == project.root / "specs"
    assert not (project.root / "specs").exists()  # a dry run writes nothing


def test_arguments_cannot_close_the_here_document(project, tmp_path):
    """Lines that end the old fixed here-document, the placeholder, and a guessed token:
    none closes the one a fresh token ends, so no shell runs what follows them."""
    markers = [tmp_path / f"pwned{n}" for n in range(4)]
    hostile = "\n".join([
        "add a flag", "ORCHESTRATE_ARGUMENTS", f"touch {markers[0]}", "TOKEN",
        f"touch {markers[1]}", "ORCHESTRATE_ARGS_" + "0" * 32, f"touch {markers[2]}",
        "'TOKEN'", f"touch {markers[3]}"])
    result, server = project.claude(f"/orchestrate {hostile} --dry-run", ScriptedModel())
    succeeded(result)
    assert not any(marker.exists() for marker in markers)
    [token] = answers(server, "wf-token@1")
    [preview] = answers(server, "wf-dry-run@1")
    assert preview["description"].startswith("add a flag ORCHESTRATE_ARGUMENTS touch ")
    assert f"touch {markers[3]}" in preview["description"]
    assert token["token"] not in preview["description"]
    assert not (project.root / "specs").exists()


EXECUTE_PLAN = """# Plan: notes service

**Status**: Not started

## Phase 1: Design the notes format
- **Owner:** designer
- **Type:** design
- **Depends on:** none
- **Files:** `docs/notes-format.md`

Decide how notes are stored.

## Phase 2: Storage
- **Owner:** implementer
- **Depends on:** Phase 1
- **Files:** `src/storage.txt`

## Phase 3: Search
- **Owner:** implementer
- **Depends on:** Phase 1
- **Files:** `src/search.txt`

## Phase 4: Wire it up
- **Depends on:** Phase 2, Phase 3

**Run:**
```bash
cat src/storage.txt src/search.txt > src/app.txt
```
"""


def test_execute_plan_runs_the_phases_and_keeps_the_plans_checkpoints(project):
    plan = project.write("plan.md", EXECUTE_PLAN)
    project.write("Makefile", "test:\n\ttest -s src/app.txt\n")  # the final test run
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "the plan")
    shutil.copy(REPO / ".claude" / "commands" / "execute-plan.md",
                project.root / ".claude" / "commands" / "execute-plan.md")
    result, server = project.claude("/execute-plan plan.md", ScriptedModel(Scenario()))
    final = succeeded(result)
    assert "run completed: 5 of 5 steps done" in final["result"], final["result"]
    text = plan.read_text()
    assert text.replace("**Status**: Completed", "**Status**: Not started").startswith(
        EXECUTE_PLAN)
    section = text[text.index("\n## Execution Checkpoints\n"):]
    for phase in ("'1'", "'2'", "'3'", "'4'", "final:tests"):
        assert f"{phase}:\n    status: completed" in section
    logs = list((project.root / ".ai" / "logs").glob("*.plan-execution-log.md"))
    assert len(logs) == 1 and "run finished: completed" in logs[0].read_text()
    # phases 2 and 3 went out together, after the design phase; nothing asked phase 1 for tests
    batches = [[a["step"] for a in answer["actions"] if a["type"] == "agent"]
               for answer in answers(server, "wf-next@1")]
    assert ["1"] in batches and ["2", "3"] in batches
    assert batches.index(["1"]) < batches.index(["2", "3"])


def test_the_plugin_loaded_with_plugin_dir_runs_execute_plan(project):
    """`--plugin-dir` loads the repository as the plugin: `/orchestrate:execute-plan`, its
    bin/ shim on PATH (a venv made on first use), its agents as orchestrate:<role>."""
    shutil.rmtree(project.root / ".claude" / "agents")  # only the plugin's agents
    plan = project.write("plan.md", EXECUTE_PLAN.replace("- **Owner:** implementer\n", ""))
    project.write("Makefile", "test:\n\ttest -s src/app.txt\n")
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "the plan")
    result, server = project.claude("/orchestrate:execute-plan plan.md",
                                    ScriptedModel(Scenario()),
                                    args=["--plugin-dir", str(REPO)])
    final = succeeded(result)
    assert "run completed: 5 of 5 steps done" in final["result"], final["result"]
    types = {block["input"]["subagent_type"] for block in server.tool_uses("main")
             if block.get("name") == "Agent"}
    assert types == {"orchestrate:designer", "orchestrate:implementer"}
    assert "## Execution Checkpoints" in plan.read_text()


def test_execute_plan_isolates_parallel_phases_in_worktrees(project):
    """`isolate: true`: each Agent action names its own worktree, the subagents write there,
    everything merges, and `git worktree list` is back to one entry at the end."""
    import subprocess

    project.write("plan.md", EXECUTE_PLAN)
    project.write("Makefile", "test:\n\ttest -s src/app.txt\n")
    project.write(".claude/orchestrate.yaml", "isolate: true\n")
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "the plan, isolated")
    shutil.copy(REPO / ".claude" / "commands" / "execute-plan.md",
                project.root / ".claude" / "commands" / "execute-plan.md")
    result, server = project.claude("/execute-plan plan.md", ScriptedModel(Scenario()))
    final = succeeded(result)
    assert "run completed: 5 of 5 steps done" in final["result"], final["result"]
    handed = [a for answer in answers(server, "wf-next@1") for a in answer["actions"]
              if a["type"] == "agent"]
    trees = {a["step"]: a["worktree"] for a in handed}
    assert set(trees) == {"1", "2", "3"} and len(set(trees.values())) == 3
    writes = [b["input"]["file_path"] for b in server.tool_uses(None)
              if b.get("name") == "Write"]
    assert any(path.startswith(trees["2"]) and path.endswith("src/storage.txt")
               for path in writes)
    assert any(path.startswith(trees["3"]) and path.endswith("src/search.txt")
               for path in writes)
    assert (project.root / "src" / "app.txt").exists()  # landed in the user's branch
    listed = subprocess.run(["git", "worktree", "list"], cwd=project.root, check=True,
                            capture_output=True, text=True).stdout
    assert len(listed.splitlines()) == 1, listed
