"""`/orchestrate` with `isolate: true`: the plan's phases, the debug fixes and the docs each
work in a git worktree of their own and are merged, the tests run on the merged code in a
worktree (their log kept in the project), research and planning stay in the project, and the
user's branch gets the work at the end, or, with `--create-pr`, is left alone while the
integration branch is pushed and offered as the pull request. `wf` as real processes, real
git, and the scripted stand-in doing the agents' work."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.test_orchestrate_workflow import FEATURE, report, research_topics, scenario_for, topic_of
from tests.wf_helpers import Wf, write_scenario


def git(root, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=root, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def project(tmp_path):
    """A repository whose tests pass only once both phases' files and the fix are there."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    (root / "Makefile").write_text("test:\n\t@ls src\n\ttest -s src/one.txt && "
                                   "test -s src/two.txt && test -s src/fixed.txt\n")
    (root / "README.md").write_text("# Project\n")
    (root / ".claude").mkdir()
    (root / ".claude" / "orchestrate.yaml").write_text("isolate: true\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


def workflow(project, tmp_path, *flags: str) -> tuple[Wf, str, str]:
    """A started isolated workflow whose debug round writes the missing file."""
    wf = Wf(project, tmp_path / "scenario.json")
    answer = wf.call("start", FEATURE, *flags)
    topic = topic_of(answer, project)
    steps = scenario_for(topic, research_topics(project, answer["run"]))
    steps["debug:1"] = [{"write": {f"{topic}/debug/001_debug_round_1.md":
                                   report("Root Cause", "Proposed Fix", "Confidence")}}]
    steps["fix:1"] = [{"write": {"src/fixed.txt": "fixed"}}]
    write_scenario(wf.scenario, steps)
    return wf, answer["run"], topic


def journal_notes(project, run: str) -> list[str]:
    path = project / ".claude" / "orchestrate" / "runs" / run / "journal.jsonl"
    return [event.get("text", "") for event in map(json.loads, path.read_text().splitlines())
            if event["type"] == "note"]


def test_the_workflow_changes_code_only_in_worktrees_and_lands_it_at_the_end(project, tmp_path):
    wf, run, topic = workflow(project, tmp_path)
    start_head = git(project, "rev-parse", "HEAD")
    done = wf.drive(run)
    assert done["status"] == "completed", done
    by_step = {action["step"]: action for action in wf.handed if action["type"] == "agent"}
    isolated = {step for step, action in by_step.items() if "worktree" in action}
    assert isolated == {"phase:1", "phase:2", "fix:1", "docs"}, sorted(by_step)
    assert by_step["phase:1"]["worktree"] != by_step["phase:2"]["worktree"]
    fix_prompt = wf.prompt_of(by_step["fix:1"])
    assert f"`{project}`" in fix_prompt and "worktree" in fix_prompt  # where the report is
    # the first tests ran on the merged phases (one and two there, the fix not yet), the
    # second on the fix; both logs are in the project, where the debug analyst reads them
    outputs = project / topic / "outputs"
    assert sorted(p.name for p in outputs.glob("tests*.log")) == ["tests.log", "tests_2.log"]
    assert (outputs / "tests.log").read_text().split()[:2] == ["one.txt", "two.txt"]
    assert "fixed.txt" in (outputs / "tests_2.log").read_text()
    notes = journal_notes(project, run)
    assert any("step tests:2: checked" in note for note in notes), notes
    # the user's branch got all of it, committed, with the run's start as an ancestor
    committed = git(project, "ls-files").split()
    assert {"src/one.txt", "src/two.txt", "src/fixed.txt"} <= set(committed)
    assert "Sessions time out" in git(project, "show", "HEAD:README.md")
    git(project, "merge-base", "--is-ancestor", start_head, "HEAD")
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""
    assert len(git(project, "worktree", "list").splitlines()) == 1


def test_the_users_tree_is_untouched_until_the_run_ends(project, tmp_path):
    wf, run, _ = workflow(project, tmp_path)
    start_head = git(project, "rev-parse", "HEAD")

    def untouched(actions: list[dict]) -> None:
        if any(a.get("step") == "summary" for a in actions):
            return  # the last step: the run ends, and its work lands
        assert git(project, "rev-parse", "HEAD") == start_head
        assert not (project / "src").exists()

    wf.drive(run, limit=60, between=untouched)
    assert (project / "src" / "fixed.txt").exists()


def test_with_create_pr_the_integration_branch_is_pushed_and_offered_not_landed(
        project, tmp_path, monkeypatch):
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    log = tmp_path / "gh.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'
                                'case "$1" in pr) echo https://example.invalid/pr/7;; esac\n')
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    wf, run, _ = workflow(project, tmp_path, "--create-pr")
    start_head = git(project, "rev-parse", "HEAD")
    done = wf.drive(run)
    assert done["status"] == "completed", done
    branch = f"orchestrate/{run}/integration"
    assert f"--head {branch}" in log.read_text()
    pushed = git(origin, "ls-tree", "-r", "--name-only", branch).split()
    assert {"src/one.txt", "src/two.txt", "src/fixed.txt"} <= set(pushed)
    assert git(project, "rev-parse", "HEAD") == start_head  # the user's branch as it was
    assert not (project / "src").exists()
    assert any("for its pull request" in note for note in journal_notes(project, run))
    assert len(git(project, "worktree", "list").splitlines()) == 1


def test_a_push_that_fails_fails_the_pr_step_and_names_the_branch(project, tmp_path,
                                                                  monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    wf, run, _ = workflow(project, tmp_path, "--create-pr")  # no remote named origin
    done = wf.drive(run)
    assert done["status"] == "failed", done
    status = wf.call("status", run)
    assert status["steps"]["pr"] == "failed"
    log = (project / ".claude" / "orchestrate" / "runs" / run).rglob("pr*")
    text = "".join(path.read_text() for path in log)
    assert "git push failed" in text and f"orchestrate/{run}/integration" in text


def test_isolation_needs_a_repository_and_makes_nothing_without_one(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / ".claude").mkdir()
    (root / ".claude" / "orchestrate.yaml").write_text("isolate: true\n")
    wf = Wf(root, tmp_path / "scenario.json")
    wf.call("start", FEATURE, code=2)
    assert not (root / "specs").exists()
