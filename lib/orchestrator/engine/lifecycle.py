"""The task lifecycle: one transition table, and the steps each state change adds to a run.

A task (from tasks.yaml) runs as a run of its own whose steps the engine writes as the task
moves: a planner writes a plan, a plan-reviewer judges it, each of the plan's phases is
implemented and then judged by a code-reviewer, and the quality gate runs the project's
checks. A reviewer's verdict is data (a JSON file, checked by the contract); a rejection
is retried with its concerns in the next prompt, and the third waits for a person. A gate
that fails is retried with its failures in a fix step, and the third failure fails the
task.

The task's state is a fold of ``lifecycle`` events in the run's journal (engine/state.py
applies them through ``check``): an illegal transition is a bug, and raises. Pure: the
playbook (playbooks/tasks/) journals what the functions here return.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field

from orchestrator.plan.model import Phase, Plan, Script

__all__ = [
    "TASK_STATES", "STEP_STATES", "TASK_TRANSITIONS", "STEP_TRANSITIONS", "IllegalTransition",
    "check", "Task", "Decision", "MAX_REVIEWS", "MAX_GATES", "HUMAN_ASK", "ROLES", "AGENT_OF",
    "ROLE_OF",
    "initial", "after_finish", "after_answer", "task_state", "step_states",
]

NEW, PLANNING, PLAN_REVIEW = "NEW", "PLANNING", "PLAN_REVIEW"
PLAN_APPROVED, PLAN_REJECTED = "PLAN_APPROVED", "PLAN_REJECTED"
IMPLEMENTING, CODE_REVIEW, QUALITY_GATE = "IMPLEMENTING", "CODE_REVIEW", "QUALITY_GATE"
DONE, FAILED, AWAITING_HUMAN = "DONE", "FAILED", "AWAITING_HUMAN"
TASK_STATES = (NEW, PLANNING, PLAN_REVIEW, PLAN_APPROVED, PLAN_REJECTED, IMPLEMENTING,
               CODE_REVIEW, QUALITY_GATE, DONE, FAILED, AWAITING_HUMAN)

# state -> the states it may move to; DONE and FAILED are final.
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({PLANNING, FAILED}),
    PLANNING: frozenset({PLAN_REVIEW, FAILED}),
    PLAN_REVIEW: frozenset({PLAN_APPROVED, PLAN_REJECTED, FAILED}),
    PLAN_REJECTED: frozenset({PLANNING, AWAITING_HUMAN}),
    PLAN_APPROVED: frozenset({IMPLEMENTING, QUALITY_GATE}),  # a plan of no phases: the gate
    IMPLEMENTING: frozenset({CODE_REVIEW, QUALITY_GATE, FAILED}),  # QUALITY_GATE: after a fix
    CODE_REVIEW: frozenset({IMPLEMENTING, QUALITY_GATE, AWAITING_HUMAN, FAILED}),
    QUALITY_GATE: frozenset({DONE, IMPLEMENTING, FAILED}),
    AWAITING_HUMAN: frozenset({PLAN_APPROVED, IMPLEMENTING, QUALITY_GATE, FAILED}),
    DONE: frozenset(),
    FAILED: frozenset(),
}

PENDING, CHANGES_REQUESTED, COMPLETED, BLOCKED = "PENDING", "CHANGES_REQUESTED", "COMPLETED", \
    "BLOCKED"
STEP_STATES = (PENDING, IMPLEMENTING, CODE_REVIEW, CHANGES_REQUESTED, AWAITING_HUMAN,
               COMPLETED, FAILED, BLOCKED)
STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({IMPLEMENTING, BLOCKED}),
    IMPLEMENTING: frozenset({CODE_REVIEW, FAILED}),
    CODE_REVIEW: frozenset({COMPLETED, CHANGES_REQUESTED, AWAITING_HUMAN, FAILED}),
    CHANGES_REQUESTED: frozenset({IMPLEMENTING}),
    AWAITING_HUMAN: frozenset({COMPLETED, FAILED}),
    COMPLETED: frozenset(),
    FAILED: frozenset(),
    BLOCKED: frozenset(),
}

MAX_REVIEWS = 3  # rejections of one plan or one step before a person decides
MAX_GATES = 3  # gate runs before the task fails
HUMAN_ASK = "human-review"
ROLES = ("planner", "plan-reviewer", "implementer", "code-reviewer")
# the agent definition doing each role's work (agents/definitions/), and back
AGENT_OF = {"planner": "plan-architect", "plan-reviewer": "plan-reviewer",
            "implementer": "implementer", "code-reviewer": "code-reviewer"}
ROLE_OF = {agent: role for role, agent in AGENT_OF.items()}
class IllegalTransition(ValueError):
    """A move the lifecycle does not allow: a bug in whoever asked for it."""


def check(table: dict[str, frozenset[str]], before: str, after: str, subject: str) -> None:
    """Raise IllegalTransition unless ``table`` allows ``before`` -> ``after``."""
    for name in (before, after):
        if name not in table:
            raise IllegalTransition(f"{subject}: unknown state {name!r}")
    if after not in table[before]:
        allowed = ", ".join(sorted(table[before])) or "none: it is final"
        raise IllegalTransition(f"{subject}: {before} -> {after} is not a transition of the "
                                f"lifecycle (from {before}: {allowed})")


@dataclass(slots=True)
class Task:
    """One entry of tasks.yaml, as its run keeps it."""

    id: str
    goal: str
    risk: str = "medium"  # low, medium or high
    area: str = "general"
    plan: str | None = None  # an existing plan file the planner starts from
    acceptance: list[str] = field(default_factory=list)
    line: int = 0  # where it is in tasks.yaml
    folder: str = ""  # relative to the project root: specs/tasks/<id>
    gate: list[str] = field(default_factory=list)  # the quality gate's commands
    models: dict[str, dict] = field(default_factory=dict)  # role -> {"model", "reason"}
    cli: str = "orchestrate"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Task:
        return cls(**{name: data[name] for name in cls.__slots__ if name in data})


@dataclass(slots=True)
class Decision:
    """What a finished step or an answer does to the task: its new states, in order (task
    states, and (step, state) pairs for implementation steps), the phases it adds, and a
    question for a person."""

    states: list[tuple[str, str, str | None]] = field(default_factory=list)  # (subject, state, why)
    phases: list[Phase] = field(default_factory=list)
    ask: dict | None = None
    concerns: list[str] = field(default_factory=list)


def _model(task: Task, role: str) -> str | None:
    return (task.models.get(role) or {}).get("model")


def _verdict_path(task: Task, name: str) -> str:
    return f"{task.folder}/reviews/{name}.json"


def plan_path(task: Task, round_: int) -> str:
    return f"{task.folder}/plan-{round_}.md"


def _concern_tasks(concerns: list[str], what: str) -> list[str]:
    return [f"The {what} was rejected; address each concern: {concern}" for concern in concerns]


def planning_phase(task: Task, round_: int, concerns: list[str]) -> Phase:
    path = plan_path(task, round_)
    tasks = ["Write the plan in the implementation-plan format: `### Phase N: Title` sections "
             "with Objective, Tasks, `dependencies: [..]` and Files lines",
             "Keep it to what the goal needs"]
    if task.plan:
        tasks.insert(0, f"Start from the existing plan {task.plan}")
    tasks += [f"Acceptance: {line}" for line in task.acceptance]
    return Phase(
        id=f"plan:{round_}", title=f"Plan {task.id} (round {round_})", line=0,
        owner=AGENT_OF["planner"], type="design", depends_on=[f"plan-review:{round_ - 1}"]
        if round_ > 1 else [], depends_stated=True, files=[path],
        scripts=[Script("verify", f"{task.cli} plan validate --format implementation-plan "
                                  f"{shlex.quote(path)}\n", 0)],
        objective=f"A plan for task {task.id}: {task.goal}",
        tasks=tasks + _concern_tasks(concerns, "previous plan"), model=_model(task, "planner"))


def plan_review_phase(task: Task, round_: int) -> Phase:
    verdict = _verdict_path(task, f"plan-{round_}")
    return Phase(
        id=f"plan-review:{round_}", title=f"Review the plan of {task.id} (round {round_})",
        line=0, owner="plan-reviewer", type="design", depends_on=[f"plan:{round_}"],
        depends_stated=True, files=[verdict], verdicts=[verdict],
        objective=f"Judge {plan_path(task, round_)} against the goal: {task.goal}",
        tasks=[f"Read {plan_path(task, round_)}",
               f"Write your verdict to {verdict}: approved, or rejected with its concerns"],
        model=_model(task, "plan-reviewer"))


def implementation_phase(task: Task, phase: Phase, round_: int, concerns: list[str],
                         after: str) -> Phase:
    return Phase(
        id=f"impl:{phase.id}:{round_}", title=f"{phase.title} (round {round_})",
        line=phase.line, owner="implementer", type=phase.type, depends_on=[after],
        depends_stated=True, files=list(phase.files), verify=list(phase.verify),
        scripts=[s for s in phase.scripts if s.field == "verify"],
        acceptance=list(phase.acceptance), objective=phase.objective,
        tasks=list(phase.tasks) + _concern_tasks(concerns, "previous attempt"),
        dependencies_to_add=list(phase.dependencies_to_add), model=_model(task, "implementer"))


def code_review_phase(task: Task, phase_id: str, round_: int,
                      change: str | None = None) -> Phase:
    """The review of what ``impl:<phase_id>:<round_>`` did. ``change``: the git range of
    exactly that step's work (``BASE..COMMIT``), known when it ran in a worktree of its
    own; else the reviewer reads the working tree's diff."""
    verdict = _verdict_path(task, f"code-{phase_id}-{round_}")
    if change:
        tip = change.rpartition("..")[2]
        read = [f"Review exactly the change the phase made, and nothing else: "
                f"`git diff {change}` (a file as the phase left it: `git show {tip}:PATH`)"]
    else:
        read = ["Read the change (`git diff`) the phase made"]
    return Phase(
        id=f"code-review:{phase_id}:{round_}", title=f"Review phase {phase_id} "
        f"(round {round_})", line=0, owner="code-reviewer", type="design",
        depends_on=[f"impl:{phase_id}:{round_}"], depends_stated=True, files=[verdict],
        verdicts=[verdict], objective=f"Judge the change of phase {phase_id} of {task.id}",
        tasks=read + [f"Write your verdict to {verdict}: approved, or rejected with its "
                      f"concerns"],
        model=_model(task, "code-reviewer"))


