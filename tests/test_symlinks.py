"""Symbolic links planted in a repository: state is written, locked and read back without
following them. A link where a state file or folder belongs is refused (exit 2, naming it),
and left where it is; what it points at is never touched.

The end-to-end cases commit a link to a git repository, clone it for real and run the CLI
in the clone as separate processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from orchestrator.executors.watched import OutputLog
from orchestrator.redact import Redactor
from orchestrator.render.debug_log import DebugLog, read_template
from orchestrator.store import RunLock, RunLocked, StateChanged, UnsafePath, safefs
from orchestrator.store.journal import Journal, encode_event
from orchestrator.store.snapshot import encode_snapshot, write_atomic

from tests.run_helpers import journal, run_dir, runner_env, shell_phase, start_runner, write

FAKE = Path(__file__).with_name("fake_claude.py")
STATE = ".claude/orchestrate"
RUN = f"{STATE}/runs/plan"
MARKER = "# the user's own file: export KEEP_ME=1\n"
CHECKPOINT = json.dumps({"schema": "orchestrate/checkpoint@1", "name": "wf",
                         "updated_at": "2026-01-01T00:00:00.000Z", "data": {"mine": 1}})
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def orchestrate(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd,
                          env=env or runner_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def tree(folder: Path) -> dict[str, bytes | str]:
    """Everything under ``folder``: file contents, and where links point."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


# The same link in a real run of the CLI.

PLAN = (shell_phase("1", "echo 1 >> steps-ran.txt")
        + shell_phase("2", "echo 2 >> steps-ran.txt; exit 1", "Phase 1")
        + "## Phase 3: Agent work\n\n- **Owner:** implementer\n- **Type:** implementation\n"
          "- **Depends on:** none\n- **Files:** `agent.txt`\n\nWrite agent.txt.\n")

COMMANDS = {
    "run": ("run", "plan.md"),
    "resume": ("run", "--resume", "plan"),
    "status": ("status", "plan"),
    "runs": ("runs",),
    "checkpoint": ("checkpoint", "save", "wf", "phase=2"),
}
ON_THE_RUN = ("run", "resume", "status", "runs")


@dataclass(frozen=True)
class Planted:
    id: str
    link: str  # in the repository
    kind: str  # "file", "dir" (a real one moves outside) or "dangling"
    fresh: tuple[str, ...]  # refused in a clone holding the link alone
    stored: tuple[str, ...] = ()  # refused in a clone that also holds a run and checkpoint
    content: str = MARKER


CASES = [
    Planted("lock", f"{RUN}/lock", "file", ("run",), ON_THE_RUN),
    Planted("summary-tmp", f"{RUN}/summary.md.tmp", "file", ("run",), ON_THE_RUN),
    Planted("run-log", f"{RUN}/run.log", "file", ("run",), ON_THE_RUN),
    Planted("debug-log", f"{RUN}/debug-log.md", "file", ("run",), ON_THE_RUN),
    Planted("step-log", f"{RUN}/steps/1.1.log", "file", ("run",), ON_THE_RUN),
    Planted("prompt", f"{RUN}/steps/3.1.prompt.md", "file", ("run",), ON_THE_RUN),
    Planted("snapshot", f"{RUN}/state.json", "file", ("run",), ON_THE_RUN),
    Planted("journal", f"{RUN}/journal.jsonl", "file", ("run",), ON_THE_RUN),
    Planted("plan-copy", f"{RUN}/plan.md", "file", ("run",), ON_THE_RUN),
    Planted("run-dir", RUN, "dir", ("run",), ON_THE_RUN),
    Planted("steps-dir", f"{RUN}/steps", "dir", ("run",), ON_THE_RUN),
    Planted("runs-dir", f"{STATE}/runs", "dir", ("run",), ON_THE_RUN),
    Planted("errors-dir", f"{STATE}/errors", "dir", ("run",), ("run", "resume")),
    Planted("checkpoint-lock", f"{STATE}/checkpoints/.lock", "dangling", ("checkpoint",),
            ("checkpoint",)),
    Planted("checkpoint-file", f"{STATE}/checkpoints/wf.json", "file", ("checkpoint",),
            ("checkpoint",), content=CHECKPOINT),
    Planted("checkpoints-dir", f"{STATE}/checkpoints", "dir", ("checkpoint",),
            ("checkpoint",)),
    Planted("state-dir", STATE, "dir", ("run", "checkpoint"), (*ON_THE_RUN, "checkpoint")),
    Planted("claude-dir", ".claude", "dir", ("run", "checkpoint"), (*ON_THE_RUN, "checkpoint")),
    Planted("template", "docs/implementation/TEMPLATE-debug-log.md", "file", ("run",)),
    Planted("docs-log", "docs/implementation/plan-debug-log.md", "file", ("run",)),
    Planted("docs-dir", "docs/implementation", "dir", ("run",)),
]


