"""Plans: the model, the readers of the native formats and of other tools' (spec-kit,
superpowers), their shared section finder and field reader, validation, the dependency
graph and its analysis. ``parse_plan`` and ``load_plan`` are the way in. The lowest layer
above the base modules: it imports nothing else of the package, and every other layer may
import it.
"""

from __future__ import annotations

from orchestrator.errors import Diagnostic, PlanInvalid
from orchestrator.plan.model import FORMATS, PHASE_TYPES, ParallelGroup, Phase, Plan, Script

# The readers (and markdown-it) load on the first parse: importing the model, as every
# `wf` call does, must not pay for them.

__all__ = [
    "FORMATS",
    "PHASE_TYPES",
    "ParallelGroup",
    "Phase",
    "Plan",
    "Script",
    "load_plan",
    "parse_plan",
]


def parse_plan(text: str, path: str, plan_format: str | None = None):
    """Parse and validate plan text: (Plan, warnings), or raise PlanInvalid with every error."""
    from orchestrator.plan.readers import parse_plan_text
    from orchestrator.plan.validate import validate_plan

    plan, diagnostics = parse_plan_text(text, path, plan_format)
    diagnostics = sorted(diagnostics + validate_plan(plan), key=lambda d: d.line)
    errors = [d for d in diagnostics if d.severity == "error"]
    warnings = [d for d in diagnostics if d.severity != "error"]
    if errors:
        raise PlanInvalid(errors + warnings, plan)
    return plan, warnings


def load_plan(path: str, plan_format: str | None = None) -> tuple[Plan, list[Diagnostic]]:
    """Read, parse and validate the plan file at ``path``."""
    from orchestrator.plan.source import read_plan_text

    return parse_plan(read_plan_text(path), path, plan_format)
