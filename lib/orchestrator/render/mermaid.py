"""Mermaid diagrams of a plan."""

from __future__ import annotations

import re

from orchestrator.plan.model import Plan

__all__ = ["flowchart"]

_UNSAFE = re.compile(r'["<>`#;]')


def _node_name(phase_id: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", phase_id)


def _label(text: str) -> str:
    return _UNSAFE.sub("'", text).replace("[", "(").replace("]", ")")


def flowchart(plan: Plan, critical_path: list[str] | None = None) -> str:
    """A top-down flowchart: one node per phase, an arrow from each dependency.

    Phases on the critical path get the ``critical`` class.
    """
    lines = ["flowchart TD"]
    names = {}
    for phase in plan.phases:
        name = _node_name(phase.id)
        while name in names.values():
            name += "_"
        names[phase.id] = name
        title = f"{phase.id}: {phase.title}" if phase.title else phase.id
        lines.append(f'    {name}["{_label(title)}"]')
    for phase in plan.phases:
        for dep in phase.depends_on:
            if dep in names:
                lines.append(f"    {names[dep]} --> {names[phase.id]}")
    if critical_path:
        lines.append("    classDef critical stroke-width:3px,stroke:#d33")
        lines.append("    class " + ",".join(names[i] for i in critical_path) + " critical")
    return "\n".join(lines) + "\n"