@dataclass
class Seed:
    project: Path  # a project with a failed run of PLAN and a checkpoint, not under git
    clone: Path  # where each case clones to: the run's recorded plan path points there
    env: dict


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Seed:
    top = tmp_path_factory.mktemp("planted")
    bin_dir, fake = top / "bin", top / "fake"
    for folder in (bin_dir, fake):
        folder.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    claude.chmod(0o755)
    # The agent writes nothing, so its step fails and leaves an error report.
    (fake / "scenario.json").write_text(json.dumps({"default": [{"result": "STATUS: done"}]}))
    env = runner_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                     FAKE_CLAUDE_SCENARIO=str(fake / "scenario.json"))
    clone = top / "clone"
    write(clone / "plan.md", PLAN)
    git(clone, "init", "-q")
    made = orchestrate(clone, "run", "plan.md", env=env)
    assert made.returncode == 1, made.stdout + made.stderr
    saved = orchestrate(clone, "checkpoint", "save", "wf", "phase=1", env=env)
    assert saved.returncode == 0, saved.stderr
    assert (clone / RUN / "steps" / "3.1.prompt.md").is_file()
    assert list((clone / STATE / "errors").glob("*.json"))
    shutil.rmtree(clone / ".git")
    project = top / "seed"
    clone.rename(project)
    return Seed(project, clone, env)


def plant(source: Path, case: Planted, outside: Path) -> Path:
    """Put the link in ``source``; returns what it points at (outside the repository)."""
    link = source / case.link
    link.parent.mkdir(parents=True, exist_ok=True)
    target = outside / Path(case.link).name.lstrip(".")
    outside.mkdir()
    if case.kind == "dir":
        if link.exists():
            shutil.move(str(link), target)  # the real folder, with a run or checkpoints in it
        else:
            target.mkdir()
            (target / "keep.txt").write_text(MARKER)
    else:
        if link.exists():
            link.unlink()
        if case.kind == "file":
            target.write_text(case.content)
    link.symlink_to(target)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_planted_link_is_refused_and_nothing_outside_changes(case, seed, tmp_path):
    clone = seed.clone
    for setup, commands in (("fresh", case.fresh), ("stored", case.stored)):
        if not commands:
            continue
        source, outside = tmp_path / setup / "source", tmp_path / setup / "outside"
        write(source / "plan.md", PLAN)
        if setup == "stored":
            shutil.copytree(seed.project / STATE, source / STATE, symlinks=True)
        target = plant(source, case, outside)
        git(source, "init", "-q")
        git(source, "add", "-A", "-f")
        git(source, "commit", "-q", "-m", "plant a link")
        shutil.rmtree(clone, ignore_errors=True)
        git(tmp_path, "clone", "-q", str(source), str(clone))
        link = clone / case.link
        assert link.is_symlink()
        before = tree(outside)
        try:
            for command in commands:
                done = orchestrate(clone, *COMMANDS[command], env=seed.env)
                what = (setup, command, done.stdout, done.stderr)
                assert done.returncode == 2, what
                assert "through a symbolic link" in done.stderr, what
                assert str(link) in done.stderr, what
            assert tree(outside) == before, setup
            assert os.readlink(link) == str(target), setup  # refused, never removed
            assert not (clone / "steps-ran.txt").exists(), setup  # before any step ran
            copied = [name for name, data in tree(clone).items()
                      if not name.startswith(".git/") and isinstance(data, bytes)
                      and MARKER.encode() in data]
            assert copied == [], setup
        finally:
            shutil.rmtree(clone, ignore_errors=True)


# Each writer on its own: a link at the file, a dangling one, a link to its folder.

def _journal(path: Path) -> None:
    Journal(path).append_line(encode_event({"type": "note", "text": "x"}))


def _lock(path: Path) -> None:
    RunLock(path, "demo").acquire()


WRITERS = {
    "write_atomic": lambda path: safefs.write_atomic(path, b"x"),
    "snapshot": lambda path: write_atomic(path, encode_snapshot({"schema": 1})),
    "append": lambda path: os.close(safefs.open_for_append(path)),
    "write": lambda path: os.close(safefs.open_for_write(path)),
    "debug log": lambda path: DebugLog(path).start("# log\n"),
    "step log": lambda path: OutputLog(path, Redactor({})).close(),
    "journal": _journal,
    "lock": _lock,
    "ensure_dir": lambda path: safefs.ensure_dir(path / "sub"),
    "read": lambda path: safefs.read_regular(path),
    "template": read_template,
}


