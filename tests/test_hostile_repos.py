"""A hostile repository, round two (beyond install.sh, which tests/test_install_hostile.py
covers): a plan committed as a link, FIFOs where config is read, bad UTF-8 in the slash
command's arguments, escapes in planted state, a preflight that runs before asking."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wf_helpers import Wf, shell_phase

PLAN = "# Plan: two steps\n\n**Status**: Draft\n\n" + shell_phase("1", "echo one > one.txt") + \
    shell_phase("2", "echo two > two.txt", "Phase 1")


def git_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t",
                    "commit", "-qm", "start", "--allow-empty"], check=True)
    return root


def drive_commands(wf: Wf, run: str) -> dict:
    for _ in range(30):
        actions = wf.call("next", run)["actions"]
        for action in actions:
            if action["type"] == "done":
                return action
            if action["type"] == "ask":
                wf.call("answer", run, action["id"], "continue")
            elif action["type"] == "command":
                wf.call("exec", run, action["id"])
    raise AssertionError("no done")


def test_a_plan_committed_as_a_link_keeps_its_target_untouched(tmp_path):
    outside = tmp_path / "outside" / "notes.md"
    outside.parent.mkdir()
    outside.write_text(PLAN)
    outside.chmod(0o600)
    before = outside.read_bytes()
    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").symlink_to(outside)
    git_project(project)
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    assert any("Execution Checkpoints are not written: plan.md is a symbolic link" in note
               for note in answer.get("notes", []))
    assert drive_commands(wf, answer["run"])["status"] == "completed"
    assert outside.read_bytes() == before
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600
    assert (project / "plan.md").is_symlink()


def test_a_plan_outside_the_project_is_not_written(tmp_path):
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text(PLAN)
    project = git_project(tmp_path / "project")
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", str(elsewhere))
    assert any("lies outside the project" in note for note in answer.get("notes", []))
    assert drive_commands(wf, answer["run"])["status"] == "completed"
    assert elsewhere.read_text() == PLAN


def test_the_plan_writer_keeps_the_plans_mode(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").write_text(PLAN)
    (project / "plan.md").chmod(0o600)
    git_project(project)
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    assert drive_commands(wf, answer["run"])["status"] == "completed"
    text = (project / "plan.md").read_text()
    assert "## Execution Checkpoints" in text and "**Status**: Completed" in text
    assert stat.S_IMODE((project / "plan.md").stat().st_mode) == 0o600


def test_a_link_planted_after_the_start_is_not_followed(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").write_text(PLAN)
    git_project(project)
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (project / "plan.md").unlink()
    (project / "plan.md").symlink_to(victim)
    assert drive_commands(wf, answer["run"])["status"] == "completed"
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("fifo", [".claude/orchestrate.yaml", "package.json",
                                  "pyproject.toml"])
@pytest.mark.parametrize("command", [["wf", "start", "--plan", "plan.md", "--json"],
                                     ["run", "plan.md"]])
def test_a_fifo_where_config_is_read_does_not_hang(tmp_path, fifo, command):
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    (project / "plan.md").write_text(PLAN)
    git_project(project)
    os.mkfifo(project / fifo)
    done = subprocess.run([sys.executable, "-m", "orchestrator", *command], cwd=project,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    if fifo.endswith("orchestrate.yaml"):
        assert done.returncode == 2 and fifo in done.stderr
