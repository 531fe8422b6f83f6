"""The engine's decisions over a run's state: what starts next, when the run is over, and
what a resume must redo. Pure functions; the drivers perform what they decide.
"""

from __future__ import annotations

from collections.abc import Callable

from ..scheduler import Scheduler
from .state import DONE_STATUSES, FAILED_STATUSES, RunState

__all__ = ["ready_steps", "next_steps", "final_status", "resume_changes", "scheduler_for"]


def scheduler_for(state: RunState, durations: dict[str, float] | None = None) -> Scheduler:
    """Critical-path-first priorities over the run's steps (one unit each by default)."""
    order = list(state.steps)
    deps = {step.id: step.depends_on for step in state.steps.values()}
    return Scheduler(order, deps, durations or dict.fromkeys(order, 1.0))


def ready_steps(state: RunState) -> list[str]:
    """Pending steps whose dependencies are all done, in plan order."""
    ready = []
    for step in state.steps.values():
        if step.status != "pending":
            continue
        if all(state.steps[dep].status in DONE_STATUSES
               for dep in step.depends_on if dep in state.steps):
            ready.append(step.id)
    return ready


def next_steps(state: RunState, scheduler: Scheduler, jobs: int,
               conflicts: Callable[[str, str], bool] | None = None,
               may_start: Callable[[str], bool] | None = None) -> list[str]:
    """The steps to start now: ready ones, most urgent first, within ``jobs``.

    ``conflicts(a, b)`` says two steps must not run at the same time (overlapping files);
    ``may_start(step)`` can hold a step back (a spent budget).
    """
    running = [s.id for s in state.steps.values() if s.status == "running"]
    chosen: list[str] = []
    for candidate in scheduler.choose(ready_steps(state), len(state.steps)):
        if len(running) + len(chosen) >= jobs:
            break
        if may_start is not None and not may_start(candidate):
            continue
        if conflicts is not None and any(conflicts(candidate, other)
                                         for other in running + chosen):
            continue
        chosen.append(candidate)
    return chosen


def final_status(state: RunState) -> str | None:
    """The run's closing status once nothing can run any more, else None."""
    statuses = [step.status for step in state.steps.values()]
    if "running" in statuses or ready_steps(state):
        return None
    if "awaiting_human" in statuses:
        return "awaiting_human"
    if any(status in FAILED_STATUSES or status == "blocked" for status in statuses):
        return "failed"
    if all(status in DONE_STATUSES for status in statuses):
        return "completed"
    return "awaiting_human"  # pending steps held back (e.g. by a cost cap)


def resume_changes(state: RunState, specs: list[dict]) -> dict:
    """The ``run_resumed`` payload: steps added, removed, changed, and those to run again.

    Completed steps are kept unless their phase changed; in-flight, failed, timed-out,
    blocked and held steps go again.
    """
    now = {spec["id"]: spec for spec in specs}
    added = [spec for spec in specs if spec["id"] not in state.steps]
    removed = [step_id for step_id in state.steps if step_id not in now]
    changed = [step_id for step_id, step in state.steps.items()
               if step_id in now and now[step_id]["phase_hash"] != step.phase_hash]
    updated = [now[step_id] for step_id in changed]
    reset = [step_id for step_id, step in state.steps.items()
             if step_id in now and (step_id in changed or step.status not in DONE_STATUSES)]
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "updated": updated,
        "reset": reset,
        "order": [spec["id"] for spec in specs],
        "skipped": [step_id for step_id, step in state.steps.items()
                    if step_id in now and step_id not in changed
                    and step.status in DONE_STATUSES],
        "retried": [step_id for step_id, step in state.steps.items()
                    if step_id in reset and step.status in FAILED_STATUSES],
        "pending": [step_id for step_id, step in state.steps.items()
                    if step_id in reset and step.status not in FAILED_STATUSES],
    }
