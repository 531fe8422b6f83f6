"""The `wf` next-action protocol: a run moved one call at a time, each call its own process.

The driver (the slash commands' loop in Claude Code, or a test) asks ``next`` what may
start, performs the actions (agents through its Agent tool; commands through ``exec``,
which the engine runs itself) and ``report``s each agent action; the engine checks the
evidence on disk and records the outcome. Every call takes the run's lock for a moment
(waiting a few seconds for another call) and never holds it while an agent works or a
check runs, so parallel reports land side by side.

An action is one attempt of one step: its id is ``STEP@ATTEMPT``. Handing it out journals
the step's start; an action handed out and not reported is ``in_flight`` and is never
handed out again, except by ``next --again ID`` for a driver that lost it. A report or an
exec repeated after a crash is answered from the journal, never recorded twice.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import Config, detect_test_command, load_config
from orchestrator.drivers import wf_actions, wf_isolation
from orchestrator.drivers.wf_actions import action_id
from orchestrator.engine import decide
from orchestrator.engine.outcome import Outcome, attempt_result, finish_payload
from orchestrator.engine.recorder import Recorder
from orchestrator.engine.state import RunState, StepState
from orchestrator.errors import OrchestrateError
from orchestrator.executors.blocking import judge_agent_attempt, run_command_attempt
from orchestrator.playbooks.execute_plan import closing, opening, records
from orchestrator.redact import Redactor
from orchestrator.session import runs as session
from orchestrator.store import FileRunStore
from orchestrator.store.bounds import clip_line, clip_text

__all__ = ["LOCK_WAIT_S", "next_actions", "report", "execute", "answer", "status",
           "action_id", "parse_action", "ActionError"]

LOCK_WAIT_S = 5.0
FINISHED = ("completed", "failed", "awaiting_human")
COST_CAP_ASK = "cost-cap"


class ActionError(OrchestrateError):
    """An action id that does not name an action of this run in the state asked for."""


def parse_action(text: str) -> tuple[str, int]:
    step, sep, number = text.rpartition("@")
    if not sep or not step or not number.isdigit():
        raise ActionError(f"not an action id: {text!r} (expected STEP@ATTEMPT, as `wf next` "
                          "hands them out)")
    return step, int(number)


def _next_command(name: str) -> str:
    return f"orchestrate wf next {name} --json"


@dataclass
class _Call:
    """One `wf` call's view of a run: its store, state and recorder, under the lock."""

    project: session.Project
    store: FileRunStore
    recorder: Recorder
    reports: session.RunReports
    config: Config
    redactor: Redactor

    @property
    def state(self) -> RunState:
        return self.recorder.state


@contextmanager
def _locked(name: str, cwd: Path | None = None):
    project = session.open_project(cwd)
    redactor = Redactor()
    store = session.open_store(project, name, redactor)
    with store.lock(wait_s=LOCK_WAIT_S):
        loaded = store.load(repair=True)
        recorder = Recorder(store, loaded.state)
        config = load_config(project.root)
        reports = session.listen(recorder, store, project, loaded.state.name,
                                 loaded.state.plan_path, redactor, config)
        call = _Call(project, store, recorder, reports, config, redactor)
        try:
            yield call
        finally:
            call.recorder.flush()
            store.close()


# --- next --------------------------------------------------------------------------------

def next_actions(name: str, *, again: str | None = None, cwd: Path | None = None) -> dict:
    """Every action that may start now (journalled as started), and those in flight."""
    with _locked(name, cwd) as call:
        actions = [_hand_out_again(call, again)] if again is not None else _decide(call)
        handed = {action["id"] for action in actions}
        return {"schema": "orchestrate/wf-next@1", "run": call.state.name,
                "actions": actions, "in_flight": _in_flight(call.state, handed)}


