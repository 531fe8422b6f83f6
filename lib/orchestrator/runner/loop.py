"""The headless driver loop: start what the engine says may start, watch the processes,
record each outcome. Single-threaded; waits on pipes and pidfds with select.
"""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

from ..config import Config
from ..engine import decide
from ..engine.recorder import Recorder
from ..plan.model import Plan
from . import procs
from .execution import Outcome, StepExecution

__all__ = ["HeadlessRunner", "AGENT_STEPS_UNSUPPORTED"]

AGENT_STEPS_UNSUPPORTED = (
    "phase {id} has no Run block, so it is an agent step; this version of orchestrate runs "
    "only shell steps headless (agent steps through `claude -p` are not available yet). "
    "Add a **Run:** block to the phase, or run the plan from Claude Code"
)


class HeadlessRunner:
    """Drives one run to its end (or an interruption) with shell steps."""

    def __init__(self, *, recorder: Recorder, plan: Plan, root: Path, config: Config,
                 store, redactor, durations: dict[str, float] | None = None,
                 clock=time.time):
        self.recorder = recorder
        self.phases = {phase.id: phase for phase in plan.phases}
        self.root = root
        self.config = config
        self.store = store
        self.redactor = redactor
        self.clock = clock
        self.scheduler = decide.scheduler_for(recorder.state, durations)
        self.executions: dict[str, StepExecution] = {}
        self.watchdog: procs.Watchdog | None = None

    @property
    def state(self):
        return self.recorder.state

    def run(self, tick=None) -> str:
        """Run until nothing more can start; return the run's final status.

        KeyboardInterrupt stops every step, journals the interruption and propagates.
        """
        self.watchdog = procs.Watchdog()
        try:
            while True:
                self._start_ready()
                if not self.executions:
                    status = decide.final_status(self.state)
                    if status is None:  # pragma: no cover - defensive: nothing can progress
                        status = "awaiting_human"
                    self.recorder.record("run_finished", status=status)
                    return status
                self._wait(self._timeout())
                self._advance()
                if tick is not None:
                    tick(self.state)
        except KeyboardInterrupt:
            self._stop_all()
            self.recorder.record("run_interrupted")
            raise
        finally:
            self._stop_all()
            self.watchdog.close()

    def _start_ready(self) -> None:
        jobs = self.state.jobs
        for step_id in decide.next_steps(self.state, self.scheduler, jobs):
            self._start(step_id)

    def _start(self, step_id: str) -> None:
        step = self.state.steps[step_id]
        state = self.recorder.record("step_started", step=step_id)
        attempt = state.steps[step_id].attempts
        phase = self.phases.get(step_id)
        if step.kind != "command" or phase is None:
            message = AGENT_STEPS_UNSUPPORTED.format(id=step_id)
            self._finish(step_id, Outcome("failed", message, permanent=True), 0.0)
            return
        env = dict(os.environ, ORCHESTRATE_RUN=self.state.name, ORCHESTRATE_STEP=step_id,
                   ORCHESTRATE_ATTEMPT=str(attempt), ORCHESTRATE_PROJECT_ROOT=str(self.root))
        execution = StepExecution(
            phase=phase, attempt=attempt, root=self.root, env=env,
            log_path=self.store.step_log_path(step_id, attempt), redactor=self.redactor,
            timeout_s=step.timeout_s, blast_radius_command=self.config.blast_radius_command,
            watchdog=self.watchdog, now=time.monotonic(),
        )
        self.executions[step_id] = execution
        execution.start()

    def _timeout(self) -> float:
        now = time.monotonic()
        deadlines = [e.deadline - now for e in self.executions.values() if e.deadline]
        return max(0.0, min([0.5, *deadlines]))

    def _wait(self, timeout: float) -> None:
        owners = {}
        for execution in self.executions.values():
            for fd in execution.fds():
                owners[fd] = execution
        if not owners:
            time.sleep(min(timeout, 0.01))
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
        payload = {"step": step_id, "outcome": outcome.outcome, "duration_s": round(duration_s, 3)}
        if outcome.error:
            payload["error"] = outcome.error
        if outcome.checks:
            payload["checks"] = outcome.checks
        if outcome.tail:
            payload["tail"] = outcome.tail[-10:]
        if outcome.permanent:
            payload["permanent"] = True
        self.recorder.record("step_finished", **payload)

    def _stop_all(self) -> None:
        for execution in self.executions.values():
            execution.kill()
        self.executions.clear()
