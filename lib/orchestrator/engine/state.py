"""Run and step state, and the events that change it; pure data, no I/O.

A run's state is a fold of its journal: ``replay(events)`` rebuilds it, and ``apply`` is the
only function that changes it. Events are plain dicts so the journal stores them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = [
    "SCHEMA_VERSION",
    "STEP_STATUSES",
    "RUN_STATUSES",
    "DONE_STATUSES",
    "FAILED_STATUSES",
    "StepState",
    "RunState",
    "apply",
    "replay",
    "StateError",
    "satisfies",
]

SCHEMA_VERSION = 1

STEP_STATUSES = ("pending", "running", "completed", "failed", "timeout", "blocked", "skipped",
                 "awaiting_human")
RUN_STATUSES = ("running", "completed", "failed", "interrupted", "awaiting_human")
DONE_STATUSES = frozenset({"completed", "skipped"})  # satisfy dependents
FAILED_STATUSES = frozenset({"failed", "timeout"})


class StateError(ValueError):
    """An event that does not fit the state it is applied to (a corrupt or foreign journal)."""

    index: int | None = None  # set by replay: which event


@dataclass(slots=True)
class StepState:
    """One phase of the plan as a unit of execution."""

    id: str
    title: str
    depends_on: list[str]
    kind: str  # "command" (a Run block) or "agent"
    phase_hash: str
    max_attempts: int = 1
    timeout_s: int | None = None
    status: str = "pending"
    attempts: int = 0  # attempts started, over the whole life of the run
    attempts_base: int = 0  # attempts before the latest reset (resume); retries count from it
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    error: str | None = None
    cost_usd: float = 0.0
    history: list[dict] = field(default_factory=list)  # one entry per finished attempt
    waits: list[dict] = field(default_factory=list)  # backoff waits after transient errors
    files: list[str] = field(default_factory=list)  # what the phase names: policy and checks
    owner: str | None = None  # the agent the plan names for it
    phase_type: str = "implementation"  # or "design"
    soft: bool = False  # its failure blocks nothing: dependents go on (a workflow's research)
    preset: dict | None = None  # settled by the plan's markers: {"status", "reason", "held"}

    @property
    def attempts_left(self) -> int:
        return self.max_attempts - (self.attempts - self.attempts_base)

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in _STEP_FIELDS}
        for name in ("depends_on", "history", "waits", "files"):
            data[name] = list(data[name])
        return data

    @property
    def held(self) -> bool:
        """Blocked by the plan itself (a deferred phase it needs), not by a failure."""
        return self.status == "blocked" and bool(self.preset and self.preset.get("held"))

    def settle(self) -> None:
        """Take the status the plan's markers give, if any (a fresh or reset step)."""
        if self.preset and self.status == "pending":
            self.status = self.preset["status"]
            self.error = self.preset.get("reason")


@dataclass(slots=True)
class RunState:
    """A run: its identity, its steps in plan order, and where it stands."""

    name: str
    plan_path: str
    plan_format: str
    plan_hash: str
    project_root: str
    jobs: int
    steps: dict[str, StepState]
    created_at: float
    schema: int = SCHEMA_VERSION
    status: str = "running"
    updated_at: float = 0.0
    finished_at: float | None = None
    seq: int = 0  # number of events applied
    segments: int = 1  # 1 + number of resumes
    cost_usd: float = 0.0
    notes: list[str] = field(default_factory=list)
    max_cost_usd: float | None = None  # no agent step starts once this much is spent
    pause_reason: str | None = None  # why the run is awaiting a human
    driver: str = "headless"  # what moves the run: "headless" (one process) or "wf" (calls)
    ask: dict | None = None  # an open question for the user: {"id", "question", "options"}
    answers: list[dict] = field(default_factory=list)  # the questions answered, in order
    session_id: str | None = None  # the Claude Code session driving a `wf` run (its hooks)
    lifecycle: list[dict] = field(default_factory=list)  # a task's states, in order (tasks)
    routes: list[dict] = field(default_factory=list)  # the model routed to each agent step
    isolate: bool = False  # each step works in a git worktree of its own (executors/isolation)

    def to_dict(self) -> dict:
        """JSON-ready data; lists are copied, their entries (plain dicts) are shared."""
        data = {name: getattr(self, name) for name in _RUN_FIELDS if name != "steps"}
        data["notes"] = list(self.notes)
        for name in ("lifecycle", "routes", "isolate"):  # omitted unless used: other runs'
            if not data[name]:                          # state is as it was
                del data[name]
        data["steps"] = [step.to_dict() for step in self.steps.values()]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunState:
        data = dict(data)
        steps = {raw["id"]: StepState(**raw) for raw in data.pop("steps")}
        return cls(steps=steps, **data)

    def counts(self) -> dict[str, int]:
        result = dict.fromkeys(STEP_STATUSES, 0)
        for step in self.steps.values():
            result[step.status] += 1
        return result


