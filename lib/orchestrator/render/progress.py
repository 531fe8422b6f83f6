"""Live progress for ``orchestrate run``: a refreshing table on a terminal, plain lines
elsewhere, nothing in JSON mode.

The runner is single-threaded: it calls ``event`` after applying each journal event and
``tick`` while it waits, and nothing refreshes in the background.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

from orchestrator import fmt
from orchestrator.engine.state import RunState
from orchestrator.render.run_facts import (
    attempt_number,
    done_count,
    finish_kind,
    step_duration,
    timeout_limit,
)

__all__ = ["LiveProgress", "PlainProgress", "Progress", "QuietProgress", "make_progress"]

Redact = Callable[[str], str]


def make_progress(stream: TextIO, json_mode: bool, *, redact: Redact | None = None) -> Progress:
    """The progress display that suits ``stream``."""
    if json_mode:
        return QuietProgress()
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty() and os.environ.get("TERM") != "dumb":
        return LiveProgress(stream, redact=redact)
    return PlainProgress(stream, redact=redact)


class Progress:
    """The interface; this base shows nothing."""

    def event(self, event: dict, state: RunState) -> None:
        """``event`` has just been applied to ``state``."""

    def tick(self, state: RunState) -> None:
        """Time passes; redraw what depends on the clock."""

    def note(self, text: str) -> None:
        """A message for the user, such as a warning."""

    def close(self, state: RunState) -> None:
        """The run stopped: show the final table."""


class QuietProgress(Progress):
    """For ``--json``: stdout carries one JSON object and nothing else."""


def describe(event: dict, state: RunState) -> str | None:
    """``2 completed in 0.4 s``: one plain phrase for an event, or None."""
    kind = event.get("type")
    if kind == "run_started":
        count = len(state.steps)
        return f"run started: {state.name}, {count} step{'s' * (count != 1)}"
    if kind == "step_started":
        step = state.steps[event["step"]]
        return f"{step.id} started (attempt {attempt_number(step)})"
    if kind == "step_finished":
        step = state.steps[event["step"]]
        result = finish_kind(event, step)
        cost = f" (cost {fmt.money(event['cost_usd'])})" if event.get("cost_usd") else ""
        if result == "completed":
            return f"{step.id} completed in {fmt.duration(step_duration(step, event))}{cost}"
        if event["outcome"] == "timeout":
            limit = timeout_limit(step, event)
            text = f"{step.id} timed out after {limit}"
        else:
            text = f"{step.id} failed: {fmt.first_line(event.get('error') or step.error)}"
        return text + cost + ("; retrying" if result == "retrying" else "")
    if kind == "step_waited":
        return (f"{event['step']} waiting {event['delay_s']:.1f} s before trying again "
                f"({fmt.first_line(event.get('reason'), 120)})")
    if kind == "run_resumed":
        parts = [f"{verb} {', '.join(map(str, event[key]))}"
                 for key, verb in (("skipped", "skipping"), ("retried", "retrying"),
                                   ("pending", "pending")) if event.get(key)]
        return "run resumed" + (": " + "; ".join(parts) if parts else "")
    if kind == "run_interrupted":
        return "run interrupted"
    if kind == "run_finished":
        return f"run finished: {event.get('status', state.status)}"
    if kind == "note":
        return f"note: {fmt.first_line(event.get('text'), 500)}"
    return None


def final_rows(state: RunState) -> list[list[str]]:
    """ID, TITLE, STATUS, ATTEMPTS, DURATION, ERROR for each step."""
    return [[step.id, fmt.truncate(step.title, 40), step.status, str(step.attempts),
             fmt.duration(step_duration(step)) if step.finished_at is not None else "-",
             fmt.first_line(step.error, 60)] for step in state.steps.values()]


FINAL_HEADERS = ["ID", "TITLE", "STATUS", "ATTEMPTS", "DURATION", "ERROR"]


def totals(state: RunState) -> str:
    text = f"{state.name}: {state.status}, {done_count(state)}/{len(state.steps)} steps done"
    held = sum(step.held for step in state.steps.values())
    if held:
        text += f" ({held} blocked by what the plan defers)"
    return text + (f", cost {fmt.money(state.cost_usd)}" if state.cost_usd > 0 else "")


class PlainProgress(Progress):
    """``PROGRESS: 2 started (attempt 1)`` lines, flushed one by one; never any escapes."""

    def __init__(self, stream: TextIO, redact: Redact | None = None):
        self.stream = stream
        self.redact = redact or (lambda text: text)

    def _write(self, text: str) -> None:
        self.stream.write(fmt.clean(self.redact(text)) + "\n")
        self.stream.flush()

    def event(self, event: dict, state: RunState) -> None:
        text = describe(event, state)
        if text is not None:
            self._write(f"PROGRESS: {text}")

    def note(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self._write(line)

    def close(self, state: RunState) -> None:
        self.stream.write("\n" + fmt.clean(self.redact(fmt.table(FINAL_HEADERS,
                                                                 final_rows(state)))))
        self._write(totals(state))


_COLOURS = {"pending": "dim", "running": "bold cyan", "completed": "green", "failed": "bold red",
            "timeout": "bold magenta", "blocked": "red", "skipped": "dim green",
            "awaiting_human": "bold yellow"}


class LiveProgress(Progress):
    """A rich table of steps redrawn on each event and (at most ``interval``) each tick."""

    def __init__(self, stream: TextIO, redact: Redact | None = None, *, console=None,
                 clock: Callable[[], float] = time.time, interval: float = 0.25):
        from rich.console import Console

        self.console = console or Console(file=stream)
        self.redact = redact or (lambda text: text)
        self.clock = clock
        self.interval = interval
        self.live = None
        self.last_draw = float("-inf")

    def _table(self, state: RunState, final: bool = False):
        from rich.table import Table
        from rich.text import Text

        now = self.clock()
        table = Table(title=Text(fmt.clean(self.redact(totals(state)))), title_justify="left")
        for header in ("ID", "TITLE", "STATUS", "ATTEMPT", "DURATION" if final else "ELAPSED"):
            table.add_column(header, no_wrap=header != "TITLE")
        if final:
            table.add_column("ERROR", overflow="fold")
        for step in state.steps.values():
            if step.status == "running" and step.started_at is not None:
                elapsed = fmt.duration(now - step.started_at)
            elif step.finished_at is not None:
                elapsed = fmt.duration(step_duration(step))
            else:
                elapsed = ""
            cells = [Text(step.id), Text(fmt.clean(self.redact(step.title))),
                     Text(step.status, style=_COLOURS.get(step.status, "")),
                     Text(f"{attempt_number(step)}/{step.max_attempts}"), Text(elapsed)]
            if final:
                cells.append(Text(self.redact(fmt.first_line(step.error, 60))))
            table.add_row(*cells)
        return table

    def _draw(self, state: RunState) -> None:
        if self.live is None:
            from rich.live import Live

            self.live = Live(self._table(state), console=self.console, auto_refresh=False,
                             transient=True, redirect_stdout=False, redirect_stderr=False)
            self.live.start(refresh=True)
        else:
            self.live.update(self._table(state), refresh=True)
        self.last_draw = self.clock()

    def event(self, event: dict, state: RunState) -> None:
        if event.get("type") == "note":
            self.note(str(event.get("text", "")))
        self._draw(state)

    def tick(self, state: RunState) -> None:
        if self.clock() - self.last_draw >= self.interval:
            self._draw(state)

    def note(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(fmt.clean(self.redact(text))))

    def close(self, state: RunState) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        self.console.print(self._table(state, final=True))