def _decide(call: _Call) -> list[dict]:
    state = call.state
    if state.ask is not None:
        if state.status == "running" and not any(
                step.status == "running" for step in state.steps.values()):
            return [_close(call)]  # the run waits for the answer: awaiting_human
        return [_open_ask(state)]
    if state.status == "awaiting_human":
        return [_cost_cap_ask(state)] if _cost_capped(state) else [_done(call)]
    if state.status in FINISHED:
        return [_done(call)]
    if state.status != "running" or state.driver != "wf":
        notes: list[str] = []  # interrupted, or left by the headless driver: resume it
        call.recorder, _, call.reports = session.reopen_run(
            call.store, call.project, call.config, call.redactor, notes=notes, driver="wf")
    phases = session.load_phases(call.store)
    state = call.state
    starting = decide.next_steps(state, decide.scheduler_for(state), state.jobs)
    roots = wf_isolation.workspaces(call, starting)
    for step_id in starting:  # the tree before each agent works, for its report
        if state.steps[step_id].kind == "agent":
            wf_actions.before_snapshot(call, state.steps[step_id], roots[step_id])
    with call.recorder.batch():
        for step_id in starting:
            attempt = call.state.steps[step_id].attempts + 1
            call.recorder.record("step_started", step=step_id,
                                 action=action_id(step_id, attempt))
    actions = [wf_actions.action(call, call.state.steps[step_id], phases, roots[step_id])
               for step_id in starting]
    if actions or any(s.status == "running" for s in call.state.steps.values()):
        return actions
    if _add_final_checks(call):
        return _decide(call)  # the final test and lint run go out next
    return [_close(call)]


def _add_final_checks(call: _Call) -> bool:
    """/execute-plan ends with a full test and lint run, once every phase is over; True
    when they were added now."""
    from orchestrator.playbooks.orchestrate.growth import add_phases

    if records.enabled(call.store.run_dir) is None or closing.FINAL_TESTS in call.state.steps:
        return False
    if any(step.status in ("failed", "timeout", "blocked") and not step.soft
           for step in call.state.steps.values()):
        return False  # the run failed already: no final run
    phases = closing.final_phases(detect_test_command(call.project.root, call.config),
                                   call.config.lint_command, list(call.state.steps))
    if not phases:
        return False
    add_phases(call.recorder, call.store, call.config, phases)
    return True


def _close(call: _Call) -> dict:
    ending = decide.closing(call.state)
    status, reason = ending or ("awaiting_human", None)
    closed = wf_isolation.closing(call, status)
    for text in closed.notes if closed else []:
        call.recorder.record("note", text=text)
    if closed and closed.held:
        status, reason = "awaiting_human", closed.held
    payload = {"status": status}
    if reason:
        payload["reason"] = reason
    call.recorder.record("run_finished", **payload)
    call.reports.close(call.state)
    if call.state.ask is not None:
        return _open_ask(call.state)
    if status == "awaiting_human" and _cost_capped(call.state):
        return _cost_cap_ask(call.state)
    return _done(call)


def _cost_capped(state: RunState) -> bool:
    return bool(state.pause_reason) and state.pause_reason.startswith("cost cap")


_open_ask = wf_actions.ask_action


def _done(call: _Call) -> dict:
    state = call.state
    counts = state.counts()
    done = counts["completed"] + counts["skipped"]
    message = f"run {state.status}: {done} of {len(state.steps)} steps done"
    held = sum(step.held for step in state.steps.values())
    counts["blocked"] -= held
    bad = [f"{counts[key]} {key}" for key in ("failed", "timeout", "blocked") if counts[key]]
    if held:
        message += f" ({held} blocked by what the plan defers)"
    if bad:
        message += f" ({', '.join(bad)}); continue with `orchestrate run --resume " \
                   f"{state.name}` or `{_next_command(state.name)}` after fixing them"
    if state.status == "awaiting_human" and state.pause_reason:
        message += f"; paused: {clip_text(state.pause_reason, 400)}"
    summary = call.store.run_dir / "summary.md"
    return {"type": "done", "id": f"done@{state.seq}", "status": state.status,
            "summary": str(summary), "message": message, **wf_actions.after_done(state)}


def _cost_cap_ask(state: RunState) -> dict:
    return {"type": "ask", "id": COST_CAP_ASK,
            "question": clip_text(state.pause_reason or "the run is paused", 300),
            "options": [{"id": "raise", "label": "Lift the cost cap and go on"},
                        {"id": "stop", "label": "Stop here; the run stays resumable"}]}


def _hand_out_again(call: _Call, text: str) -> dict:
    step_id, attempt = parse_action(text)
    step = call.state.steps.get(step_id)
    if step is None or step.status != "running" or step.attempts != attempt:
        raise ActionError(f"action {text} is not in flight in run {call.state.name}; "
                          f"see `orchestrate wf status {call.state.name} --json`")
    phases = session.load_phases(call.store)
    return wf_actions.action(call, step, phases, wf_isolation.project_for(call, step_id).root)


