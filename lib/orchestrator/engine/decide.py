"""The engine's decisions over a run's state: what starts next, when the run is over, and
what a resume must redo. Pure functions; the drivers perform what they decide.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from orchestrator.engine import lifecycle, policy
from orchestrator.engine.outcome import CONFLICT_ASK
from orchestrator.engine.scheduler import Scheduler
from orchestrator.engine.state import DONE_STATUSES, FAILED_STATUSES, RunState, satisfies

__all__ = ["Frontier", "ready_steps", "next_steps", "closing", "final_status", "resume_changes",
           "scheduler_for"]


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
        if all(satisfies(state.steps[dep]) for dep in step.depends_on if dep in state.steps):
            ready.append(step.id)
    return ready


def next_steps(state: RunState, scheduler: Scheduler, jobs: int,
               conflicts: Callable[[str, str], bool] | None = None,
               may_start: Callable[[str], bool] | None = None,
               frontier: Frontier | None = None) -> list[str]:
    """The steps to start now: ready ones, most urgent first, within ``jobs``.

    ``conflicts(a, b)`` says two steps must not run at the same time, ``may_start(step)``
    can hold a step back; both default to the engine's policy (overlapping Files, the cost
    cap). With a ``frontier`` kept up to date, the cost does not grow with the run.
    """
    if conflicts is None:
        def conflicts(first: str, second: str) -> bool:
            return policy.conflicts(state, first, second)
    if may_start is None:
        def may_start(step_id: str) -> bool:
            return policy.may_start(state, step_id)
    if frontier is not None:
        running = sorted(frontier.running)
        candidates = frontier.ready()
    else:
        running = [s.id for s in state.steps.values() if s.status == "running"]
        candidates = scheduler.choose(ready_steps(state), len(state.steps))
    chosen: list[str] = []
    if len(running) >= jobs:
        return chosen
    for candidate in candidates:
        if len(running) + len(chosen) >= jobs:
            break
        if not may_start(candidate):
            continue
        if any(conflicts(candidate, other) for other in running + chosen):
            continue
        chosen.append(candidate)
    return chosen


def closing(state: RunState) -> tuple[str, str | None] | None:
    """The run's closing status and its reason once nothing can run any more, else None.

    Ready steps that only the cost cap holds back pause the run for a human.
    """
    if any(step.status == "running" for step in state.steps.values()):
        return None
    held = policy.held_steps(state, ready_steps(state))
    status = final_status(state)
    if held and status in (None, "awaiting_human"):
        return "awaiting_human", policy.cost_cap_reason(state, held)
    if status is None:
        return None
    return status, None


def final_status(state: RunState) -> str | None:
    """The run's closing status once nothing can run any more, else None."""
    statuses = [step.status for step in state.steps.values()]
    if "running" in statuses or ready_steps(state):
        return None
    if "awaiting_human" in statuses or state.ask is not None:
        return "awaiting_human"
    if state.lifecycle and lifecycle.task_state(state.lifecycle) == lifecycle.FAILED:
        return "failed"  # a task's lifecycle failed it, whatever its steps say
    if any(not step.soft and not step.held and step.status in (*FAILED_STATUSES, "blocked")
           for step in state.steps.values()):
        return "failed"
    if all(satisfies(step) or step.held for step in state.steps.values()):
        return "completed"  # what the plan defers, and what needs it, are not failures
    return "awaiting_human"  # pending steps held back (e.g. by a cost cap)


def _dependents_closure(specs: list[dict], roots: list[str]) -> list[str]:
    """Every step that needs one of ``roots``, directly or not, in plan order."""
    children: dict[str, list[str]] = {}
    for spec in specs:
        for dep in spec["depends_on"]:
            children.setdefault(dep, []).append(spec["id"])
    found: set[str] = set()
    frontier = list(roots)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return [spec["id"] for spec in specs if spec["id"] in found and spec["id"] not in roots]


def awaits_answer(state: RunState, step) -> bool:
    """A step that failed with its work kept aside by a merge conflict while the question
    about it is open: the answer, not a resume, says whether it runs again."""
    return (state.ask is not None and state.ask["id"] == CONFLICT_ASK
            and step.status in FAILED_STATUSES and bool(step.history)
            and bool(step.history[-1].get("kept")))