_STEP_FIELDS = tuple(f.name for f in fields(StepState))
_RUN_FIELDS = tuple(f.name for f in fields(RunState))


def _step(state: RunState, event: dict) -> StepState:
    try:
        return state.steps[event["step"]]
    except KeyError:
        raise StateError(f"event {event.get('type')} names unknown step {event.get('step')!r}")\
            from None


def satisfies(step: StepState) -> bool:
    """Whether ``step`` no longer holds its dependents back: it is done, or it is soft and
    over (failed, timed out or blocked)."""
    return step.status in DONE_STATUSES or (
        step.soft and step.status in ("failed", "timeout", "blocked"))


SETTLED_STATUSES = ("pending", "completed", "skipped")  # what a person makes of a failed step


def _settle(state: RunState, event: dict) -> None:
    """A person's decision on a failed step (e.g. after a merge conflict): run it again
    (``pending``), take it as done (``completed``: they did its work by hand), or drop it
    (``skipped``). Its dependents are unblocked when nothing else holds them."""
    step = _step(state, event)
    status = event.get("status")
    if status not in SETTLED_STATUSES:
        raise StateError(f"step_settled: unknown status {status!r} for step {step.id}")
    if step.status not in FAILED_STATUSES:
        raise StateError(f"step_settled: step {step.id} is {step.status}, not failed")
    step.status = status
    step.error = event.get("reason") if status == "skipped" else None
    if status == "pending":
        step.attempts_base = step.attempts
    _unblock_dependents(state, step.id)


def _unblock_dependents(state: RunState, step_id: str) -> None:
    """Blocked steps that (transitively) need ``step_id`` wait again, unless another of
    their dependencies still failed or is blocked."""
    stuck = FAILED_STATUSES | {"blocked"}
    frontier = [step_id]
    while frontier:
        current = frontier.pop()
        for step in state.steps.values():
            if current not in step.depends_on or step.status != "blocked":
                continue
            if any(state.steps[dep].status in stuck for dep in step.depends_on
                   if dep in state.steps):
                continue
            step.status = "pending"
            step.error = None
            frontier.append(step.id)


def _block_dependents(state: RunState, failed_id: str) -> None:
    """Mark every pending step that (transitively) needs ``failed_id`` as blocked."""
    if state.steps[failed_id].soft:
        return
    frontier = [failed_id]
    while frontier:
        current = frontier.pop()
        for step in state.steps.values():
            if current in step.depends_on and step.status == "pending":
                step.status = "blocked"
                step.error = f"dependency {failed_id} {state.steps[failed_id].status}"
                frontier.append(step.id)


def _step_from_spec(raw: dict) -> StepState:
    """A fresh step from the spec recorded in run_started or run_resumed."""
    step = StepState(
        id=raw["id"], title=raw.get("title", ""), depends_on=list(raw["depends_on"]),
        kind=raw["kind"], phase_hash=raw["phase_hash"],
        max_attempts=raw.get("max_attempts", 1), timeout_s=raw.get("timeout_s"),
        files=list(raw.get("files", ())), owner=raw.get("owner"),
        phase_type=raw.get("type", "implementation"), soft=bool(raw.get("soft", False)),
        preset=dict(raw["preset"]) if raw.get("preset") else None,
    )
    step.settle()
    return step