def _in_flight(state: RunState, handed: set[str]) -> list[dict]:
    from orchestrator.fmt import iso_utc

    return [{"id": action_id(step.id, step.attempts), "step": step.id,
             "since": iso_utc(step.started_at)}
            for step in state.steps.values()
            if step.status == "running" and action_id(step.id, step.attempts) not in handed]


# --- report and exec ---------------------------------------------------------------------

def _in_flight_step(call: _Call, text: str, kind: str) -> tuple[StepState, int, dict | None]:
    """The step of action ``text``, its attempt, and what became of it if it is over."""
    step_id, attempt = parse_action(text)
    step = call.state.steps.get(step_id)
    if step is None:
        raise ActionError(f"run {call.state.name} has no step {step_id!r}")
    result = attempt_result(step, attempt)
    if result is not None:
        return step, attempt, result
    if step.status != "running" or step.attempts != attempt:
        raise ActionError(f"action {text} was not handed out in run {call.state.name} "
                          f"(step {step_id} is {step.status}, attempt {step.attempts})")
    if step.kind != kind:
        verb = "wf exec" if step.kind == "command" else "wf report"
        raise ActionError(f"action {text} is a{'n' if step.kind == 'agent' else ''} "
                          f"{step.kind} action: use `orchestrate {verb}`")
    return step, attempt, None


def _answer(schema: str, state: RunState, text: str, result: dict, **extra) -> dict:
    answer = {"schema": schema, "run": state.name, "action": text,
              "outcome": result["outcome"],
              "reason": clip_text(result["reason"], 300) if result.get("reason") else None,
              **extra, "next": _next_command(state.name)}
    return answer


def report(name: str, text: str, *, note: str | None = None, cwd: Path | None = None) -> dict:
    """The driver says agent action ``text`` is over: check the evidence, record it."""
    with _locked(name, cwd) as call:
        step, attempt, result = _in_flight_step(call, text, "agent")
        if result is not None:
            return _answer("orchestrate/wf-report@1", call.state, text, result)
        phases = session.load_phases(call.store)
        others = [f for other in call.state.steps.values()
                  if other.status == "running" and other.kind == "agent" and other.id != step.id
                  for f in other.files]
        started_at = step.started_at
        before = wf_actions.before_path(call, step.id, attempt)
        config, redactor = call.config, call.redactor
        project, home = wf_isolation.project_for(call, step.id), call.project.root
        exclude = session.exclusions(call.project, call.reports, call.store)
        log_path = call.store.step_log_path(step.id, attempt)
        state = call.state
    outcome = judge_agent_attempt(phases[step.id], project, config, redactor, before, exclude,
                                  others, log_path, state, step, attempt, project_root=home)
    outcome.note = wf_actions.report_note(note, log_path.parent.parent, text)
    with _locked(name, cwd) as call:
        outcome = wf_isolation.settle(call, step.id, outcome)
    return _record(name, text, "agent", outcome, started_at, "orchestrate/wf-report@1", cwd)


def execute(name: str, text: str, *, cwd: Path | None = None) -> dict:
    """Run command action ``text`` (its Run block and checks) and record the outcome."""
    with _locked(name, cwd) as call:
        step, attempt, result = _in_flight_step(call, text, "command")
        if result is not None:
            return _answer("orchestrate/wf-exec@1", call.state, text, result,
                           log=str(call.store.step_log_path(step.id, attempt)))
        phase = session.load_phases(call.store)[step.id]
        started_at = step.started_at
        config, redactor = call.config, call.redactor
        project, home = wf_isolation.project_for(call, step.id), call.project.root
        log_path = call.store.step_log_path(step.id, attempt)
        state = call.state
    outcome = run_command_attempt(phase, project, config, redactor, log_path, state, step, attempt,
                                  timeout_s=step.timeout_s, project_root=home)
    with _locked(name, cwd) as call:
        outcome = wf_isolation.settle(call, step.id, outcome)
    answer = _record(name, text, "command", outcome, started_at, "orchestrate/wf-exec@1",
                     cwd, log=str(log_path))
    if outcome.outcome != "completed" and outcome.tail:
        answer["tail"] = [clip_line(line, 200) for line in outcome.tail[-5:]]
    return answer


