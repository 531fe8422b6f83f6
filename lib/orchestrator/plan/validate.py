"""Checks over a parsed plan: errors make it unusable, warnings point at weak spots."""

from __future__ import annotations

from orchestrator.errors import Diagnostic
from orchestrator.plan import graph
from orchestrator.plan.model import Plan

__all__ = ["validate_plan"]


def validate_plan(plan: Plan) -> list[Diagnostic]:
    """Every problem found in ``plan``, errors and warnings, in file order."""
    found: list[Diagnostic] = []
    path = plan.path

    def error(line: int, message: str) -> None:
        found.append(Diagnostic(path, line, message))

    def warn(line: int, message: str) -> None:
        found.append(Diagnostic(path, line, message, "warning"))

    if not plan.phases:
        deferred = ", ".join(phase.id for phase in plan.deferred)
        later = f"; deferred phases are not run: {deferred}" if deferred else ""
        error(1, "no phases found (expected headings such as '## Phase 1: Title' "
                 f"or '### BLOQUE 0: Title'){later}")
        return found

    first_line: dict[str, int] = {}
    for phase in plan.phases:
        if phase.id in first_line:
            error(phase.line, f"duplicate phase id {phase.id} "
                              f"(first defined at line {first_line[phase.id]})")
        else:
            first_line[phase.id] = phase.line

    deferred_line = {phase.id: phase.line for phase in reversed(plan.deferred)}
    for phase in plan.phases:
        line = phase.depends_line or phase.line
        for dep in phase.depends_on:
            if dep == phase.id:
                error(line, f"phase {phase.id} depends on itself")
            elif dep not in first_line and dep in deferred_line:
                then = (f"phase {phase.id} is marked complete, so it is skipped"
                        if phase.marked == "complete" else
                        f"phase {phase.id} is blocked by it and does not run (nor does what "
                        "needs it); the rest of the plan runs")
                warn(line, f"phase {phase.id} depends on phase {dep}, which is deferred "
                           f"(line {deferred_line[dep]}) and never runs: {then}")
            elif dep not in first_line:
                error(line, f"phase {phase.id} depends on unknown phase {dep}"
                            f"{_known_ids_hint(first_line)}")

    order = list(first_line)
    deps = plan.dependencies()
    lines = {phase.id: phase.depends_line or phase.line for phase in reversed(plan.phases)}
    for cycle in graph.find_cycles(order, deps):
        error(lines[cycle[0]], "cycle: " + " -> ".join(cycle))

    for group in plan.parallel_groups:
        _check_group(group, order, deps, error)

    for phase in plan.phases:
        outside = [name for name in phase.files
                   if name.startswith(("/", "~")) or ".." in name.replace("\\", "/").split("/")]
        if outside:
            warn(phase.line, f"phase {phase.id} names files outside the project "
                             f"({', '.join(outside)}); evidence there says little about "
                             "this project's work")
        if phase.marked == "complete":
            continue  # never run: what it would be checked by does not matter
        if phase.type == "design" and not phase.files:
            warn(phase.line, f"design phase {phase.id} names no Files: "
                             "there are no artifacts to check it by")
        elif phase.type == "implementation" and not (
            phase.verify or phase.run or phase.files or phase.blast_radius
        ):
            warn(phase.line, f"phase {phase.id} has nothing to verify (no Files, "
                             "Checkpoint/Verify, Run or Blast radius); only a change on disk "
                             "will count as evidence")

    found.sort(key=lambda d: d.line)
    return found


def _check_group(group, order, deps, error) -> None:
    known = set(order)
    for member in group.phase_ids:
        if member not in known:
            error(group.line, f"parallel group {group.name} names unknown phase {member}")
    members = [m for m in group.phase_ids if m in known]
    for index, first in enumerate(members):
        for second in members[index + 1:]:
            for later, earlier in ((first, second), (second, first)):
                if graph.reaches(order, deps, later, earlier):
                    error(group.line, f"parallel group {group.name}: phase {later} depends "
                                      f"on phase {earlier}, so they cannot run in parallel")


def _known_ids_hint(first_line: dict[str, int]) -> str:
    ids = list(first_line)
    if len(ids) > 12:
        return ""
    return " (known: " + ", ".join(ids) + ")"
