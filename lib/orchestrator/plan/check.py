"""The `orchestrate plan ...` operations as one core function returning a result object."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.errors import Diagnostic, PlanError, PlanInvalid
from orchestrator.plan import load_plan
from orchestrator.plan.analysis import PlanAnalysis, analyze_plan
from orchestrator.plan.model import Plan

__all__ = ["PlanCheck", "check_plan"]


@dataclass(slots=True)
class PlanCheck:
    """A plan file after reading and validation: what it holds and what is wrong with it."""

    path: str
    plan: Plan | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    analysis: PlanAnalysis | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "error"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def require_valid(self) -> PlanCheck:
        """Raise PlanInvalid, carrying every diagnostic, unless the plan is valid."""
        if not self.valid:
            raise PlanInvalid(self.diagnostics, self.plan)
        return self

    def to_dict(self, schema: str) -> dict:
        plan = self.plan
        analysis = self.analysis
        return {
            "schema": schema,
            "plan": self.path,
            "valid": self.valid,
            "format": plan.format if plan else None,
            "title": plan.title if plan else None,
            "phases": [phase.to_dict() for phase in plan.phases] if plan else [],
            "deferred": [
                {"id": phase.id, "title": phase.title, "line": phase.line}
                for phase in plan.deferred
            ] if plan else [],
            "parallel_groups": [
                {"name": g.name, "phases": list(g.phase_ids), "line": g.line}
                for g in plan.parallel_groups
            ] if plan else [],
            "waves": analysis.waves if analysis else [],
            "critical_path": analysis.critical_path if analysis else [],
            "critical_path_length": analysis.critical_length if analysis else None,
            "metrics": analysis.metrics() if analysis else None,
            "errors": [d.to_dict() for d in self.errors],
            "warnings": [d.to_dict() for d in self.warnings],
        }


def check_plan(path: str, plan_format: str | None = None) -> PlanCheck:
    """Read and validate the plan at ``path``; a valid plan is also analysed."""
    try:
        plan, warnings = load_plan(path, plan_format)
    except PlanInvalid as invalid:
        return PlanCheck(path, invalid.plan, invalid.diagnostics)
    except PlanError as error:
        return PlanCheck(path, None, [error.diagnostic])
    return PlanCheck(path, plan, warnings, analyze_plan(plan))