def _record(name: str, text: str, kind: str, outcome: Outcome, started_at: float | None,
            schema: str, cwd: Path | None, **extra) -> dict:
    """Journal the attempt's outcome, unless another call did meanwhile."""
    with _locked(name, cwd) as call:
        step, attempt, result = _in_flight_step(call, text, kind)
        if result is None:
            duration = time.time() - started_at if started_at else 0.0
            call.recorder.record("step_finished",
                                 **finish_payload(step.id, outcome, max(0.0, duration)))
            result = attempt_result(call.state.steps[step.id], attempt)
        return _answer(schema, call.state, text, result, **extra)


# --- answer and status -------------------------------------------------------------------

def answer(name: str, text: str, choice: str, *, note: str | None = None,
           cwd: Path | None = None) -> dict:
    """The user's choice for an ``ask`` action (``note``: free text, such as guidance)."""
    with _locked(name, cwd) as call:
        state = call.state
        if state.ask is not None and state.ask["id"] == text:
            options = [option["id"] for option in state.ask["options"]]
            if choice not in options:
                raise ActionError(f"{choice!r} is not an option of {text} "
                                  f"({', '.join(options)})")
            call.recorder.record("ask_answered", id=text, choice=choice,
                                 **({"text": clip_text(note, 2000)} if note else {}))
            if choice == "stop":
                call.recorder.record("run_finished", status="awaiting_human",
                                     reason=f"stopped by the user at the question {text}; "
                                            "continue with `orchestrate run --resume "
                                            f"{call.state.name}`")
            elif call.state.status != "running" and call.state.ask is None:
                call.recorder, _, call.reports = session.reopen_run(
                    call.store, call.project, call.config, call.redactor, notes=[],
                    driver="wf")
        elif text == COST_CAP_ASK and state.status == "awaiting_human" and _cost_capped(state):
            if choice == "raise":
                call.recorder, _, call.reports = session.reopen_run(
                    call.store, call.project, call.config, call.redactor, notes=[],
                    driver="wf", lift_cap=True)
            elif choice != "stop":
                raise ActionError(f"{choice!r} is not an option of {text} (raise, stop)")
        else:
            raise ActionError(f"no question {text!r} is open in run {state.name} "
                              f"(it is {state.status})")
        reply = {"schema": "orchestrate/wf-answer@1", "run": call.state.name, "ask": text,
                 "choice": choice, "next": _next_command(call.state.name)}
        follow = _opening_follow_up(call, text, choice)
    if follow is not None:  # run outside the lock: the repository's tests may take a while
        ask = follow()
        if ask is not None:
            with _locked(name, cwd) as call:
                if call.state.ask is None:
                    call.recorder.record("ask_opened", id=ask["id"], options=ask["options"],
                                         question=clip_text(ask["question"], 300))
    return reply


def _opening_follow_up(call: _Call, text: str, choice: str):
    """For /execute-plan's opening questions: what to do next once ``text`` is answered
    (a callable giving the next question, or None)."""

    if choice == "stop" or records.enabled(call.store.run_dir) is None:
        return None
    phases = session.load_phases(call.store)
    first = next(iter(phases.values())).type if phases else None
    root, config, run_dir = call.project.root, call.config, call.store.run_dir
    if text == opening.DIRTY_ASK:
        return lambda: opening.opening_ask(root, config, first, run_dir,
                                            after=opening.DIRTY_ASK)
    if text == opening.PREFLIGHT_ASK and choice == "run":
        return lambda: opening.failing_ask(root, config, first, run_dir)
    return None


def status(name: str, *, cwd: Path | None = None) -> dict:
    """Where the run stands, compactly: counts, each step's status, what is in flight."""
    with _locked(name, cwd) as call:
        state = call.state
        return {"schema": "orchestrate/wf-status@1", "run": state.name,
                "status": state.status, "counts": {k: v for k, v in state.counts().items() if v},
                "steps": {step.id: step.status for step in state.steps.values()},
                "in_flight": _in_flight(state, set()),
                "cost_usd": round(state.cost_usd, 4), "next": _next_command(state.name)}