def _new_run(event: dict) -> RunState:
    steps = {raw["id"]: _step_from_spec(raw) for raw in event["steps"]}
    return RunState(
        name=event["name"], plan_path=event["plan_path"], plan_format=event["plan_format"],
        plan_hash=event["plan_hash"], project_root=event["project_root"], jobs=event["jobs"],
        steps=steps, created_at=event["at"], updated_at=event["at"],
        max_cost_usd=event.get("max_cost_usd"), driver=event.get("driver", "headless"),
        session_id=event.get("session_id"), isolate=bool(event.get("isolate", False)),
    )


def _finish_attempt(state: RunState, step: StepState, event: dict) -> None:
    outcome = event["outcome"]
    if outcome not in ("completed", "failed", "timeout"):
        raise StateError(f"unknown outcome {outcome!r} for step {step.id}")
    step.finished_at = event["at"]
    step.duration_s = event.get("duration_s")
    cost = float(event.get("cost_usd") or 0.0)
    step.cost_usd += cost
    state.cost_usd += cost
    entry = {
        "attempt": step.attempts, "outcome": outcome, "started_at": step.started_at,
        "finished_at": event["at"], "duration_s": step.duration_s, "error": event.get("error"),
        "cost_usd": cost,
    }
    for key in ("details", "note", "checks", "change", "kept"):
        if event.get(key):
            entry[key] = event[key]
    step.history.append(entry)
    if outcome == "completed":
        step.status = "completed"
        step.error = None
        return
    step.error = event.get("error") or outcome
    if step.attempts_left > 0 and not event.get("permanent"):
        step.status = "pending"  # retried by the scheduler
        return
    step.status = outcome
    _block_dependents(state, step.id)


def apply(state: RunState | None, event: dict) -> RunState:
    """Apply one journal event to ``state`` (mutated and returned).

    ``run_started`` creates the state; every other event needs one. An event that does not
    fit (missing fields, out of sequence, impossible for the step) raises StateError.
    """
    try:
        return _apply(state, event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, StateError):
            raise
        raise StateError(f"malformed {event.get('type', 'event')!r} event "
                         f"(seq {event.get('seq')}): {exc!r}") from None


def _apply(state: RunState | None, event: dict) -> RunState:
    kind = event.get("type")
    if kind == "run_started":
        if state is not None:
            raise StateError("run_started twice in one journal")
        state = _new_run(event)
        state.seq = 1
        return state
    if state is None:
        raise StateError(f"journal does not begin with run_started (found {kind!r})")
    if "seq" in event and event["seq"] != state.seq + 1:
        raise StateError(f"event {kind!r} has seq {event['seq']}, expected {state.seq + 1}")
    at = float(event["at"])
    if kind == "step_started":
        step = _step(state, event)
        if step.status != "pending":
            raise StateError(f"step {step.id} started while {step.status}")
        step.status = "running"
        step.attempts += 1
        step.started_at = at
        step.finished_at = None
        step.duration_s = None
    elif kind == "step_finished":
        step = _step(state, event)
        if step.status != "running":
            raise StateError(f"step {step.id} finished while {step.status}")
        _finish_attempt(state, step, event)
    elif kind == "run_resumed":
        _resume(state, event)
    elif kind == "run_interrupted":
        for step in state.steps.values():
            if step.status == "running":
                step.status = "pending"
        state.status = "interrupted"
    elif kind == "step_waited":
        step = _step(state, event)
        if step.status != "running":
            raise StateError(f"step {step.id} waited while {step.status}")
        step.waits.append({"at": at, "delay_s": float(event["delay_s"]),
                           "reason": event.get("reason")})
    elif kind == "run_finished":
        state.status = event["status"]
        state.finished_at = at
        state.pause_reason = event.get("reason") if state.status == "awaiting_human" else None
    elif kind == "note":
        state.notes.append(event["text"])
    elif kind == "steps_added":
        for raw in event["steps"]:
            if raw["id"] in state.steps:
                raise StateError(f"steps_added: step {raw['id']} exists already")
            state.steps[raw["id"]] = _step_from_spec(raw)
    elif kind == "ask_opened":
        state.ask = {"id": event["id"], "question": event["question"],
                     "options": list(event["options"])}
    elif kind == "ask_answered":
        if state.ask is None or state.ask["id"] != event["id"]:
            raise StateError(f"ask_answered: no open question {event.get('id')!r}")
        state.answers.append({"id": event["id"], "choice": event["choice"],
                              "text": event.get("text")})
        state.ask = None
    elif kind == "step_settled":
        _settle(state, event)
    elif kind == "lifecycle":
        _move(state, event)
    elif kind == "routed":
        state.routes.append({"step": event["step"], "role": event["role"],
                             "model": event["model"], "reason": event["reason"]})
    else:
        raise StateError(f"unknown event type {kind!r}")
    state.seq += 1
    state.updated_at = at
    return state


