"""The human debug log of a run: a header, a timeline appended as events happen, a summary.

The rendering functions are pure; ``DebugLog`` is the only part that touches the file.
Each entry is Markdown ending in a newline, written as it comes (append-only), so a log
stays readable however the run ends.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator import fmt
from orchestrator.engine.state import FAILED_STATUSES, RunState
from orchestrator.render.run_facts import (
    attempt_number,
    blocked_by,
    checks_summary,
    finish_kind,
    in_flight,
    retries,
    step_duration,
    step_label,
    timeout_limit,
)
from orchestrator.store import safefs

__all__ = ["DebugLog", "closing_summary", "debug_log_header", "debug_log_path",
           "read_template", "timeline_entry"]

TEMPLATE_NAME = "TEMPLATE-debug-log.md"
_TIMELINE = re.compile(r"^##[ \t]+Timeline[ \t#]*$", re.MULTILINE | re.IGNORECASE)
_SECTION = re.compile(r"^#{1,2}[ \t]", re.MULTILINE)
_OUTPUT_LINES = 20
MAX_TEMPLATE = 1 << 20


def debug_log_path(project_root: Path, run_dir: Path, name: str) -> tuple[Path, Path | None]:
    """Where a run's debug log goes, and the template to start it from (if any).

    ``docs/implementation/<name>-debug-log.md`` when the project has that folder, else
    ``debug-log.md`` in the run's own directory. Read the template with ``read_template``.
    """
    folder = project_root / "docs" / "implementation"
    if not folder.is_dir():
        return run_dir / "debug-log.md", None
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "run"
    template = folder / TEMPLATE_NAME
    # A link is returned too (even a dangling one), for the reader to refuse it.
    found = template.is_file() or template.is_symlink()
    return folder / f"{safe}-debug-log.md", template if found else None


def read_template(path: Path) -> str:
    """A debug-log template's text, read without following a symbolic link: one planted
    in a cloned repository would copy any file of the user's into the work tree
    (UnsafePath instead)."""
    return safefs.read_regular(path, limit=MAX_TEMPLATE).decode("utf-8", errors="replace")


def debug_log_header(name: str, plan_path: str, agent: str, started_at: float,
                     template: str | None) -> str:
    """The opening of a debug log, ending with the ``## Timeline`` heading.

    A template gets ``[Feature]``, ``[Agent]``, ``[Plan]``/``[Spec]`` and ``YYYY-MM-DD HH:MM``
    filled in; its Timeline section is moved last (entries are appended at the end).
    """
    if template is None:
        return (f"# {name}: debug log\n\n"
                f"- Started: {fmt.local_time(started_at)}\n"
                f"- Agent: {agent}\n"
                f"- Plan: {plan_path}\n\n"
                "## Timeline\n")
    text = template
    for placeholder, value in (("[Feature]", name), ("[Agent]", agent), ("[Plan]", plan_path),
                               ("[Spec]", plan_path),
                               ("YYYY-MM-DD HH:MM", time.strftime(
                                   "%Y-%m-%d %H:%M", time.localtime(started_at)))):
        text = text.replace(placeholder, value)
    return _timeline_last(text)


def _timeline_last(text: str) -> str:
    text = text.rstrip() + "\n"
    found = _TIMELINE.search(text)
    if found is None:
        return text + "\n## Timeline\n"
    after = _SECTION.search(text, found.end())
    if after is None:
        return text
    section = text[found.start():after.start()].rstrip() + "\n"
    rest = (text[:found.start()] + text[after.start():]).rstrip() + "\n"
    return rest + "\n" + section


def timeline_entry(event: dict, state: RunState) -> str | None:
    """The Markdown to append for ``event``, or None when it adds nothing to the timeline.

    ``state`` must be the run's state AFTER ``apply(state, event)``: the entry reads the
    outcome from it (a failed attempt that left the step pending is being retried).
    """
    kind = event.get("type")
    at = event.get("at", state.updated_at)
    if kind == "step_started":
        step = state.steps[event["step"]]
        number = attempt_number(step)
        extra = f" (attempt {number} of {step.max_attempts})" if number > 1 else ""
        return f"\n### [{fmt.clock(at)}] {step_label(step)}{extra}\n"
    if kind == "step_finished":
        return _finished(event, state, at)
    if kind == "run_resumed":
        lines = [f"\n### [{fmt.clock(at)}] Resumed"]
        for label, ids in _resume_lists(event):
            lines.append(f"- {label}: {', '.join(ids)}")
        return "\n".join(lines) + "\n"
    if kind == "run_interrupted":
        reason = fmt.first_line(event.get("reason"))
        lines = [f"\n### [{fmt.clock(at)}] Interrupted" + (f": {reason}" if reason else "")]
        stopped = in_flight(state)
        if stopped:
            lines.append(f"- In flight, will run again on resume: {', '.join(stopped)}")
        lines.append(f"- Resume with `orchestrate run --resume {state.name}`")
        return "\n".join(lines) + "\n"
    if kind == "note":
        return f"- [{fmt.clock(at)}] Note: {fmt.first_line(event.get('text'), 500)}\n"
    return None


def _resume_lists(event: dict) -> list[tuple[str, list[str]]]:
    added = [raw["id"] if isinstance(raw, dict) else str(raw) for raw in event.get("added", ())]
    pairs = [("Skipped (done before)", event.get("skipped", [])),
             ("Retried", event.get("retried", [])),
             ("Changed since the last run", event.get("changed", [])),
             ("Depend on a changed phase", event.get("stale", [])),
             ("Pending", event.get("pending", [])),
             ("Added", added),
             ("Removed", event.get("removed", []))]
    return [(label, [str(i) for i in ids]) for label, ids in pairs if ids]


def _finished(event: dict, state: RunState, at: float) -> str:
    step = state.steps[event["step"]]
    number = attempt_number(step)
    result = finish_kind(event, step)
    error = fmt.first_line(step.error or event.get("error"))
    lines = [f"\n#### [{fmt.clock(at)}] Step {step.id} finished"] if state.jobs > 1 else []
    limit = timeout_limit(step, event)
    if result == "completed":
        took = fmt.duration(step_duration(step, event))
        lines.append(f"- Result: completed in {took} (attempt {number})")
    elif result == "retrying" and event["outcome"] == "timeout":
        lines.append(f"- Attempt {number} timed out after {limit}; retrying")
    elif result == "retrying":
        lines.append(f"- Attempt {number} failed: {error}; retrying")
    elif result == "timeout":
        lines.append(f"- Result: TIMEOUT after {limit}"
                     + (f" (attempt {number})" if number > 1 else ""))
    else:
        plural = "attempt" if number == 1 else "attempts"
        lines.append(f"- Result: FAILED after {number} {plural}: {error}")
    if event.get("checks"):
        lines.append(f"- Checks: {checks_summary(event['checks'])}")
    if event.get("cost_usd"):
        lines.append(f"- Cost: {fmt.money(event['cost_usd'])}")
    if result != "completed":
        lines.extend(_output_block(event))
    if result in FAILED_STATUSES:
        blocked = blocked_by(state, step.id)
        if blocked:
            lines.append(f"- Blocked by this: {', '.join(blocked)}")
    return "\n".join(lines) + "\n"


def _output_block(event: dict) -> list[str]:
    """The failing output's last lines (``tail``), else a multi-line error, fenced."""
    tail = event.get("tail") or []
    text = fmt.clean("\n".join(map(str, tail)) if tail else event.get("error") or "")
    body = text.strip("\n").splitlines()
    if not body or (not tail and len(body) < 2):
        return []
    if len(body) > _OUTPUT_LINES:
        body = [f"... ({len(body) - _OUTPUT_LINES} lines before)"] + body[-_OUTPUT_LINES:]
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return ["", "Last output:" if tail else "Error:", "", fence, *body, fence, ""]


