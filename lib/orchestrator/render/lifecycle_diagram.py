"""The task lifecycle as Mermaid state diagrams, drawn from engine/lifecycle.py's transition
tables themselves, so docs/tasks.md can never describe other states than the code has."""

from __future__ import annotations

from orchestrator.engine import lifecycle

__all__ = ["state_diagram", "diagrams"]


def state_diagram(table: dict[str, frozenset[str]], states: tuple[str, ...], start: str) -> str:
    """One ``stateDiagram-v2`` block: ``[*]`` to ``start``, every transition in the order of
    ``states``, and each final state to ``[*]``."""
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {start}"]
    order = {state: index for index, state in enumerate(states)}
    for before in states:
        for after in sorted(table[before], key=order.__getitem__):
            lines.append(f"    {before} --> {after}")
    lines += [f"    {state} --> [*]" for state in states if not table[state]]
    return "\n".join(lines + ["```"]) + "\n"


def diagrams() -> str:
    """The task's diagram, then an implementation step's."""
    return (state_diagram(lifecycle.TASK_TRANSITIONS, lifecycle.TASK_STATES, lifecycle.NEW)
            + "\n" + state_diagram(lifecycle.STEP_TRANSITIONS, lifecycle.STEP_STATES,
                                   lifecycle.PENDING))
