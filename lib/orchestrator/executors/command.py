"""One attempt of a command step: its Run block, then its checks, all under one deadline.

The runner drives many executions from a single thread: it waits on their ``fds()``, calls
``read_output`` when a pipe is readable and ``poll`` to advance them.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.outcome import Outcome
from orchestrator.executors import procs
from orchestrator.executors.watched import OutputLog, WatchedProcess, failed_line, spawn_script
from orchestrator.plan.model import Phase
from orchestrator.verify import checks, contract
from orchestrator.verify.verdict import verdict

__all__ = ["Outcome", "StepExecution", "run_to_end"]


class StepExecution:
    """Runs a phase's Run block (if any) and then its checks, one process at a time."""

    def __init__(self, *, phase: Phase, attempt: int, root: Path, env: dict[str, str],
                 log_path: Path | None, redactor, timeout_s: int | None,
                 blast_radius_command: str | None, watchdog: procs.Watchdog, now: float,
                 log: OutputLog | None = None):
        self.phase = phase
        self.attempt = attempt
        self.root = root
        self.env = env
        self.watchdog = watchdog
        self.started_at = now
        self.deadline = now + timeout_s if timeout_s else None
        self.timeout_s = timeout_s
        self.blast_radius_command = blast_radius_command
        self.queue: list[checks.Command] = checks.run_commands(phase)
        self.checks_queued = False
        self.results: list[checks.CheckResult] = []
        self.outcome: Outcome | None = None
        self.process: WatchedProcess | None = None
        self.current: checks.Command | None = None
        self.log = log if log is not None else OutputLog(log_path, redactor)

    def start(self) -> None:
        self._next()

    def fds(self) -> list[int]:
        return self.process.fds() if self.process is not None else []

    def owns_pipe(self, fd: int) -> bool:
        return self.process is not None and self.process.owns_pipe(fd)

    def read_output(self) -> bool:
        return self.process.read_output() if self.process is not None else False

    @property
    def label(self) -> str:
        return self.current.label if self.current is not None else ""

    def _launch(self, command: checks.Command) -> None:
        self.current = command
        self.log.begin(command.label)
        self.process = spawn_script(command.script, cwd=str(self.root), env=self.env,
                                    watchdog=self.watchdog, log=self.log)

    def poll(self, now: float) -> Outcome | None:
        """Advance the attempt; its Outcome once it is over."""
        if self.outcome is not None:
            return self.outcome
        if self.deadline is not None and now >= self.deadline and self.process is not None:
            self.kill()
            self.outcome = Outcome("timeout", f"timed out after {self.timeout_s} s "
                                   f"(during {self.label})", self._check_dicts(),
                                   self.log.tail())
            self._close()
            return self.outcome
        if self.process is None or not self.process.exited():
            return None
        returncode = self.process.finish()
        self.process = None
        command = self.current
        if command.field == "run":
            if returncode != 0:
                return self._fail(f"Run block{self._where(command)} exited with status "
                                  f"{returncode}{self._failing_line(command)}")
        else:
            result = checks.CheckResult(command.label, returncode == 0,
                                        "" if returncode == 0 else f"exit status {returncode}",
                                        command=command.script)
            self.results.append(result)
            if not result.ok:
                result.error = self._with_last_line(
                    f"check failed: {command.label} (exit status {returncode})"
                    f"{self._failing_line(command)}")
                result.tail = self.log.tail()
                return self._judge()
        return self._next()

    @staticmethod
    def _where(command: checks.Command) -> str:
        return f" at plan line {command.line}" if command.line else ""

    def _failing_line(self, command: checks.Command) -> str:
        """``; failed at plan line 14: make test`` when bash said which command ended it."""
        self.log.flush()
        found = failed_line(self.log.tail())
        if found is None:
            return ""
        line, _, text = found
        lines = command.script.splitlines()
        source = lines[line - 1].strip() if 0 < line <= len(lines) else text
        where = f"plan line {command.line + line - 1}" if command.line else f"line {line}"
        return f"; failed at {where}: {source[:200]}"

    def _queue_checks(self) -> Outcome | None:
        """In-process checks now; check commands queued. A failure ends the attempt."""
        self.checks_queued = True
        self.results += contract.file_checks(self.phase, self.root)
        self.results += checks.dependency_checks(self.phase, self.root)
        if not all(result.ok for result in self.results):
            return self._judge()
        self.queue += checks.check_commands(self.phase, self.blast_radius_command)
        return None

    def _next(self) -> Outcome | None:
        if not self.queue and not self.checks_queued:
            failed = self._queue_checks()  # no Run block: straight to the checks
            if failed:
                return failed
        if self.queue:
            self._launch(self.queue.pop(0))
            return None
        return self._judge()

    def _judge(self) -> Outcome:
        """The checks are over (all passed, or one failed): the engine's verdict."""
        self.outcome = verdict(phase_type=self.phase.type, changes=None, results=self.results)
        self._close()
        return self.outcome

    def _with_last_line(self, error: str) -> str:
        self.log.flush()
        last = next((line for line in reversed(self.log.tail())
                     if line.strip() and failed_line([line]) is None), "")
        return f"{error}: {last.strip()[:200]}" if last else error

    def _fail(self, error: str) -> Outcome:
        """The Run block failed: the attempt fails before any check."""
        error = self._with_last_line(error)
        self.outcome = Outcome("failed", error, self._check_dicts(), self.log.tail())
        self._close()
        return self.outcome

    def _check_dicts(self) -> list[dict]:
        return [result.to_dict() for result in self.results]

    def kill(self) -> None:
        """Stop the running process group at once (timeout, interrupt)."""
        if self.process is not None:
            self.process.kill()
            self.process = None

    def _close(self) -> None:
        self.log.close()


def run_to_end(execution: StepExecution) -> Outcome:
    """Drive one execution until it is over, in this process (the `wf` driver's calls)."""
    import select
    import time

    execution.start()
    while True:
        outcome = execution.poll(time.monotonic())
        if outcome is not None:
            return outcome
        fds = execution.fds()
        timeout = 0.5
        if execution.deadline is not None:
            timeout = max(0.0, min(timeout, execution.deadline - time.monotonic()))
        if not fds:
            time.sleep(min(timeout, 0.05))
            continue
        readable, _, _ = select.select(fds, [], [], timeout)
        for fd in readable:
            if execution.owns_pipe(fd):
                execution.read_output()