def gate_phases(task: Task, round_: int, after: str) -> list[Phase]:
    """One command step per check, so each check's result is recorded on its own."""
    return [Phase(id=f"gate:{round_}:{index}", title=f"Quality gate {round_}: {command}",
                  line=0, depends_on=[after] if after else [], depends_stated=True,
                  scripts=[Script("run", command + "\n", 0)])
            for index, command in enumerate(task.gate or ["true"], 1)]


def fix_phase(task: Task, round_: int, failures: list[str], after: str) -> Phase:
    return Phase(
        id=f"fix:{round_}", title=f"Fix what quality gate {round_} found", line=0,
        owner="implementer", type="implementation", depends_on=[after], depends_stated=True,
        objective=f"Make the quality gate of {task.id} pass",
        tasks=[f"The gate failed: {failure}" for failure in failures] or ["The gate failed"],
        model=_model(task, "implementer"))


def initial(task: Task) -> Decision:
    """A new task: its first planning round."""
    return Decision(states=[("task", PLANNING, None)], phases=[planning_phase(task, 1, []),
                                                               plan_review_phase(task, 1)])


def _next_phase(order: list[str], done: set[str]) -> str | None:
    return next((phase_id for phase_id in order if phase_id not in done), None)


def _start_phase(task: Task, plan: Plan, done: set[str], after: str) -> Decision:
    """The next of the plan's phases to implement, or the gate once none is left."""
    order = [phase.id for phase in plan.phases]
    phases = {phase.id: phase for phase in plan.phases}
    upcoming = _next_phase(order, done)
    if upcoming is None:
        return Decision(states=[("task", QUALITY_GATE, None)], phases=gate_phases(task, 1, after))
    return Decision(states=[("task", IMPLEMENTING, None), (upcoming, IMPLEMENTING, None)],
                    phases=[implementation_phase(task, phases[upcoming], 1, [], after)])