def closing_summary(state: RunState) -> str:
    """The ``## Summary`` section that closes a run's debug log."""
    steps = list(state.steps.values())

    def ids(status: str) -> str:
        chosen = [step.id for step in steps if step.status == status]
        return f"{len(chosen)} ({', '.join(chosen)})" if chosen else "0"

    end = state.finished_at if state.finished_at is not None else state.updated_at
    completed = sum(step.status == "completed" for step in steps)
    extra = retries(state)
    retried = ", ".join(f"step {i}" + (f" x{n}" if n > 1 else "") for i, n in extra)
    lines = ["", "## Summary", "",
             f"- Status: {state.status}",
             f"- Total time: {fmt.duration(end - state.created_at)}",
             f"- Steps completed: {completed}/{len(steps)}",
             f"- Failed: {ids('failed')}",
             f"- Timed out: {ids('timeout')}",
             f"- Blocked: {ids('blocked')}"]
    if any(step.status == "skipped" for step in steps):
        lines.append(f"- Skipped: {ids('skipped')}")
    total = sum(n for _, n in extra)
    lines.append(f"- Retries: {total} ({retried})" if total else "- Retries: 0")
    if state.cost_usd > 0:
        lines.append(f"- Cost: {fmt.money(state.cost_usd)}")
    errors = [step for step in steps if step.status in FAILED_STATUSES]
    if errors:
        lines.append("- Errors:")
        lines.extend(f"  - Step {step.id} ({step.status}): {fmt.first_line(step.error)}"
                     for step in errors)
    return "\n".join(lines) + "\n"


class DebugLog:
    """Appends a run's debug log to ``path``; every text passes through ``redact`` first.

    Never truncates: starting on a file that already holds a log adds a ``---`` separator
    and a new header after it. The file is opened once (until ``finish`` or ``close``),
    never through a symbolic link: a planted one is refused (UnsafePath).
    """

    def __init__(self, path: Path, redact: Callable[[str], str] | None = None):
        self.path = Path(path)
        self.redact = redact or (lambda text: text)
        self._fd: int | None = None

    def start(self, header: str) -> None:
        fd = self._open(create_dirs=True)
        text = self.redact(header)
        safefs.write_all(fd, (("\n\n---\n\n" if os.fstat(fd).st_size else "") + text)
                         .encode("utf-8"))

    def append(self, text: str) -> None:
        safefs.write_all(self._open(), self.redact(text).encode("utf-8"))

    def finish(self, summary: str) -> None:
        self.append(summary)
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self, create_dirs: bool = False) -> int:
        if self._fd is None:
            self._fd = safefs.open_for_append(self.path, create_dirs=create_dirs)
        return self._fd

    def __del__(self) -> None:
        self.close()
