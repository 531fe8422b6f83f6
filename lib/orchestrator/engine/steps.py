"""From plan phases to step specs: what the engine records about each phase at run start."""

from __future__ import annotations

import json

from orchestrator.plan.model import Phase, Plan

__all__ = ["phase_hash", "step_spec", "step_specs", "plan_hash", "plan_presets"]


def phase_hash(phase: Phase) -> str:
    """A digest of what a phase asks for; its line number is not part of it."""
    import hashlib

    data = phase.hash_data()
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def plan_hash(plan: Plan) -> str:
    import hashlib

    joined = "".join(phase_hash(phase) for phase in plan.phases)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def plan_presets(plan: Plan) -> dict[str, dict]:
    """What a plan's own markers settle before anything runs, by phase id.

    A phase marked complete is ``skipped``, whatever it depends on. A pending phase that
    depends on a deferred phase is ``blocked`` by it (``held``: nothing failed), and so is
    every pending phase that needs it, directly or not; the rest of the plan runs.
    """
    deferred_line = {phase.id: phase.line for phase in reversed(plan.deferred)}
    deps = plan.dependencies()
    presets: dict[str, dict] = {}
    for phase in plan.phases:
        if phase.marked == "complete":
            presets[phase.id] = {"status": "skipped",
                                 "reason": f"marked complete in the plan (line {phase.line})"}
        elif plan.waits_for(phase):
            named = ", ".join(f"phase {dep} (line {deferred_line[dep]})"
                              for dep in plan.waits_for(phase))
            presets[phase.id] = {"status": "blocked", "held": True,
                                 "reason": f"needs {named}, which the plan defers"}
    changed = True
    while changed:  # the phases that need a held one, in any order the plan wrote them
        changed = False
        for phase in plan.phases:
            held = [dep for dep in deps[phase.id]
                    if presets.get(dep, {}).get("status") == "blocked"]
            if phase.id not in presets and held:
                presets[phase.id] = {"status": "blocked", "held": True,
                                     "reason": f"needs phase {held[0]}, which waits for a "
                                               "phase the plan defers"}
                changed = True
    return presets


def step_spec(phase: Phase, command_attempts: int, agent_attempts: int,
              default_timeout_s: int | None, depends_on: list[str] | None = None,
              preset: dict | None = None) -> dict:
    """What the engine records of a phase at run start (``depends_on``: the dependencies
    that run, when the plan defers some; ``preset``: see ``plan_presets``)."""
    has_run = bool(phase.run) or any(script.field == "run" for script in phase.scripts)
    kind = "command" if has_run else "agent"
    spec = {
        "id": phase.id,
        "title": phase.title,
        "depends_on": list(phase.depends_on if depends_on is None else depends_on),
        "kind": kind,
        "phase_hash": phase_hash(phase),
        "max_attempts": command_attempts if kind == "command" else agent_attempts,
        "timeout_s": phase.timeout_s or default_timeout_s,
        "files": list(phase.files),
        "owner": phase.owner,
        "type": phase.type,
    }
    if preset:
        spec["preset"] = dict(preset)
    return spec


def step_specs(plan: Plan, command_attempts: int = 1, agent_attempts: int = 3,
               default_timeout_s: int | None = None) -> list[dict]:
    deps = plan.dependencies()
    presets = plan_presets(plan)
    return [step_spec(phase, command_attempts, agent_attempts, default_timeout_s,
                      depends_on=deps[phase.id], preset=presets.get(phase.id))
            for phase in plan.phases]
