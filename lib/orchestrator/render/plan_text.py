"""Plain-text renderings of a PlanCheck for people at a terminal."""

from __future__ import annotations

from orchestrator.plan.check import PlanCheck

__all__ = ["validate_text", "waves_text"]


def _amount(value: float, unit: str) -> str:
    if unit == "hours":
        return f"{value:g} h"
    return f"{value:g} phase" + ("" if value == 1 else "s")


def validate_text(check: PlanCheck) -> str:
    plan = check.plan
    analysis = check.analysis
    assert plan is not None and analysis is not None
    count = len(plan.phases)
    waves = len(analysis.waves)
    summary = (
        f"{check.path}: valid {plan.format}, {count} phase{'s' * (count != 1)} "
        f"in {waves} wave{'s' * (waves != 1)}"
    )
    if check.warnings:
        summary += f", {len(check.warnings)} warning{'s' * (len(check.warnings) != 1)}"
    return summary + "\n" + _deferred_text(plan)


def _deferred_text(plan) -> str:
    """One line naming the deferred phases, which the plan lists but never runs."""
    if not plan.deferred:
        return ""
    names = ", ".join(f"{phase.id} (line {phase.line})" for phase in plan.deferred)
    return f"Deferred, not run: {names}\n"


def waves_text(check: PlanCheck) -> str:
    plan = check.plan
    analysis = check.analysis
    assert plan is not None and analysis is not None
    titles = {phase.id: phase.title for phase in plan.phases}
    width = max((len(phase.id) for phase in plan.phases), default=1)
    out = [validate_text(check).rstrip("\n"), ""]
    for number, wave in enumerate(analysis.waves, 1):
        note = f" ({len(wave)} in parallel)" if len(wave) > 1 else ""
        out.append(f"Wave {number}{note}")
        for phase_id in wave:
            marker = "*" if phase_id in analysis.critical_path else " "
            out.append(f" {marker} {phase_id.ljust(width)}  {titles[phase_id]}".rstrip())
    metrics = analysis.metrics()
    unit = metrics["unit"]
    out.append("")
    out.append("Critical path (*): " + " -> ".join(analysis.critical_path))
    out.append(
        f"Estimated time: {_amount(metrics['parallel_time'], unit)} with parallel phases, "
        f"{_amount(metrics['sequential_time'], unit)} one after another "
        f"({metrics['time_savings_percentage']:g}% saved)"
    )
    return "\n".join(out) + "\n"
