"""Helpers for tests that run plans for real: project folders, plan files, runner processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def shell_phase(phase_id: str, script: str, depends: str = "none", *, files: str = "",
                verify: str = "", timeout: str = "", title: str | None = None) -> str:
    """One `## Phase` section whose Run block is ``script``."""
    lines = [f"## Phase {phase_id}: {title or 'Step ' + phase_id}", "",
             f"- **Depends on:** {depends}"]
    if files:
        lines.append(f"- **Files:** {files}")
    if timeout:
        lines.append(f"- **Timeout:** {timeout}")
    lines += ["", "**Run:**", "```bash", script, "```", ""]
    if verify:
        lines += ["**Verify:**", "```bash", verify, "```", ""]
    return "\n".join(lines) + "\n"


def run_dir(project: Path, name: str) -> Path:
    return project / ".claude" / "orchestrate" / "runs" / name


def journal(project: Path, name: str) -> list[dict]:
    path = run_dir(project, name) / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def statuses(project: Path, name: str) -> dict[str, str]:
    state = json.loads((run_dir(project, name) / "state.json").read_text())
    return {step["id"]: step["status"] for step in state["steps"]}


def runner_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"), **extra)
    env.pop("ORCHESTRATE_STATE_DIR", None)
    return env


def _as_from_a_terminal() -> None:  # pragma: no cover - runs in the child
    # A test suite started in the background inherits SIGINT ignored (POSIX shells do
    # that to background jobs) and Python keeps an inherited ignore; a terminal's Ctrl-C
    # is what these tests stand for, so the runner starts with the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_runner(project: Path, *args: str, **popen) -> subprocess.Popen:
    """`orchestrate ARGS...` as a separate process in ``project``."""
    return subprocess.Popen([sys.executable, "-m", "orchestrator", *args], cwd=project,
                            env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_as_from_a_terminal, **popen)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    """True when any live (non-zombie) process is in process group ``pgid``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False
