"""A run's own copy of its plan (``plan.md``) and of its phases (``phases.json``).

The copy serves a resume after the plan file moved or vanished; the phases, as JSON, serve
the drivers that read them on every call without parsing Markdown again, and hold the
steps a workflow added as it grew.
"""

from __future__ import annotations

import json

from orchestrator.plan import parse_plan
from orchestrator.plan.model import Phase
from orchestrator.plan.source import read_plan_text
from orchestrator.store.snapshot import write_atomic

__all__ = ["PHASES", "PLAN_COPY", "load_phases", "save_phases", "add_phases"]

PLAN_COPY, PHASES = "plan.md", "phases.json"


def load_phases(store) -> dict[str, Phase]:
    """The phases of the plan as of the run's latest start or resume, without parsing
    Markdown again (the `wf` driver reads them on every call)."""
    path = store.run_dir / PHASES
    try:
        data = json.loads(path.read_bytes())
        return {raw["id"]: Phase.from_dict(raw) for raw in data["phases"]}
    except (OSError, ValueError, KeyError, TypeError):
        plan, _ = parse_plan(read_plan_text(str(store.run_dir / PLAN_COPY)),
                             str(store.run_dir / PLAN_COPY))
        return {phase.id: phase for phase in plan.phases}


def save_phases(store, phases: list[Phase], redactor) -> None:
    """Replace the run's phases file with ``phases`` (redacted), atomically."""
    data = json.dumps(redactor.redact_data({"phases": [phase.to_dict() for phase in phases]}),
                      separators=(",", ":"))
    write_atomic(store.run_dir / PHASES, data.encode("utf-8"))


def add_phases(recorder, store, phases: list[Phase], specs: list[dict]) -> None:
    """A run grows: keep the new ``phases`` with the run's others (so a resume and every
    `wf` call find them), then journal their steps (``specs``)."""
    known = load_phases(store)
    known.update({phase.id: phase for phase in phases})
    save_phases(store, list(known.values()), store.redactor)
    recorder.record("steps_added", steps=specs)
