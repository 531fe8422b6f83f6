"""Hand-written journals for the rendering tests: a run with a retry, a failure that blocks
a dependent, a timeout, a resume and a cost; plus small ones (parallel, interrupted, paused).
"""

from __future__ import annotations

from orchestrator.engine.decide import resume_changes
from orchestrator.engine.state import RunState, apply, replay

T = 1795290000.0  # 2026-11-21 19:40:00 UTC

SPECS = [
    {"id": "1", "title": "Contracts", "depends_on": [], "kind": "command",
     "phase_hash": "h1", "max_attempts": 1},
    {"id": "2", "title": "Backend: API", "depends_on": ["1"], "kind": "agent",
     "phase_hash": "h2", "max_attempts": 3},
    {"id": "3", "title": "Frontend", "depends_on": ["1"], "kind": "agent",
     "phase_hash": "h3", "max_attempts": 2},
    {"id": "4", "title": "C# docs; #final", "depends_on": ["3"], "kind": "agent",
     "phase_hash": "h4", "max_attempts": 1},
    {"id": "5", "title": "Load test", "depends_on": ["1"], "kind": "command",
     "phase_hash": "h5", "max_attempts": 1, "timeout_s": 900},
]

CHECKS_OK = [{"name": "files", "ok": True, "detail": "1 file"},
             {"name": "verify", "ok": True, "detail": "pytest -q"},
             {"name": "verify", "ok": True, "detail": "ruff check"}]
TS_ERROR = "TS2339: Property 'x' not found"


def started(name: str = "feature", jobs: int = 1, specs: list[dict] | None = None) -> dict:
    return {"type": "run_started", "at": T, "name": name, "plan_path": "docs/plan.md",
            "plan_format": "plan", "plan_hash": "p1", "project_root": "/project", "jobs": jobs,
            "steps": specs or SPECS}


def begin(step: str, at: float) -> dict:
    return {"type": "step_started", "at": T + at, "step": step}


def end(step: str, at: float, outcome: str = "completed", duration: float | None = None,
        **extra) -> dict:
    event = {"type": "step_finished", "at": T + at, "step": step, "outcome": outcome}
    if duration is not None:
        event["duration_s"] = duration
    event.update(extra)
    return event


def first_segment() -> list[dict]:
    """Step 2 needs two attempts, step 3 fails twice (blocking 4), step 5 times out."""
    return [
        started(),
        begin("1", 1), end("1", 2.2, duration=1.2, checks=CHECKS_OK),
        begin("2", 3),
        end("2", 5, "failed", 2.0, error="AssertionError: boom\n  File x.py, line 3",
            cost_usd=0.01),
        begin("2", 6), end("2", 8, duration=2.0, cost_usd=0.02),
        begin("3", 9), end("3", 10, "failed", 1.0, error=TS_ERROR, cost_usd=0.005),
        begin("3", 11), end("3", 12, "failed", 1.0, error=TS_ERROR, cost_usd=0.005),
        begin("5", 13), end("5", 913, "timeout", 900.0, error="timed out after 900 s"),
        {"type": "run_finished", "at": T + 914, "status": "failed"},
    ]


def full_run() -> list[dict]:
    """The first segment, then a resume an hour later that completes everything.

    Step 3's last attempt takes no time at all.
    """
    events = first_segment()
    resumed = {"type": "run_resumed", "at": T + 3600, **resume_changes(replay(events), SPECS)}
    return events + [
        resumed,
        begin("3", 3601), end("3", 3601, duration=0.0, cost_usd=0.01),
        begin("4", 3602), end("4", 3605, duration=3.0),
        begin("5", 3606), end("5", 3700, duration=94.0),
        {"type": "run_finished", "at": T + 3701, "status": "completed"},
    ]


def parallel_run() -> list[dict]:
    specs = [dict(spec, depends_on=[]) for spec in SPECS[:2]]
    return [started("par", jobs=2, specs=specs), begin("1", 1), begin("2", 1),
            end("2", 2, duration=1.0), end("1", 3, duration=2.0),
            {"type": "run_finished", "at": T + 4, "status": "completed"}]


def interrupted_run() -> list[dict]:
    return [started(), begin("1", 1), end("1", 2, duration=1.0), begin("2", 3),
            {"type": "run_interrupted", "at": T + 4, "reason": "SIGINT"}]


def paused_run() -> list[dict]:
    return [started(), begin("1", 1), end("1", 2, duration=1.0),
            {"type": "note", "at": T + 3, "text": "cost cap reached"},
            {"type": "run_finished", "at": T + 3, "status": "awaiting_human",
             "reason": "cost cap of $1.00 reached"}]


def walk(events: list[dict]):
    """Yield (event, state after it) along a journal, as a runner sees them."""
    state: RunState | None = None
    for event in events:
        state = apply(state, event)
        yield event, state
