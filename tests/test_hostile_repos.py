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
    assert wf.drive(answer["run"])["status"] == "completed"
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
    assert wf.drive(answer["run"])["status"] == "completed"
    assert elsewhere.read_text() == PLAN


def test_the_plan_writer_keeps_the_plans_mode(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").write_text(PLAN)
    (project / "plan.md").chmod(0o600)
    git_project(project)
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    assert wf.drive(answer["run"])["status"] == "completed"
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
    assert wf.drive(answer["run"])["status"] == "completed"
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


def _planted_escape_run(project: Path) -> None:
    """A run whose journal a repository rewrote: step ids and titles full of escapes."""
    import json

    (project / "plan.md").write_text(PLAN)
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.md"],
                          cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    run_dir = project / ".claude" / "orchestrate" / "runs" / "plan"
    evil = "\x1b]0;pwned\x07\x1b[2J"
    lines = []
    for raw in (run_dir / "journal.jsonl").read_text().splitlines():
        event = json.loads(raw)
        for step in event.get("steps", ()):
            step["id"], step["title"] = evil + step["id"], evil + step["title"]
            step["depends_on"] = [evil + dep for dep in step["depends_on"]]
        if "step" in event:
            event["step"] = evil + event["step"]
        if event["type"] == "run_started":
            event["driver"] = "wf"
        lines.append(json.dumps(event))
    (run_dir / "journal.jsonl").write_text("\n".join(lines[:3]) + "\n")  # left mid-run
    (run_dir / "state.json").unlink()


@pytest.mark.parametrize("command", [["status", "plan"], ["runs"], ["wf", "status", "plan"]])
def test_escapes_in_a_planted_journal_never_reach_the_terminal(tmp_path, command):
    project = tmp_path / "project"
    project.mkdir()
    _planted_escape_run(project)
    done = subprocess.run([sys.executable, "-m", "orchestrator", *command], cwd=project,
                          capture_output=True, timeout=60)
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert b"\x1b" not in done.stderr


def test_escapes_in_a_planted_journal_never_reach_the_session_start_context(tmp_path):
    import json

    project = tmp_path / "project"
    project.mkdir()
    _planted_escape_run(project)
    done = subprocess.run([sys.executable, "-m", "orchestrator", "hook", "session-start"],
                          cwd=project, capture_output=True, text=True, timeout=60,
                          input=json.dumps({"hook_event_name": "SessionStart",
                                            "source": "compact", "cwd": str(project),
                                            "session_id": "s"}))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "plan" in done.stdout  # the run is still named


@pytest.mark.parametrize("flag", ["--arguments-stdin", "--plan-arguments-stdin"])
def test_bad_utf8_arguments_are_refused_before_anything_is_written(tmp_path, flag):
    project = git_project(tmp_path / "project")
    token = Wf(project, tmp_path / "none.json").call("token")["token"]
    done = subprocess.run([sys.executable, "-m", "orchestrator", "wf", "start", "--json", flag,
                           "--token", token], cwd=project, input=b"add \xff\xfe a flag\n",
                          capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"not UTF-8" in done.stderr and b"Traceback" not in done.stderr
    assert not (project / "specs").exists() and not (project / ".claude").exists()


@pytest.mark.parametrize("token", [None, "TOKEN", "ORCHESTRATE_ARGS_123", "ORCHESTRATE_ARGUMENTS"])
def test_arguments_on_stdin_need_a_fresh_token(tmp_path, token):
    project = git_project(tmp_path / "project")
    argv = [sys.executable, "-m", "orchestrator", "wf", "start", "--json", "--arguments-stdin"]
    done = subprocess.run(argv + (["--token", token] if token else []), cwd=project,
                          input="add a flag", capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "orchestrate wf token" in done.stderr
    assert not (project / "specs").exists()
