"""The rules that hold a step back, over the run's state alone, so that every driver asks
the same question and gets the same answer: the cost cap and agents' overlapping files.
"""

from __future__ import annotations

from orchestrator.engine.state import RunState

__all__ = ["files_overlap", "budget_left", "may_start", "conflicts", "held_steps",
           "cost_cap_reason"]


def _norm(path: str) -> str:
    return path.strip().strip("/").removeprefix("./")


def files_overlap(first: list[str], second: list[str]) -> bool:
    """Two file lists overlap when a path equals, or lies inside, a path of the other."""
    for a in map(_norm, first):
        for b in map(_norm, second):
            if a == b or a.startswith(b + "/") or b.startswith(a + "/"):
                return True
    return False


def budget_left(state: RunState) -> float | None:
    """What the run may still spend on agents; None without a cap."""
    if state.max_cost_usd is None:
        return None
    return max(0.0, state.max_cost_usd - state.cost_usd)


def may_start(state: RunState, step_id: str) -> bool:
    """Agent steps start only while the run is under its cost cap."""
    step = state.steps[step_id]
    if step.kind != "agent" or state.max_cost_usd is None:
        return True
    return state.cost_usd < state.max_cost_usd


def conflicts(state: RunState, first: str, second: str) -> bool:
    """Two agent steps whose Files overlap never run at the same time."""
    a, b = state.steps[first], state.steps[second]
    if a.kind != "agent" or b.kind != "agent":
        return False
    return files_overlap(a.files, b.files)


def held_steps(state: RunState, ready: list[str]) -> list[str]:
    """The ready steps the cost cap holds back."""
    return [step_id for step_id in ready if not may_start(state, step_id)]


def cost_cap_reason(state: RunState, held: list[str]) -> str:
    return (f"cost cap reached: spent ${state.cost_usd:.2f} of ${state.max_cost_usd:.2f}; "
            f"agent steps not started: {', '.join(held)}. Resume with a higher cap: "
            f"orchestrate run --resume {state.name} --max-cost USD")
