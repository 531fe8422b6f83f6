"""Preparing an agent attempt: its definition, its prompt (with what failed before), the
request to the backend, and the rules that keep agents apart and within budget.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.agents.backend import AgentRequest
from orchestrator.agents.definitions import find_agent
from orchestrator.config import Config
from orchestrator.engine.policy import budget_left
from orchestrator.engine.state import RunState, StepState
from orchestrator.plan.model import Phase
from orchestrator.render.prompts import AttemptFailure, PromptContext, render_prompt
from orchestrator.store import safefs
from orchestrator.store.error_reports import find_error_reports
from orchestrator.verify import contract

__all__ = ["prepare_agent", "check_descriptions", "failures_of"]


def check_descriptions(phase: Phase, config: Config) -> list[str]:
    """The prompt's Checks: the step's contract in words (verify/contract.py)."""
    return contract.describe(phase, config.blast_radius_command)


def failures_of(step: StepState) -> list[AttemptFailure]:
    """The failed attempts of this step since the run (or its latest resume) began."""
    failures = []
    for entry in step.history:
        if entry["attempt"] <= step.attempts_base or entry["outcome"] == "completed":
            continue
        details = entry.get("details") or {}
        failures.append(AttemptFailure(
            attempt=entry["attempt"] - step.attempts_base,
            reasons=[entry.get("error") or entry["outcome"]],
            missing_files=list(details.get("missing_files", [])),
            failed_command=details.get("failed_command"),
            output_tail=list(details.get("tail", [])),
        ))
    return failures


def prepare_agent(*, state: RunState, step: StepState, phase: Phase, root: Path,
                  config: Config, errors_dir: Path, prompt_path: Path, redactor,
                  home: Path | None = None):
    """Render the prompt to ``prompt_path``; return (AgentRequest, warning or None).
    ``root``: where the agent works; ``home``: the project, when that is a worktree."""
    fallback = "designer" if phase.type == "design" else "implementer"
    definition, warning = find_agent(phase.owner, root, fallback=fallback)
    attempt = step.attempts - step.attempts_base
    previous = find_error_reports(errors_dir, state.plan_path, step.id) if attempt == 1 else []
    context = PromptContext(
        phase=phase, plan_path=state.plan_path, project_root=root, attempt=attempt,
        max_attempts=step.max_attempts, failures=failures_of(step),
        previous_reports=previous, agent_name=definition.name,
        checks=check_descriptions(phase, config), home=home,
    )
    text = redactor.redact(render_prompt(context)).encode("utf-8")
    fd = safefs.open_for_write(prompt_path, create_dirs=True)  # never through a link
    try:
        safefs.write_all(fd, text)
    finally:
        os.close(fd)
    request = AgentRequest(
        prompt_file=str(prompt_path), agent_name=definition.name,
        system_prompt=definition.prompt or None,
        model=phase.model or config.model_for(phase.owner, definition.model),
        max_budget_usd=budget_left(state),
        allowed_tools=list(config.allowed_tools if config.allowed_tools is not None
                           else definition.tools),
        permission_mode=config.permission_mode, agent_source=definition.source,
        json_schema=contract.VERDICT_SCHEMA if phase.verdicts else None,
    )
    return request, warning
