"""Live progress: plain lines off a terminal, a rich table on one, silence in JSON mode."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from orchestrator.engine.state import replay
from orchestrator.render.progress import LiveProgress, PlainProgress, QuietProgress, make_progress

from .run_scenarios import T, begin, end, first_segment, full_run, started, walk

pytestmark = pytest.mark.usefixtures("utc")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(progress, events: list[dict]):
    state = None
    for event, state in walk(events):
        progress.event(event, state)
        progress.tick(state)
    return state


def test_plain_progress_lines():
    out = io.StringIO()
    feed(PlainProgress(out), full_run())
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        "PROGRESS: run started: feature, 5 steps",
        "PROGRESS: 1 started (attempt 1)",
        "PROGRESS: 1 completed in 1.2 s",
        "PROGRESS: 2 started (attempt 1)",
        "PROGRESS: 2 failed: AssertionError: boom (cost $0.0100); retrying",
    ]
    assert "PROGRESS: 3 failed: TS2339: Property 'x' not found (cost $0.0050)" in lines
    assert "PROGRESS: 5 timed out after 900 s" in lines
    assert "PROGRESS: run finished: failed" in lines
    assert "PROGRESS: run resumed: skipping 1, 2; retrying 3, 5; pending 4" in lines
    assert lines[-1] == "PROGRESS: run finished: completed"
    assert all(line.startswith("PROGRESS: ") for line in lines)


class CountingStream(io.StringIO):
    flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


def test_plain_progress_flushes_every_line():
    out = CountingStream()
    feed(PlainProgress(out), first_segment())
    assert out.flushes >= len(out.getvalue().splitlines())


def test_plain_progress_close_prints_an_aligned_table():
    out = io.StringIO()
    progress = PlainProgress(out)
    state = feed(progress, first_segment())
    progress.note("warning: cost at 80% of the cap")
    progress.close(state)
    text = out.getvalue()
    assert "warning: cost at 80% of the cap\n" in text
    table = text.split("\n\n", 1)[1].splitlines()
    assert table[0].split() == ["ID", "TITLE", "STATUS", "ATTEMPTS", "DURATION", "ERROR"]
    status_column = table[0].index("STATUS")
    assert [row[status_column:].split()[0] for row in table[1:6]] == [
        "completed", "completed", "failed", "blocked", "timeout"]
    assert table[-1] == "feature: failed, 2/5 steps done, cost $0.0400"


def test_plain_progress_never_writes_escapes_or_secrets():
    out = io.StringIO()
    progress = PlainProgress(out, redact=lambda text: text.replace("sk-123", "[REDACTED]"))
    events = [started(), begin("1", 1),
              end("1", 2, "failed", 1.0, error="\x1b[31mred sk-123\x1b[0m\x07")]
    state = feed(progress, events)
    progress.note("\x1b[1mbold\x1b[0m")
    progress.close(state)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "sk-123" not in text
    assert "PROGRESS: 1 failed: red [REDACTED]" in text


def test_quiet_progress_prints_nothing(capsys):
    progress = make_progress(sys.stdout, json_mode=True)
    assert isinstance(progress, QuietProgress)
    state = feed(progress, full_run())
    progress.note("hello")
    progress.close(state)
    assert capsys.readouterr() == ("", "")


def test_make_progress_picks_by_stream_and_term(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(make_progress(io.StringIO(), False), PlainProgress)
    assert isinstance(make_progress(Terminal(), False), LiveProgress)
    assert isinstance(make_progress(Terminal(), True), QuietProgress)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(make_progress(Terminal(), False), PlainProgress)


def live(now: list[float]):
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    return LiveProgress(out, console=console, clock=lambda: now[0]), out


def test_live_progress_renders_steps_and_final_table():
    now = [T + 4]
    progress, out = live(now)
    state = None
    for event, state in walk(full_run()):
        now[0] = event["at"]
        progress.event(event, state)
        now[0] += 10
        progress.tick(state)
    progress.note("warning: budget [bold]low[/bold]")
    progress.close(state)
    text = out.getvalue()
    assert "\x1b[" in text  # it did draw in colour
    for step_id in ("1", "2", "3", "4", "5"):
        assert f" {step_id} " in text
    assert "Frontend" in text and "completed" in text
    assert "budget [bold]low[/bold]" in text  # user text is not rich markup
    assert progress.live is None


def test_live_progress_shows_elapsed_time_of_running_steps():
    now = [T + 1]
    progress, out = live(now)
    events = [started(), begin("1", 1)]
    state = feed(progress, events)
    now[0] = T + 43.5
    progress.tick(state)
    assert "42.5 s" in out.getvalue()
    progress.close(state)


def test_live_progress_tick_is_throttled():
    now = [T]
    progress, out = live(now)
    state = replay([started()])
    progress.tick(state)
    drawn = len(out.getvalue())
    progress.tick(state)  # same instant: no redraw
    assert len(out.getvalue()) == drawn
    now[0] += 1
    progress.tick(state)
    assert len(out.getvalue()) > drawn
    progress.close(state)


def test_importing_progress_does_not_import_rich():
    code = "import sys, orchestrator.render.progress; print('rich' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