def _human(subject: str, what: str, concerns: list[str]) -> dict:
    shown = "; ".join(concerns) or "no concerns given"
    return {"id": HUMAN_ASK,
            "question": f"The {what} was rejected {MAX_REVIEWS} times ({shown}). Approve it "
                        f"and go on, or reject the task?",
            "options": [{"id": "approve", "label": "Approve and continue"},
                        {"id": "reject", "label": "Reject: the task fails"}],
            "subject": subject}


def after_finish(task: Task, step_id: str, status: str, verdict: dict | None,
                 plan: Plan | None, done: set[str], failures: list[str],
                 change: str | None = None) -> Decision:
    """What the task does once ``step_id`` is over (``status``: completed, failed, ...).

    ``verdict``: the reviewer's, for a review step; ``plan``: the approved plan, parsed;
    ``done``: the plan phases approved so far;
    ``failures``: the failed checks of this gate round, once all of them are over;
    ``change``: an implementation step's git range, when it worked in a worktree.
    """
    kind, _, rest = step_id.partition(":")
    if status != "completed" and kind in ("plan", "plan-review", "impl", "code-review", "fix"):
        subject = rest.rsplit(":", 1)[0] if kind in ("impl", "code-review") else "task"
        why = f"step {step_id} {status}"
        states = [(subject, FAILED, why)] if subject != "task" else []
        return Decision(states=states + [("task", FAILED, why)])
    if kind == "plan":
        return Decision(states=[("task", PLAN_REVIEW, None)])
    if kind == "plan-review":
        round_ = int(rest)
        concerns = list((verdict or {}).get("concerns") or [])
        if (verdict or {}).get("verdict") == "approved":
            decision = Decision(states=[("task", PLAN_APPROVED, None)])
            if plan is None:
                decision.states.append(("task", FAILED, "the approved plan does not parse"))
                return decision
            follow = _start_phase(task, plan, done, step_id)
            decision.states += follow.states
            decision.phases = follow.phases
            return decision
        decision = Decision(states=[("task", PLAN_REJECTED, "; ".join(concerns) or None)],
                            concerns=concerns)
        if round_ >= MAX_REVIEWS:
            decision.states.append(("task", AWAITING_HUMAN,
                                    f"plan rejected by the reviewer {round_} times"))
            decision.ask = _human("task", "plan", concerns)
            return decision
        decision.states.append(("task", PLANNING, None))
        decision.phases = [planning_phase(task, round_ + 1, concerns),
                           plan_review_phase(task, round_ + 1)]
        return decision
    if kind == "impl":  # its review is made now: the change it reviews is known
        phase_id, _, number = rest.rpartition(":")
        return Decision(states=[("task", CODE_REVIEW, None), (phase_id, CODE_REVIEW, None)],
                        phases=[code_review_phase(task, phase_id, int(number), change)])
    if kind == "code-review":
        phase_id, _, number = rest.rpartition(":")
        round_ = int(number)
        concerns = list((verdict or {}).get("concerns") or [])
        if (verdict or {}).get("verdict") == "approved":
            decision = Decision(states=[(phase_id, COMPLETED, None)])
            follow = _start_phase(task, plan, done | {phase_id}, step_id)
            decision.states += follow.states
            decision.phases = follow.phases
            return decision
        if round_ >= MAX_REVIEWS:
            return Decision(states=[(phase_id, AWAITING_HUMAN, "; ".join(concerns) or None),
                                    ("task", AWAITING_HUMAN,
                                     f"phase {phase_id} rejected by the reviewer {round_} times")],
                            ask=_human(phase_id, f"change of phase {phase_id}", concerns),
                            concerns=concerns)
        source = {phase.id: phase for phase in plan.phases}[phase_id]
        return Decision(states=[(phase_id, CHANGES_REQUESTED, "; ".join(concerns) or None),
                                ("task", IMPLEMENTING, None), (phase_id, IMPLEMENTING, None)],
                        phases=[implementation_phase(task, source, round_ + 1, concerns,
                                                     step_id)],
                        concerns=concerns)
    if kind == "fix":
        round_ = int(rest) + 1
        return Decision(states=[("task", QUALITY_GATE, None)],
                        phases=gate_phases(task, round_, step_id))
    if kind == "gate":
        round_ = int(rest.split(":", 1)[0])
        if not failures:
            return Decision(states=[("task", DONE, None)])
        if round_ >= MAX_GATES:
            return Decision(states=[("task", FAILED, f"the quality gate failed {round_} times: "
                                                     + "; ".join(failures))])
        return Decision(states=[("task", IMPLEMENTING, "; ".join(failures))],
                        phases=[fix_phase(task, round_, failures, f"gate:{round_}:1")])
    return Decision()


