"""What a valid plan implies: durations, waves, the critical path and time estimates."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.plan import graph
from orchestrator.plan.model import Plan

__all__ = ["PlanAnalysis", "analyze_plan", "phase_durations"]


@dataclass(slots=True)
class PlanAnalysis:
    waves: list[list[str]]
    critical_path: list[str]
    critical_length: float  # hours, or phases when the plan gives no estimates
    durations: dict[str, float]
    estimated: bool  # True when the durations come from the plan's estimates

    @property
    def total_work(self) -> float:
        return sum(self.durations.values())

    def metrics(self) -> dict:
        """Figures for people: sequential vs parallel time and the saving between them."""
        total = self.total_work
        saving = 0.0 if total == 0 else round(100 * (1 - self.critical_length / total), 1)
        return {
            "phases": len(self.durations),
            "waves": len(self.waves),
            "max_parallelism": max((len(wave) for wave in self.waves), default=0),
            "unit": "hours" if self.estimated else "phases",
            "sequential_time": round(total, 4),
            "parallel_time": round(self.critical_length, 4),
            "time_savings_percentage": saving,
        }


def phase_durations(plan: Plan) -> tuple[dict[str, float], bool]:
    """Each phase's estimated hours; one unit each when the plan estimates nothing.

    A phase without an estimate in a plan that has some gets the mean of the others.
    """
    known = [p.estimated_hours for p in plan.phases if p.estimated_hours is not None]
    if not known:
        return {phase.id: 1.0 for phase in plan.phases}, False
    fallback = sum(known) / len(known)
    return {
        phase.id: phase.estimated_hours if phase.estimated_hours is not None else fallback
        for phase in plan.phases
    }, True


def analyze_plan(plan: Plan) -> PlanAnalysis:
    """Waves and critical path of a validated plan."""
    order = plan.ids
    deps = plan.dependencies()
    durations, estimated = phase_durations(plan)
    path, length = graph.critical_path(order, deps, durations)
    return PlanAnalysis(graph.waves(order, deps), path, length, durations, estimated)