def _resume(state: RunState, event: dict) -> None:
    """A new segment: in-flight, failed and blocked steps, and changed phases, go again."""
    state.segments += 1
    state.status = "running"
    state.finished_at = None
    for raw in event.get("added", ()):
        state.steps[raw["id"]] = _step_from_spec(raw)
    for step_id in event.get("removed", ()):
        state.steps.pop(step_id, None)
    for raw in event.get("updated", ()):
        step = state.steps[raw["id"]]
        step.title = raw.get("title", step.title)
        step.depends_on = list(raw["depends_on"])
        step.kind = raw["kind"]
        step.phase_hash = raw["phase_hash"]
        step.max_attempts = raw.get("max_attempts", step.max_attempts)
        step.timeout_s = raw.get("timeout_s")
        step.files = list(raw.get("files", ()))
        step.owner = raw.get("owner")
        step.phase_type = raw.get("type", "implementation")
        step.preset = dict(raw["preset"]) if raw.get("preset") else None
    order = [raw_id for raw_id in event.get("order", ()) if raw_id in state.steps]
    if order:
        state.steps = {step_id: state.steps[step_id] for step_id in order}
    for step_id in event.get("reset", ()):
        step = state.steps[step_id]
        step.status = "pending"
        step.error = None
        step.attempts_base = step.attempts
        step.settle()
    if "jobs" in event:
        state.jobs = event["jobs"]
    if "max_cost_usd" in event:
        state.max_cost_usd = event["max_cost_usd"]
    state.driver = event.get("driver", state.driver)
    state.session_id = event.get("session_id", state.session_id)
    state.pause_reason = None


def replay(events: list[dict]) -> RunState:
    """Rebuild a run's state from its whole journal. A StateError names the position of
    the event that does not fit in ``index`` (0-based)."""
    state = None
    for index, event in enumerate(events):
        try:
            state = apply(state, event)
        except StateError as problem:
            problem.index = index
            raise
    if state is None:
        raise StateError("journal is empty")
    return state


def _move(state: RunState, event: dict) -> None:
    """A task (``subject`` "task") or one of its plan phases changes state, as the
    lifecycle's transition table allows; anything else is a corrupt journal."""
    from orchestrator.engine import lifecycle

    subject, after = event["subject"], event["state"]
    if subject == "task":
        table, before = lifecycle.TASK_TRANSITIONS, lifecycle.task_state(state.lifecycle)
    else:
        table = lifecycle.STEP_TRANSITIONS
        before = lifecycle.step_states(state.lifecycle).get(subject, lifecycle.PENDING)
    try:
        lifecycle.check(table, before, after, subject)
    except lifecycle.IllegalTransition as error:
        raise StateError(f"lifecycle event (seq {event.get('seq')}): {error}") from None
    entry = {"subject": subject, "state": after, "at": float(event["at"])}
    for key in ("reason", "concerns"):
        if event.get(key):
            entry[key] = event[key]
    state.lifecycle.append(entry)
