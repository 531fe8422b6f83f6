"""A run's reports as recorder listeners: the debug log and the run log grow with every
event; the summary (with its Gantt chart) is written when the run stops.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.state import RunState
from ..render.debug_log import (
    DebugLog,
    closing_summary,
    debug_log_header,
    debug_log_path,
    timeline_entry,
)
from ..render.run_log import run_log_lines
from ..render.summary import summary_markdown

__all__ = ["RunReports"]

RUNNER = "orchestrate run (Run blocks with bash, other phases with an agent)"


class RunReports:
    """Writes ``debug log``, ``run.log`` and ``summary.md`` for one run segment."""

    def __init__(self, store, project_root: Path, name: str, plan_path: str, redactor):
        self.redact = redactor.redact
        self.run_dir: Path | None = store.run_dir
        self.debug_log_path: Path | None = None
        self.debug_log: DebugLog | None = None
        self.name = name
        self.plan_path = plan_path
        self.template: Path | None = None
        if self.run_dir is not None:
            self.debug_log_path, self.template = debug_log_path(project_root, self.run_dir, name)
            self.debug_log = DebugLog(self.debug_log_path, self.redact)

    def __call__(self, event: dict, state: RunState) -> None:
        if self.run_dir is None:
            return
        # A segment starts a debug log at its first event: always for a new run, and for a
        # resumed one only if the log is gone (otherwise the timeline simply goes on).
        if event["type"] == "run_started" or (
                event["type"] == "run_resumed" and not self.debug_log_path.exists()):
            template = self.template.read_text(encoding="utf-8", errors="replace") \
                if self.template else None
            self.debug_log.start(debug_log_header(self.name, self.plan_path, RUNNER,
                                                  event["at"], template))
        entry = timeline_entry(event, state)
        if entry:
            self.debug_log.append(entry)
        lines = run_log_lines(event, state)
        if lines:
            with (self.run_dir / "run.log").open("a", encoding="utf-8") as out:
                out.write(self.redact("".join(line + "\n" for line in lines)))

    def close(self, state: RunState | None) -> None:
        """The run stopped (finished, paused or interrupted): closing summary and report."""
        if self.run_dir is None or state is None:
            return
        self.debug_log.finish(closing_summary(state))
        text = self.redact(summary_markdown(state))
        temporary = self.run_dir / "summary.md.tmp"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.run_dir / "summary.md")