@pytest.mark.parametrize("where", ["file", "dangling", "folder"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_writer_follows_a_link(tmp_path, writer, where):
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "target").write_text(MARKER)
    (outside / "dir" / "name").write_text(MARKER)
    inside = tmp_path / "inside"
    inside.mkdir()
    if where == "folder":
        (inside / "linked").symlink_to(outside / "dir")
        link, path = inside / "linked", inside / "linked" / "name"
    else:
        link = path = inside / "name"
        link.symlink_to(outside / ("target" if where == "file" else "missing"))
    before = tree(outside)
    with pytest.raises(UnsafePath) as refused:
        WRITERS[writer](path)
    assert refused.value.path == str(link) and refused.value.exit_code == 2
    assert "(the repository may have planted it); remove it and try again" in \
        str(refused.value)
    assert tree(outside) == before
    assert link.is_symlink()


def test_an_atomic_write_leaves_no_temporary_file_and_ignores_a_planted_one(tmp_path):
    (tmp_path / "outside").write_text(MARKER)
    (tmp_path / "state.json.tmp").symlink_to(tmp_path / "outside")
    safefs.write_atomic(tmp_path / "state.json", b"{}\n")
    safefs.write_atomic(tmp_path / "state.json", b"[]\n")
    assert (tmp_path / "state.json").read_bytes() == b"[]\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "state.json",
                                                         "state.json.tmp"]
    assert (tmp_path / "outside").read_text() == MARKER


# The journal writes only to the file it wrote last.

def _append_elsewhere(path: Path) -> None:
    with path.open("ab") as out:
        out.write(b'{"type":"note","text":"someone else"}\n')


def _replace(path: Path) -> None:
    other = path.with_name("other.jsonl")
    other.write_bytes(path.read_bytes())
    os.replace(other, path)


@pytest.mark.parametrize("change, word", [(_append_elsewhere, "appended to by another "
                                                              "process"),
                                          (_replace, "replaced"),
                                          (os.unlink, "deleted")])
def test_the_journal_refuses_to_append_to_a_file_it_did_not_leave_so(tmp_path, change, word):
    path = tmp_path / "journal.jsonl"
    mine = Journal(path)
    mine.append_line(encode_event({"type": "note", "text": "first"}))
    change(path)
    before = path.read_bytes() if path.exists() else None
    for _ in range(2):  # and it keeps refusing
        with pytest.raises(StateChanged, match=word) as refused:
            mine.append_line(encode_event({"type": "note", "text": "mine"}))
        assert refused.value.exit_code == 2 and str(path) in str(refused.value)
        assert (path.read_bytes() if path.exists() else None) == before
    mine.close()


def test_the_journal_keeps_appending_to_its_own_file(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal(path) as mine:
        for n in range(3):
            mine.append_line(b'{"type":"note","n":%d}\n{"type":"note"}\n' % n)
    assert len(path.read_bytes().splitlines()) == 6


# The lock holds even when its file is deleted.

def test_deleting_the_lock_file_does_not_admit_a_second_holder(tmp_path):
    with RunLock(tmp_path / "lock", "demo"):
        (tmp_path / "lock").unlink()
        with pytest.raises(RunLocked, match="run demo is in use"):
            RunLock(tmp_path / "lock", "demo").acquire()
    with RunLock(tmp_path / "lock", "demo") as again:
        assert again.held


@pytest.mark.slow
def test_a_second_runner_stays_out_when_the_lock_file_is_deleted_mid_run(tmp_path):
    write(tmp_path / "plan.md", shell_phase("1", "sleep 2; echo 1 >> ran.txt")
          + shell_phase("2", "echo 2 >> ran.txt", "Phase 1"))
    first = start_runner(tmp_path, "run", "plan.md")
    try:
        deadline = time.monotonic() + 20
        while not any(e["type"] == "step_started" for e in _events(tmp_path)):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.02)
        (run_dir(tmp_path, "plan") / "lock").unlink()
        second = orchestrate(tmp_path, "run", "--resume", "plan")
        assert second.returncode == 2, second.stdout + second.stderr
        assert "run plan is in use by another orchestrate process" in second.stderr
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out + err
    assert (tmp_path / "ran.txt").read_text() == "1\n2\n"  # step 1 ran once
    assert [e["step"] for e in journal(tmp_path, "plan") if e["type"] == "step_started"] \
        == ["1", "2"]
    status = orchestrate(tmp_path, "status", "plan", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "completed"


def _events(project: Path) -> list[dict]:
    try:
        return journal(project, "plan")
    except (OSError, ValueError):
        return []


# A step that deletes the run's own state.

@pytest.mark.slow
def test_a_step_that_runs_git_clean_ends_the_run_with_a_clear_message(tmp_path):
    write(tmp_path / "plan.md", shell_phase("1", "git clean -xfd -q")
          + shell_phase("2", "echo 2 >> ran.txt", "Phase 1"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "plan.md")
    git(tmp_path, "commit", "-q", "-m", "plan")
    done = orchestrate(tmp_path, "run", "plan.md")
    assert done.returncode == 2, done.stdout + done.stderr
    journal_path = run_dir(tmp_path, "plan") / "journal.jsonl"
    assert (f"orchestrate: the run's state at {journal_path} was deleted while step 1 was "
            f"running; stopped without writing to it") in done.stderr
    assert "Errno" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ran.txt").exists()
