"""The `wf` driver's side of isolation (``isolate: true``): each action of an isolated run
works in its step's git worktree, handed out with the action and judged there, and merged
into the run's integration branch once its report or exec says it completed. Each call is
a process of its own, so everything is found again from the run (executors/isolation.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from orchestrator.engine.outcome import Outcome

__all__ = ["isolation_of", "workspaces", "project_for", "settle", "closing"]


def isolation_of(call):
    """The run's worktrees; between steps (none in flight) the user's HEAD is taken again,
    so a commit made between two sessions is not held against the next step."""
    from orchestrator.session.runs import open_isolation

    idle = not any(step.status == "running" for step in call.state.steps.values())
    return open_isolation(call.project.root, call.state, call.store.run_dir, take_head=idle)


def workspaces(call, step_ids: list[str]) -> dict[str, Path]:
    """Where each step about to be handed out works: its new worktree, or the project."""
    isolation = isolation_of(call)
    if isolation is None:
        return dict.fromkeys(step_ids, call.project.root)
    return {step_id: isolation.enter(step_id) for step_id in step_ids}


def project_for(call, step_id: str):
    """The project as the step's checks see it: rooted at the step's worktree if any."""
    isolation = isolation_of(call)
    path = isolation.path_of(step_id) if isolation is not None else None
    return call.project if path is None else dataclasses.replace(call.project, root=path)


def settle(call, step_id: str, outcome: Outcome) -> Outcome:
    """Merge a completed step (or drop a failed attempt's worktree); what was merged and
    credited is journalled as a note, as the headless driver does."""
    isolation = isolation_of(call)
    if isolation is None:
        return outcome
    settled = isolation.leave(step_id, outcome)
    if settled.note:
        call.recorder.record("note", text=settled.note)
    if settled.ask is not None and call.state.ask is None:
        call.recorder.record("ask_opened", **settled.ask)
    return settled.outcome


def closing(call, status: str):
    """Close the run's worktrees (executors/isolation Closed), or None when not isolated."""
    isolation = isolation_of(call)
    return None if isolation is None else isolation.close(status)