def after_answer(task: Task, choice: str, reason: str | None, subject: str, plan: Plan | None,
                 done: set[str], steps: list[str]) -> Decision:
    """A person approved or rejected the task waiting at a review."""
    if choice == "reject":
        why = f"rejected by a person: {reason}" if reason else "rejected by a person"
        states = [(subject, FAILED, why)] if subject != "task" else []
        return Decision(states=states + [("task", FAILED, why)])
    last = steps[-1] if steps else ""
    if subject == "task":
        decision = Decision(states=[("task", PLAN_APPROVED, "approved by a person")])
        if plan is None:
            decision.states.append(("task", FAILED, "the approved plan does not parse"))
            return decision
    else:
        decision = Decision(states=[(subject, COMPLETED, "approved by a person")])
        done = done | {subject}
    follow = _start_phase(task, plan, done, last)
    decision.states += follow.states
    decision.phases = follow.phases
    return decision


def task_state(lifecycle: list[dict]) -> str:
    """The task's state after the ``lifecycle`` events folded so far."""
    for entry in reversed(lifecycle):
        if entry["subject"] == "task":
            return entry["state"]
    return NEW


def step_states(lifecycle: list[dict]) -> dict[str, str]:
    """Each implementation step's (plan phase's) state."""
    found: dict[str, str] = {}
    for entry in lifecycle:
        if entry["subject"] != "task":
            found[entry["subject"]] = entry["state"]
    return found
