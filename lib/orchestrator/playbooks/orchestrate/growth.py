"""An `/orchestrate` run's growth: its facts kept in the run's folder, and the steps it
gains as steps finish.

The run is an ordinary run of the engine whose steps come from
engine/workflow.py instead of a plan file; ``WorkflowGrowth`` is a recorder
listener, so whichever driver moves the run (`wf`, or `orchestrate run --resume`) it grows
the same way: the plan's phases once the plan validates, a debug round when the tests
fail, the docs and summary once they pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.engine import workflow
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import step_specs
from orchestrator.executors.isolation import CHECK, MERGE
from orchestrator.plan.model import Phase, Plan
from orchestrator.store import plan_copy
from orchestrator.store.snapshot import write_atomic

__all__ = ["WORKFLOW_FILE", "FORMAT", "load_workflow", "save_workflow", "workflow_plan",
           "specs_for", "add_phases", "worktree_use", "WorkflowGrowth"]

WORKFLOW_FILE = "workflow.json"
FORMAT = "workflow"  # the run's plan_format: its steps come from a workflow, not a plan file


def save_workflow(run_dir: Path, wf: workflow.Workflow) -> None:
    write_atomic(Path(run_dir) / WORKFLOW_FILE,
                 json.dumps(wf.to_dict(), separators=(",", ":")).encode())


def load_workflow(run_dir: Path) -> workflow.Workflow | None:
    try:
        return workflow.Workflow.from_dict(json.loads((Path(run_dir) / WORKFLOW_FILE).read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def workflow_plan(path: str, wf: workflow.Workflow, phases: list[Phase]) -> Plan:
    return Plan(path=path, format=FORMAT, title=wf.description, phases=phases)


def specs_for(phases: list[Phase], config) -> list[dict]:
    specs = step_specs(Plan("", FORMAT, None, phases), config.command_attempts,
                       config.agent_attempts, config.default_timeout_s)
    for spec in specs:
        spec["soft"] = workflow.is_soft(spec["id"])
    return specs


def add_phases(recorder, store, config, phases: list[Phase]) -> None:
    """Keep the new phases with the run's others, then journal their steps."""
    plan_copy.add_phases(recorder, store, phases, specs_for(phases, config))


def worktree_use(step_id: str) -> str | None:
    """How a workflow's step uses a worktree when its run is isolated: the plan's phases,
    the debug fixes and the docs change code in one of their own and are merged; the tests
    check the merged code in one; research, planning, debug analysis, a revision of the
    plan, the summary and the PR work in the project, where the topic's files under specs/
    are read and written."""
    kind = step_id.split(":", 1)[0]
    if kind in ("phase", "fix", "docs"):
        return MERGE
    return CHECK if kind == "tests" else None


class WorkflowGrowth:
    """A recorder listener: the steps a finished step or an answer adds to the run."""

    def __init__(self, recorder, store, config, project_root: Path):
        self.recorder = recorder
        self.store = store
        self.config = config
        self.root = project_root

    def __call__(self, event: dict, state: RunState) -> None:
        if state.plan_format != FORMAT:
            return
        wf = load_workflow(self.store.run_dir)
        if wf is None:
            return
        if event["type"] == "step_finished":
            step = state.steps[event["step"]]
            if step.status in ("pending", "running"):
                return  # a retry: the step is not over
            plan = self._plan(wf) if step.id == "plan" else None
            phases, ask = workflow.after_finish(wf, step.id, step.status, plan,
                                                set(state.steps))
        elif event["type"] == "ask_answered":
            phases = workflow.answer_ask(wf, event["id"], event["choice"], event.get("text"),
                                         list(state.steps))
            ask = None
        else:
            return
        if phases:
            add_phases(self.recorder, self.store, self.config, phases)
        if ask is not None:
            self.recorder.record("ask_opened", **ask)

    def _plan(self, wf: workflow.Workflow) -> Plan | None:
        from orchestrator.errors import OrchestrateError
        from orchestrator.plan import load_plan

        try:
            plan, _ = load_plan(str(self.root / wf.plan_path), "implementation-plan")
        except OrchestrateError:
            return None
        return plan
