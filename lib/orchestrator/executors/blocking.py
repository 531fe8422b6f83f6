"""One attempt run to its end in this process, as the `wf` driver's calls need: `wf exec`
runs a command step, and `wf report` runs the checks of an agent's attempt after the agent
(which Claude Code ran) is done. The headless runner drives the same executions itself,
several at once, instead."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from orchestrator.engine.outcome import Outcome
from orchestrator.engine.state import RunState, StepState
from orchestrator.executors import procs
from orchestrator.executors.agent import checks_phase, tree_verdict
from orchestrator.executors.command import StepExecution, run_to_end
from orchestrator.verify import checks
from orchestrator.verify.snapshot import Snapshot
from orchestrator.verify.verdict import verdict

__all__ = ["judge_agent_attempt", "run_command_attempt"]


def judge_agent_attempt(phase, project, config, redactor, before_path: Path, exclude, others,
                        log_path: Path, state: RunState, step: StepState,
                        attempt: int, project_root: Path | None = None) -> Outcome:
    """The verdict on an agent's attempt, from the tree before and now and its checks
    (``project_root``: as for run_command_attempt)."""
    try:
        before = Snapshot.from_dict(json.loads(before_path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        before = None  # lost with a crash before it was written: judged on the checks
    early = tree_verdict(phase, project.root, before, exclude, others)
    if early is not None:
        return early
    if not checks.check_commands(phase, config.blast_radius_command):
        from orchestrator.verify import contract

        results = contract.file_checks(phase, project.root)
        results += checks.dependency_checks(phase, project.root)  # nothing to run
        return verdict(phase_type=phase.type, changes=None, results=results)
    return run_command_attempt(checks_phase(phase), project, config, redactor, log_path,
                               state, step, attempt, timeout_s=None, project_root=project_root)


def run_command_attempt(phase, project, config, redactor, log_path: Path, state: RunState,
                        step: StepState, attempt: int, timeout_s: int | None,
                        project_root: Path | None = None) -> Outcome:
    """Run ``phase``'s commands and checks as attempt ``attempt`` of ``step``, to the end, in
    ``project.root`` (the step's worktree, if it has one); ``project_root``: the project
    itself, when that differs (the commands know it as ORCHESTRATE_PROJECT_ROOT)."""
    procs.become_subreaper()  # a step's setsid children come back here to be killed
    watchdog = procs.Watchdog()
    try:
        env = dict(os.environ, ORCHESTRATE_RUN=state.name, ORCHESTRATE_STEP=step.id,
                   ORCHESTRATE_ATTEMPT=str(attempt),
                   ORCHESTRATE_PROJECT_ROOT=str(project_root or project.root))
        env[procs.TOKEN_ENV] = watchdog.step_token(step.id, attempt)
        execution = StepExecution(
            phase=phase, attempt=attempt, root=project.root, env=env, log_path=log_path,
            redactor=redactor, timeout_s=timeout_s,
            blast_radius_command=config.blast_radius_command, watchdog=watchdog,
            now=time.monotonic())
        return run_to_end(execution)
    finally:
        watchdog.close()
