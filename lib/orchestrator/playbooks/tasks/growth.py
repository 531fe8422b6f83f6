"""A task's run: its facts kept in the run's folder, its routing, and the steps it gains
as its steps finish and as a person answers.

``TaskGrowth`` is a recorder listener, so whichever driver moves the task's run (`orchestrate
tasks run`, or `wf` inside Claude Code) it moves the same way; what each finished step means
is decided in engine/lifecycle.py, and every change of state is journalled as a
``lifecycle`` event, checked against the transition table when it is folded.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from orchestrator.engine import lifecycle
from orchestrator.engine.routing import route
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import step_specs
from orchestrator.executors.isolation import CHECK, MERGE
from orchestrator.plan.model import Phase, Plan
from orchestrator.store.plan_copy import add_phases, load_phases
from orchestrator.store.snapshot import write_atomic
from orchestrator.verify.contract import read_verdict

__all__ = ["FORMAT", "TASK_FILE", "TaskGrowth", "begin_task", "load_task", "routes_for",
           "save_task", "specs_for", "task_plan", "wait_action", "next_task_command",
           "worktree_use"]

FORMAT = "tasks"  # the run's plan_format: its steps come from the task lifecycle
TASK_FILE = "task.json"
_TOLD = (lifecycle.PLAN_REJECTED, lifecycle.CHANGES_REQUESTED, lifecycle.AWAITING_HUMAN)


def save_task(run_dir: Path, task: lifecycle.Task) -> None:
    write_atomic(Path(run_dir) / TASK_FILE, json.dumps(task.to_dict()).encode())


def load_task(run_dir: Path | None) -> lifecycle.Task | None:
    if run_dir is None:
        return None
    try:
        return lifecycle.Task.from_dict(json.loads((Path(run_dir) / TASK_FILE).read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def routes_for(task: lifecycle.Task, config) -> list:
    """The model of each role for ``task``, with the reason, from the config's rules."""
    rules = config.routing_rules()
    default = config.routing_default or config.model
    return [route(rules, role, task.risk, task.area, default) for role in lifecycle.ROLES]


def task_plan(path: str, task: lifecycle.Task, config) -> tuple[Plan, list]:
    """The run's plan at its start: the first planning round. Returns (plan, routes)."""
    routes = routes_for(task, config)
    task.models = {r.role: {"model": r.model, "reason": r.reason} for r in routes if r.model}
    phases = lifecycle.initial(task).phases
    return Plan(path=path, format=FORMAT, title=task.goal, phases=phases), routes


def begin_task(recorder, task: lifecycle.Task, routes) -> None:
    """Journal the routing decisions and the task's first move, once its run has started."""
    with recorder.batch():
        for decision in routes:
            recorder.record("routed", step=decision.role, role=decision.role,
                            model=decision.model, reason=decision.reason)
        for subject, state, why in lifecycle.initial(task).states:
            recorder.record("lifecycle", subject=subject, state=state,
                            **({"reason": why} if why else {}))


def _file_and_id(state: RunState) -> tuple[str, str] | None:
    """A task run's task file and task id, from its plan path (``FILE#ID``)."""
    if state.plan_format != FORMAT or "#" not in state.plan_path:
        return None
    path, _, task_id = state.plan_path.rpartition("#")
    return path, task_id


def wait_action(state: RunState) -> dict | None:
    """A task waiting for a person, as a `wf` action of type ``wait``: the session tells
    the user and stops; the person answers from a shell."""
    found = _file_and_id(state)
    if found is None or state.ask is None or state.ask["id"] != lifecycle.HUMAN_ASK:
        return None
    path, task_id = found
    quoted = shlex.quote(task_id)
    return {"type": "wait", "id": lifecycle.HUMAN_ASK, "task": task_id,
            "question": state.ask["question"][:300],
            "message": f"Task {task_id} waits for a person's review: "
                       f"{state.ask['question'][:300]} Approve it with `orchestrate task "
                       f"{quoted} --approve`, or reject it with `orchestrate task {quoted} "
                       f"--reject --reason TEXT`, in a shell; then run /tasks "
                       f"{shlex.quote(path)} again to go on."}


def next_task_command(state: RunState) -> str | None:
    """For a task's run that is over: the `wf start` that takes up its file's next task."""
    found = _file_and_id(state)
    if found is None or state.status not in ("completed", "failed"):
        return None
    return f"orchestrate wf start --tasks {shlex.quote(found[0])} --json"