def resume_changes(state: RunState, specs: list[dict]) -> dict:
    """The ``run_resumed`` payload: steps added, removed, changed, and those to run again.

    Completed steps are kept unless their phase changed or a phase they need (directly or
    not) changed: a changed phase makes its dependents run again. In-flight, failed,
    timed-out, blocked and held steps go again, except soft ones that are over (a
    workflow's dropped research topic, a test run the user chose to go on from) and those
    that wait for the answer to the run's open question.
    """
    now = {spec["id"]: spec for spec in specs}
    added = [spec for spec in specs if spec["id"] not in state.steps]
    removed = [step_id for step_id in state.steps if step_id not in now]
    changed = [step_id for step_id, step in state.steps.items()
               if step_id in now and (now[step_id]["phase_hash"] != step.phase_hash
                                      or now[step_id].get("preset") != step.preset)]
    stale = [step_id for step_id in _dependents_closure(specs, changed)
             if step_id in state.steps and state.steps[step_id].status in DONE_STATUSES]
    again = set(changed) | set(stale)
    updated = [now[step_id] for step_id in changed]
    reset = [step_id for step_id, step in state.steps.items()
             if step_id in now and (step_id in again or not satisfies(step))
             and not awaits_answer(state, step)]
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "stale": stale,
        "updated": updated,
        "reset": reset,
        "order": [spec["id"] for spec in specs],
        "skipped": [step_id for step_id, step in state.steps.items()
                    if step_id in now and step_id not in again and satisfies(step)],
        "retried": [step_id for step_id, step in state.steps.items()
                    if step_id in reset and step.status in FAILED_STATUSES],
        "pending": [step_id for step_id, step in state.steps.items()
                    if step_id in reset and step.status not in FAILED_STATUSES],
    }


class Frontier:
    """The ready and running steps of a run, kept up to date event by event.

    ``ready_steps`` and ``next_steps`` walk every step; a driver that decides after each
    event would make a run quadratic in its size. A Frontier costs O(steps) once, then
    O(dependents) per event. ``update`` must see every event right after it is applied.
    """

    __slots__ = ("_state", "_rank", "_dependents", "_waiting", "_ready", "running")

    def __init__(self, state: RunState, scheduler: Scheduler):
        self._rank = scheduler.priority
        self.rebuild(state)

    def rebuild(self, state: RunState) -> None:
        self._state = state
        self._dependents: dict[str, list[str]] = {step_id: [] for step_id in state.steps}
        self._waiting: dict[str, int] = {}
        self.running: set[str] = set()
        ready = []
        for step in state.steps.values():
            deps = {dep for dep in step.depends_on if dep in state.steps}
            for dep in deps:
                self._dependents[dep].append(step.id)
            self._waiting[step.id] = sum(not satisfies(state.steps[dep]) for dep in deps)
            if step.status == "running":
                self.running.add(step.id)
            elif step.status == "pending" and self._waiting[step.id] == 0:
                ready.append(step.id)
        self._ready = sorted(ready, key=self._key)

    def _key(self, step_id: str) -> tuple[int, str]:
        try:
            return self._rank(step_id), step_id
        except KeyError:  # a step the scheduler was not built with (added on resume)
            return 1 << 30, step_id

    def ready(self) -> list[str]:
        """Pending steps whose dependencies are done, most urgent first."""
        return list(self._ready)

    def _add_ready(self, step_id: str) -> None:
        key = self._key(step_id)
        index = bisect.bisect_left(self._ready, key, key=self._key)
        if index == len(self._ready) or self._ready[index] != step_id:
            self._ready.insert(index, step_id)

    def _drop_ready(self, step_id: str) -> None:
        index = bisect.bisect_left(self._ready, self._key(step_id), key=self._key)
        if index < len(self._ready) and self._ready[index] == step_id:
            del self._ready[index]

    def update(self, event: dict, state: RunState) -> None:
        """Account for ``event``, just applied to ``state``."""
        kind = event.get("type")
        if kind == "step_started":
            self._drop_ready(event["step"])
            self.running.add(event["step"])
        elif kind == "step_finished":
            step = state.steps[event["step"]]
            self.running.discard(step.id)
            if step.status == "pending":  # a retry
                if self._waiting.get(step.id, 0) == 0:
                    self._add_ready(step.id)
            elif step.status != "completed":  # a final failure: dependents were blocked
                self.rebuild(state)
            elif satisfies(step):
                for child in self._dependents.get(step.id, ()):
                    self._waiting[child] -= 1
                    if self._waiting[child] == 0 and state.steps[child].status == "pending":
                        self._add_ready(child)
        elif kind in ("run_started", "run_resumed", "run_interrupted", "steps_added",
                      "step_settled") \
                or state is not self._state:
            self.rebuild(state)
