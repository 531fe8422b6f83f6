"""The headless driver loop: start what the engine says may start, watch the processes,
record each outcome. Single-threaded; waits on pipes and pidfds with select.
"""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

from orchestrator.config import Config
from orchestrator.engine import decide
from orchestrator.engine.backoff import Backoff
from orchestrator.engine.outcome import Outcome, finish_payload
from orchestrator.engine.recorder import Recorder
from orchestrator.errors import OrchestrateError
from orchestrator.executors import procs
from orchestrator.executors.agent import AgentExecution
from orchestrator.executors.agent_request import prepare_agent
from orchestrator.executors.command import StepExecution
from orchestrator.executors.isolation import Settled
from orchestrator.plan.model import Plan

__all__ = ["HeadlessRunner"]


class HeadlessRunner:
    """Drives one run to its end (or an interruption): shell steps and agent steps."""

    def __init__(self, *, recorder: Recorder, plan: Plan, root: Path, config: Config,
                 store, redactor, durations: dict[str, float] | None = None,
                 backend=None, errors_dir: Path | None = None,
                 exclude: list[Path] | None = None, isolation=None):
        self.recorder = recorder
        self.isolation = isolation  # executors/isolation.Isolation: a worktree per step
        self.phases = {phase.id: phase for phase in plan.phases}
        self.root = root
        self.config = config
        self.store = store
        self.redactor = redactor
        self.scheduler = decide.scheduler_for(recorder.state, durations)
        self.executions: dict[str, StepExecution | AgentExecution] = {}
        self.watchdog: procs.Watchdog | None = None
        self.backend = backend
        self.errors_dir = errors_dir
        self.exclude = exclude or []
        self.finished: list[tuple[str, Outcome, float]] = []  # not journalled yet
        self.frontier: decide.Frontier | None = None

    @property
    def state(self):
        return self.recorder.state

    def run(self, tick=None) -> str:
        """Run until nothing more can start; return the run's final status.

        Each turn of the loop journals what happened since the last one (steps finished)
        and what starts now in one batch, one fsync, and only then starts the processes.
        Any exception (Ctrl-C, SIGTERM, a bug) stops every step, is journalled as an
        interruption, and propagates.
        """
        procs.become_subreaper()
        self.watchdog = procs.Watchdog()
        self.frontier = decide.Frontier(self.state, self.scheduler)
        self.recorder.observers += [self.frontier.update, self._steps_added]
        try:
            while True:
                starting = self._commit_turn()
                for step_id in starting:
                    self._start(step_id)
                if not self.executions and not self.finished:
                    return self._close_run()
                if not self.finished:
                    self._wait(self._timeout())
                self._advance()
                if tick is not None:
                    tick(self.state)
        except BaseException as stop:
            # Ctrl-C, SIGTERM, or a bug: stop the steps and journal it, so the run is
            # resumable and never left looking as if it were still running.
            self._stop_all()
            if self.recorder.broken is None:
                reason = None if isinstance(stop, KeyboardInterrupt) else \
                    f"{type(stop).__name__}: {stop}"
                self.recorder.record("run_interrupted",
                                     **({"reason": reason} if reason else {}))
            raise
        finally:
            self._stop_all()
            self.watchdog.close()
            for observer in (self.frontier.update, self._steps_added):
                if observer in self.recorder.observers:
                    self.recorder.observers.remove(observer)

    def _steps_added(self, event: dict, state) -> None:
        """A workflow grew: its new steps' phases are kept with the run."""
        if event["type"] == "steps_added":
            from orchestrator.session.runs import load_phases

            self.phases.update(load_phases(self.store))

    def _commit_turn(self) -> list[str]:
        """Journal the finished steps and the starts they allow, together; return the
        steps to start now."""
        finished, self.finished = self.finished, []
        known = len(self.state.steps)
        with self.recorder.batch():
            for step_id, outcome, duration_s in finished:
                self.recorder.record("step_finished", **finish_payload(step_id, outcome,
                                                                       duration_s))
            starting = decide.next_steps(self.state, self.scheduler, self.state.jobs,
                                         frontier=self.frontier)
            # A step retried at once starts in a batch of its own, so that the reports of
            # its failed attempt see the step as that event left it.
            again = {step_id for step_id, _, _ in finished} & set(starting)
            if not again:
                self._record_starts(starting)
        if again:
            with self.recorder.batch():
                self._record_starts(starting)
        if not starting and len(self.state.steps) != known:
            return self._commit_turn()  # the run grew as the batch was committed: go on
        return starting

    def _record_starts(self, starting: list[str]) -> None:
        for step_id in starting:
            self.recorder.record("step_started", step=step_id)

    def _close_run(self) -> str:
        status, reason = decide.closing(self.state) or ("awaiting_human", None)
        if self.isolation is not None:
            closed = self.isolation.close(status)
            for text in closed.notes:
                self.recorder.record("note", text=text)
            if closed.held:
                status, reason = "awaiting_human", closed.held
        payload = {"status": status}
        if reason:
            payload["reason"] = reason
        self.recorder.record("run_finished", **payload)
        return status

    def _env(self, step_id: str, attempt: int) -> dict[str, str]:
        env = dict(os.environ, ORCHESTRATE_RUN=self.state.name, ORCHESTRATE_STEP=step_id,
                   ORCHESTRATE_ATTEMPT=str(attempt), ORCHESTRATE_PROJECT_ROOT=str(self.root))
        env[procs.TOKEN_ENV] = self.watchdog.step_token(step_id, attempt)
        return env

    def _start(self, step_id: str) -> None:
        """Start the process of a step whose start is journalled."""
        step = self.state.steps[step_id]
        attempt = step.attempts
        phase = self.phases.get(step_id)
        if phase is None:
            self._finish(step_id, Outcome("failed", f"phase {step_id} is not in the plan",
                                          permanent=True), 0.0)
            return
        root = self._workspace(step_id)
        if root is None:
            return
        if step.kind == "agent":
            self._start_agent(step_id, phase, attempt, root)
            return
        env = self._env(step_id, attempt)
        execution = StepExecution(
            phase=phase, attempt=attempt, root=root, env=env,
            log_path=self.store.step_log_path(step_id, attempt), redactor=self.redactor,
            timeout_s=step.timeout_s, blast_radius_command=self.config.blast_radius_command,
            watchdog=self.watchdog, now=time.monotonic(),
        )
        self.executions[step_id] = execution
        execution.start()

    def _workspace(self, step_id: str) -> Path | None:
        """Where the step works: the project, or its own worktree when isolated (None:
        the worktree could not be made, and the attempt is over)."""
        if self.isolation is None:
            return self.root
        try:
            return self.isolation.enter(step_id)
        except OrchestrateError as problem:
            self._finish(step_id, Outcome("failed", f"no worktree for the step: {problem}",
                                          permanent=True), 0.0)
            return None

    def _start_agent(self, step_id: str, phase, attempt: int, root: Path) -> None:
        step = self.state.steps[step_id]
        log_path = self.store.step_log_path(step_id, attempt)
        prompt_path = (log_path.with_suffix(".prompt.md") if log_path is not None
                       else Path(os.devnull))
        try:
            request, warning = prepare_agent(
                state=self.state, step=step, phase=phase, root=root, config=self.config,
                errors_dir=self.errors_dir, prompt_path=prompt_path, redactor=self.redactor,
                home=self.root)
        except OrchestrateError as problem:  # e.g. a malformed agent definition
            self._finish(step_id, Outcome("failed", str(problem), permanent=True), 0.0)
            return
        if warning:
            self.recorder.record("note", text=f"step {step_id}: {warning}")
        config = self.config
        backoff = Backoff(base_s=config.backoff_base_s, cap_s=config.backoff_cap_s,
                          budget_s=config.backoff_budget_s)

        def on_wait(delay: float, verdict) -> None:
            self.recorder.record("step_waited", step=step_id, delay_s=round(delay, 3),
                                 reason=f"{verdict.category}: {verdict.message}")

        others = [other for other, execution in self.executions.items()
                  if self.state.steps[other].kind == "agent"]
        execution = AgentExecution(
            phase=phase, attempt=attempt, root=root, env=self._env(step_id, attempt),
            log_path=log_path, redactor=self.redactor, backend=self.backend, request=request,
            timeout_s=step.timeout_s, blast_radius_command=config.blast_radius_command,
            watchdog=self.watchdog, now=time.monotonic(), exclude=self.exclude,
            backoff=backoff, on_wait=on_wait,
            others_files=lambda: [f for o in others for f in self.state.steps[o].files],
        )
        self.executions[step_id] = execution
        execution.start()

    def _timeout(self) -> float:
        now = time.monotonic()
        moments = [e.deadline for e in self.executions.values() if e.deadline]
        moments += [e.wake_at for e in self.executions.values()
                    if getattr(e, "wake_at", None) is not None]
        return max(0.0, min([0.5, *(moment - now for moment in moments)]))

    def _wait(self, timeout: float) -> None:
        owners = {}
        for execution in self.executions.values():
            for fd in execution.fds():
                owners[fd] = execution
        if not owners:
            time.sleep(min(timeout, 0.05))
            return
        readable, _, _ = select.select(list(owners), [], [], timeout)
        for fd in readable:
            execution = owners[fd]
            if execution.owns_pipe(fd):
                execution.read_output()

    def _advance(self) -> None:
        now = time.monotonic()
        for step_id, execution in list(self.executions.items()):
            outcome = execution.poll(now)
            if outcome is not None:
                del self.executions[step_id]
                self._finish(step_id, outcome, now - execution.started_at)

    def _finish(self, step_id: str, outcome: Outcome, duration_s: float) -> None:
        """An attempt is over; it is journalled at the start of the next turn (an isolated
        step is merged first: what it is credited with is its worktree's diff)."""
        if self.isolation is not None:
            try:
                settled = self.isolation.leave(step_id, outcome)
            except OrchestrateError as problem:
                settled = Settled(Outcome("failed", f"merging the step failed: {problem}",
                                          permanent=True, cost_usd=outcome.cost_usd))
            outcome = settled.outcome
            if settled.note:
                self.recorder.record("note", text=settled.note)
            if settled.ask is not None and self.state.ask is None:
                self.recorder.record("ask_opened", **settled.ask)
        self.finished.append((step_id, outcome, duration_s))

    def _stop_all(self) -> None:
        for execution in self.executions.values():
            execution.kill()
        self.executions.clear()

