"""From plan phases to step specs: what the engine records about each phase at run start."""

from __future__ import annotations

import json

from orchestrator.plan.model import Phase, Plan

__all__ = ["phase_hash", "step_spec", "step_specs", "plan_hash"]


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


def step_spec(phase: Phase, command_attempts: int, agent_attempts: int,
              default_timeout_s: int | None) -> dict:
    has_run = bool(phase.run) or any(script.field == "run" for script in phase.scripts)
    kind = "command" if has_run else "agent"
    return {
        "id": phase.id,
        "title": phase.title,
        "depends_on": list(phase.depends_on),
        "kind": kind,
        "phase_hash": phase_hash(phase),
        "max_attempts": command_attempts if kind == "command" else agent_attempts,
        "timeout_s": phase.timeout_s or default_timeout_s,
        "files": list(phase.files),
        "owner": phase.owner,
        "type": phase.type,
    }


def step_specs(plan: Plan, command_attempts: int = 1, agent_attempts: int = 3,
               default_timeout_s: int | None = None) -> list[dict]:
    return [step_spec(phase, command_attempts, agent_attempts, default_timeout_s)
            for phase in plan.phases]