def specs_for(phases: list[Phase], config) -> list[dict]:
    """The step specs of a task's phases: a gate check's failure blocks nothing (the
    lifecycle decides what it means), and it runs once."""
    specs = step_specs(Plan("", FORMAT, None, phases), config.command_attempts,
                       config.agent_attempts, config.default_timeout_s)
    for spec in specs:
        if spec["id"].startswith("gate:"):
            spec["soft"] = True
            spec["max_attempts"] = 1
    return specs


def worktree_use(step_id: str) -> str | None:
    """How a task's step uses a worktree when its run is isolated: implementation and fix
    steps work in one of their own and are merged; the gate checks the merged work in one;
    planning and reviews work in the project, where their plans and verdicts are read."""
    kind = step_id.split(":", 1)[0]
    if kind in ("impl", "fix"):
        return MERGE
    return CHECK if kind == "gate" else None


class TaskGrowth:
    """A recorder listener: what a finished step or an answer does to the task."""

    def __init__(self, recorder, store, config, project_root: Path):
        self.recorder = recorder
        self.store = store
        self.config = config
        self.root = project_root

    def __call__(self, event: dict, state: RunState) -> None:
        if state.plan_format != FORMAT or event["type"] not in ("step_finished",
                                                                "ask_answered"):
            return
        task = load_task(self.store.run_dir)
        if task is None:
            return
        done = {subject for subject, value in lifecycle.step_states(state.lifecycle).items()
                if value == lifecycle.COMPLETED}
        if event["type"] == "ask_answered":
            if event["id"] != lifecycle.HUMAN_ASK:
                return
            decision = lifecycle.after_answer(task, event["choice"], event.get("text"),
                                              self._waiting(state), self._plan(task, state),
                                              done, list(state.steps))
        else:
            decision = self._finished(task, state.steps[event["step"]], state, done)
            if decision is None:
                return
        self._apply(decision)

    def _finished(self, task, step, state: RunState, done: set[str]):
        if step.status in ("pending", "running"):
            return None  # a retry: the step is not over
        step_id, failures = step.id, []
        if step_id.startswith("gate:"):
            round_ = step_id.split(":")[1]
            checks = [s for s in state.steps.values() if s.id.startswith(f"gate:{round_}:")]
            if any(s.status in ("pending", "running") for s in checks):
                return None  # the round's other checks are still to come
            failures = [f"{s.title.split(': ', 1)[-1]}: {s.error or s.status}"[:300]
                        for s in checks if s.status != "completed"]
            step_id = f"gate:{round_}"
            status = "completed"
        else:
            status = step.status
        verdict = None
        if step_id.startswith(("plan-review:", "code-review:")) and status == "completed":
            phase = load_phases(self.store).get(step.id)
            if phase is not None and phase.verdicts:
                verdict, _ = read_verdict(self.root / phase.verdicts[0])
        plan = self._plan(task, state, step_id if step_id.startswith("plan-review:") else None)
        change = step.history[-1].get("change") if step.history else None
        return lifecycle.after_finish(task, step_id, status, verdict, plan, done, failures,
                                      change)

    @staticmethod
    def _waiting(state: RunState) -> str:
        """Who waits for the person: a plan phase at its code review, else the task."""
        for subject, value in lifecycle.step_states(state.lifecycle).items():
            if value == lifecycle.AWAITING_HUMAN:
                return subject
        return "task"

    def _plan(self, task, state: RunState, review: str | None = None) -> Plan | None:
        """The task's plan: the one ``review`` judged, else the latest planning round's."""
        from orchestrator.errors import OrchestrateError
        from orchestrator.plan import load_plan

        if review is not None:
            round_ = int(review.split(":")[1])
        else:
            rounds = [int(s.split(":")[1]) for s in state.steps if s.startswith("plan:")]
            if not rounds:
                return None
            round_ = max(rounds)
        try:
            plan, _ = load_plan(str(self.root / lifecycle.plan_path(task, round_)),
                                "implementation-plan")
        except OrchestrateError:
            return None
        return plan

    def _apply(self, decision: lifecycle.Decision) -> None:
        with self.recorder.batch():
            for subject, value, why in decision.states:
                extra = {"reason": why} if why else {}
                if value in _TOLD and decision.concerns:
                    extra["concerns"] = decision.concerns
                self.recorder.record("lifecycle", subject=subject, state=value, **extra)
        if decision.phases:
            add_phases(self.recorder, self.store, decision.phases,
                       specs_for(decision.phases, self.config))
        if decision.ask is not None:
            ask = {key: decision.ask[key] for key in ("id", "question", "options")}
            self.recorder.record("ask_opened", **ask)
