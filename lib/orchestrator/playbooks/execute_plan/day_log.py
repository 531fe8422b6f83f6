"""`/execute-plan`'s log of the day, `.ai/logs/YYYY-MM-DD.plan-execution-log.md`: one line per
phase event, appended by a recorder listener.
"""

from __future__ import annotations

import time
from pathlib import Path

from orchestrator.engine.state import RunState
from orchestrator.playbooks.execute_plan.records import enabled
from orchestrator.store import safefs

__all__ = ["ExecutionLog", "execution_log_path"]


def execution_log_path(root: Path) -> Path:
    """`/execute-plan`'s log of the day: .ai/logs/YYYY-MM-DD.plan-execution-log.md."""
    return root / ".ai" / "logs" / f"{time.strftime('%Y-%m-%d')}.plan-execution-log.md"


class ExecutionLog:
    """`.ai/logs/YYYY-MM-DD.plan-execution-log.md`: one line per phase event."""

    def __init__(self, store):
        self.store = store

    def __call__(self, event: dict, state: RunState) -> None:
        settings = enabled(self.store.run_dir)
        if settings is None:
            return
        from orchestrator.render.run_log import run_log_lines

        lines = run_log_lines(event, state)
        if not lines:
            return
        path = Path(settings["log"])
        fresh = not path.exists()
        fd = safefs.open_for_append(path, create_dirs=True)
        with open(fd, "a", encoding="utf-8", closefd=True) as out:
            if fresh:
                out.write(f"# Plan execution log, {time.strftime('%Y-%m-%d')}\n\n")
            out.write("".join(f"- {line}\n" for line in lines))
