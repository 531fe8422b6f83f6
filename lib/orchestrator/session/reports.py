"""A run's reports as recorder listeners: the debug log and the run log grow with every
event; the summary (with its Gantt chart) is written when the run stops.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.engine.state import RunState
from orchestrator.render.debug_log import (
    DebugLog,
    closing_summary,
    debug_log_header,
    debug_log_path,
    read_template,
    timeline_entry,
)
from orchestrator.render.run_log import run_log_lines
from orchestrator.render.summary import summary_markdown
from orchestrator.store import safefs
from orchestrator.store.error_reports import write_error_report

__all__ = ["RunReports", "ErrorReports"]

RUNNER = "orchestrate run (Run blocks with bash, other phases with an agent)"


class RunReports:
    """Writes ``debug log``, ``run.log`` and ``summary.md`` for one run segment.

    None of them is written through a symbolic link; one where the debug log or its
    template is, is refused here, before the run starts (UnsafePath).
    """

    def __init__(self, store, project_root: Path, name: str, plan_path: str, redactor):
        self.redact = redactor.redact
        self.store = store
        self.run_dir: Path | None = store.run_dir
        self.debug_log_path: Path | None = None
        self.debug_log: DebugLog | None = None
        self.name = name
        self.plan_path = plan_path
        self.template: Path | None = None
        self._template_text: str | None = None
        self._run_log: int | None = None  # run.log, opened at its first line
        if self.run_dir is not None:
            self.debug_log_path, self.template = debug_log_path(project_root, self.run_dir, name)
            safefs.probe(self.debug_log_path, "write")
            if self.template:
                self._template_text = read_template(self.template)
            self.debug_log = DebugLog(self.debug_log_path, self.redact)

    def __call__(self, event: dict, state: RunState) -> None:
        if self.run_dir is None:
            return
        # A segment starts a debug log at its first event: always for a new run, and for a
        # resumed one only if the log is gone (otherwise the timeline simply goes on).
        if event["type"] == "run_started" or (
                event["type"] == "run_resumed"
                and safefs.probe(self.debug_log_path, "write") is None):
            self.debug_log.start(debug_log_header(self.name, self.plan_path, RUNNER,
                                                  event["at"], self._template_text))
        entry = timeline_entry(event, state)
        if entry:
            self.debug_log.append(entry)
        lines = run_log_lines(event, state)
        if lines:
            if self._run_log is None:
                self._run_log = safefs.open_for_append(self.run_dir / "run.log")
            text = self.redact("".join(line + "\n" for line in lines))
            safefs.write_all(self._run_log, text.encode("utf-8"))

    def close(self, state: RunState | None) -> None:
        """The run stopped (finished, paused or interrupted): closing summary and report."""
        if self.run_dir is None:
            return
        try:
            # A step that deleted the run's state (`git clean -xfd`) left nothing to report
            # to: the store's error (StateChanged) says so, rather than a bare ENOENT here.
            if state is None or not self.store.intact():
                return
            self.debug_log.finish(closing_summary(state))
            text = self.redact(summary_markdown(state))
            safefs.write_atomic(self.run_dir / "summary.md", text.encode("utf-8"), 0o644)
        finally:
            self.debug_log.close()
            if self._run_log is not None:
                os.close(self._run_log)
                self._run_log = None


class ErrorReports:
    """A recorder listener: the final failure of an agent step leaves an error report,
    which opens the first prompt of the same step in later runs of the plan. Both drivers
    attach it, so the report does not depend on who moved the run."""

    def __init__(self, errors_dir: Path, redactor, recorder):
        self.errors_dir = errors_dir
        self.redactor = redactor
        self.recorder = recorder

    def __call__(self, event: dict, state: RunState) -> None:
        if event["type"] != "step_finished":
            return
        step = state.steps[event["step"]]
        if step.kind != "agent" or step.status not in ("failed", "timeout"):
            return
        from orchestrator.engine.failures import classify_error
        from orchestrator.executors.agent_request import failures_of

        failures = failures_of(step)
        last = step.history[-1] if step.history else {}
        report = {
            "plan": state.plan_path, "run": state.name, "step": step.id,
            "title": step.title, "attempts": step.attempts - step.attempts_base,
            "agent": step.owner or ("designer" if step.phase_type == "design"
                                    else "implementer"),
            "failures": [reason for failure in failures for reason in failure.reasons],
            "checks": last.get("checks", []),
            "last_output": (last.get("details") or {}).get("tail", []),
            "classification": classify_error(step.error or "").to_dict(),
        }
        path = write_error_report(self.errors_dir, report, self.redactor)
        self.recorder.record("note", text=f"step {step.id}: error report {path}")
