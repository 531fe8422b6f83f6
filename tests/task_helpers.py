"""Helpers for the task lifecycle's tests: a project with a tasks.yaml, the stand-in agent,
and `orchestrate` run as a real process in it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.run_helpers import REPO, runner_env, write

AGENT = f"{sys.executable} {REPO / 'tests' / 'task_agent.py'} {{prompt_file}} {{agent}} {{model}}"


def task_yaml(*tasks: dict) -> str:
    lines = []
    for task in tasks:
        lines.append(f"- id: {task['id']}")
        for key in ("goal", "risk", "area", "plan"):
            if key in task:
                lines.append(f"  {key}: {task[key]}")
    return "\n".join(lines) + "\n"


def make_project(tmp_path: Path, tasks: list[dict], *, script: dict | None = None,
                 config: str = "") -> Path:
    """A git project holding tasks.yaml, the stand-in's script and ``config``."""
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)
    write(project / "README.md", "# project\n")
    write(project / "tasks.yaml", task_yaml(*tasks))
    if config:
        write(project / ".claude" / "orchestrate.yaml", config)
    git(project, "add", "-A")
    git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init")
    (tmp_path / "script.json").write_text(json.dumps(script or {}))
    return project


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True,
                          text=True).stdout


def agent_env(project: Path, **extra: str) -> dict[str, str]:
    env = runner_env(TASK_AGENT_SCRIPT=str(project.parent / "script.json"), **extra)
    env.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    return env


def orchestrate(project: Path, *args: str, env: dict | None = None,
                timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=project,
                          env=env or agent_env(project), capture_output=True, text=True,
                          timeout=timeout)


def tasks_run(project: Path, *args: str, env: dict | None = None,
              timeout: float = 180) -> subprocess.CompletedProcess:
    return orchestrate(project, "tasks", "run", "tasks.yaml", "--agent-cmd", AGENT, *args,
                       env=env, timeout=timeout)


def calls(project: Path) -> list[dict]:
    path = project.parent / "script.json.calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() \
        else []


def task_journal(project: Path, task_id: str) -> list[dict]:
    path = project / ".claude" / "orchestrate" / "runs" / f"task-{task_id.lower()}" \
        / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def lifecycle_of(project: Path, task_id: str) -> list[tuple[str, str]]:
    return [(e["subject"], e["state"]) for e in task_journal(project, task_id)
            if e["type"] == "lifecycle"]


def run_log(project: Path) -> str:
    return (project / "ORCHESTRATOR_RUN_LOG.md").read_text()


def log_lines(project: Path, category: str) -> list[str]:
    return [line for line in run_log(project).splitlines() if f"**{category}**" in line]
