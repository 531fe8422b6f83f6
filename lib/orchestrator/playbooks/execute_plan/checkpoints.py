"""The plan file's `## Execution Checkpoints` section, rewritten after each phase event.

``PlanCheckpoints`` is a recorder listener, so it follows the run whichever driver moves it.
The plan file changes only inside that section (added at the end when missing) and in its
``**Status**:`` line: every other byte stays as the author wrote it.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.state import RunState
from orchestrator.playbooks.execute_plan.records import enabled, stat_regular
from orchestrator.store import safefs

__all__ = ["PlanCheckpoints", "SECTION", "with_checkpoints"]

SECTION = "## Execution Checkpoints"
_MARK_START = "<!-- orchestrate: execution checkpoints, rewritten after each phase -->"


def _checkpoints(state: RunState) -> dict:
    from orchestrator.fmt import iso_utc

    phases = {}
    for step in state.steps.values():
        entry = {"status": step.status, "attempts": step.attempts}
        if step.started_at is not None:
            entry["started"] = iso_utc(step.started_at)
        if step.finished_at is not None:
            entry["finished"] = iso_utc(step.finished_at)
        if step.files:
            entry["artifacts"] = list(step.files)
        if step.error and step.status != "completed":
            entry["error"] = step.error.splitlines()[0][:300]
        phases[step.id] = entry
    return {"run": state.name, "status": state.status, "phases": phases}


def with_checkpoints(text: str, state: RunState) -> str:
    """``text`` (a plan) with its checkpoints section set to ``state``'s; the rest kept."""
    import yaml

    body = yaml.safe_dump(_checkpoints(state), sort_keys=False, allow_unicode=True)
    section = f"{SECTION}\n\n{_MARK_START}\n\n```yaml\n{body}```\n"
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return text + separator + section
    start += 1
    end = text.find("\n## ", start + len(SECTION))
    rest = text[end + 1:] if end != -1 else ""
    return text[:start] + section + ("\n" + rest if rest else "")


class PlanCheckpoints:
    """Rewrites the plan's checkpoints section after each step that ends, and at the end."""

    def __init__(self, store):
        self.store = store

    def __call__(self, event: dict, state: RunState) -> None:
        if event["type"] not in ("step_finished", "run_finished", "run_interrupted"):
            return
        settings = enabled(self.store.run_dir)
        if settings is None or not settings.get("plan"):
            return
        path = Path(settings["plan"])
        try:  # never through a link: one planted since the start is left alone
            info = safefs.probe(path)
            if info is None or not stat_regular(info):
                return
            text = safefs.read_regular(path).decode("utf-8")
        except (OSError, ValueError, safefs.UnsafePath):
            return  # the plan moved or is not text: the run goes on from its own copy
        updated = with_checkpoints(text, state)
        if event["type"] == "run_finished":
            updated = _status_line(updated, state.status)
        if updated != text:
            try:
                safefs.write_atomic(path, updated.encode("utf-8"), mode=info.st_mode & 0o7777)
            except (OSError, safefs.UnsafePath):
                return


def _status_line(text: str, status: str) -> str:
    """The plan's `**Status**:` line, when it has one in its first lines, says the outcome."""
    import re

    word = {"completed": "Completed", "failed": "Failed"}.get(status, status)
    lines = text.split("\n")
    for index, line in enumerate(lines[:40]):
        found = re.match(r"^(\s*[-*]?\s*\*\*Status\*\*\s*:\s*)(.*)$", line)
        if found:
            lines[index] = f"{found.group(1)}{word}"
            return "\n".join(lines)
    return text
