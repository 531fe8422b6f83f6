"""One attempt of an agent step: run the agent, read its reply, then check the evidence.

The agent's own account is kept as a note. The verdict comes from the disk: the working tree
changed (implementation phases), the expected files exist, the check commands pass.
Transient service errors are waited out with backoff inside the attempt; permanent ones
end it at once.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .. import evidence
from ..agents.backend import AgentReply, AgentRequest
from ..failures import Backoff, classify_error
from ..plan.model import Phase
from . import procs
from .execution import Outcome, StepExecution, _pidfd_open

__all__ = ["AgentExecution"]

MAX_OUTPUT = 4 * 1024 * 1024


class AgentExecution:
    """Same driving interface as StepExecution: fds, owns_pipe, read_output, poll, kill."""

    def __init__(self, *, phase: Phase, attempt: int, root: Path, env: dict[str, str],
                 log_path: Path | None, redactor, backend, request: AgentRequest,
                 timeout_s: int | None, blast_radius_command: str | None,
                 watchdog: procs.Watchdog, now: float, exclude: list[Path],
                 backoff: Backoff, on_wait: Callable[[float, object], None],
                 others_files: Callable[[], list[str]]):
        self.phase = phase
        self.attempt = attempt
        self.root = root
        self.env = env
        self.log_path = log_path
        self.redactor = redactor
        self.backend = backend
        self.request = request
        self.timeout_s = timeout_s
        self.blast_radius_command = blast_radius_command
        self.watchdog = watchdog
        self.started_at = now
        self.deadline = now + timeout_s if timeout_s else None
        self.exclude = exclude
        self.backoff = backoff
        self.on_wait = on_wait
        self.others_files = others_files
        self.cost_usd = 0.0
        self.outcome: Outcome | None = None
        self.wake_at: float | None = None
        self.checks: StepExecution | None = None
        self.reply: AgentReply | None = None
        self.proc: subprocess.Popen | None = None
        self._fd: int | None = None
        self._pidfd: int | None = None
        self._output: list[str] = []
        self._size = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self._stream = redactor.stream(self._write)
        self.before = evidence.take_snapshot(root, exclude)

    def _write(self, text: str) -> None:
        self._output.append(text)
        self._size += len(text)
        while self._size > MAX_OUTPUT and len(self._output) > 1:
            self._size -= len(self._output.pop(0))
        if self._log is not None:
            self._log.write(text)
            self._log.flush()

    def start(self) -> None:
        argv = self.backend.argv(self.request)
        self._stream.feed(f"\n$ {argv[0]} ... (agent {self.request.agent_name}, "
                          f"prompt {self.request.prompt_file})\n")
        self._output.clear()
        self._size = 0
        read_end, write_end = os.pipe()
        try:
            with open(self.request.prompt_file, "rb") as prompt:
                self.proc = procs.spawn_argv(argv, str(self.root), self.env, prompt, write_end)
        except FileNotFoundError:
            os.close(read_end)
            self._finish(Outcome("failed", f"agent command not found: {argv[0]} (install "
                                 "Claude Code, or set --agent-cmd)", permanent=True))
            return
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        self._fd = read_end
        self._pidfd = _pidfd_open(self.proc.pid)
        self.watchdog.register(self.proc.pid)

    def fds(self) -> list[int]:
        if self.checks is not None:
            return self.checks.fds()
        return [fd for fd in (self._fd, self._pidfd) if fd is not None]

    def owns_pipe(self, fd: int) -> bool:
        return self.checks.owns_pipe(fd) if self.checks is not None else fd == self._fd

    def read_output(self) -> bool:
        if self.checks is not None:
            return self.checks.read_output()
        if self._fd is None:
            return False
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            self._close_pipe()
            return False
        self._stream.feed(self._decoder.decode(data))
        return True

    def _close_pipe(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._stream.feed(self._decoder.decode(b"", final=True))

    def _drain(self) -> None:
        give_up = time.monotonic() + 1.0
        while self._fd is not None and time.monotonic() < give_up:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            if not data:
                break
            self._stream.feed(self._decoder.decode(data))
        self._close_pipe()

    def _reap(self) -> int:
        returncode = self.proc.wait()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        procs.kill_group(self.proc, grace_s=0.5)
        self._drain()
        self.watchdog.unregister(self.proc.pid)
        self.proc = None
        return returncode

    def poll(self, now: float) -> Outcome | None:
        if self.outcome is not None:
            return self.outcome
        if self.deadline is not None and now >= self.deadline:
            self.kill()
            return self._finish(Outcome("timeout", f"timed out after {self.timeout_s} s"))
        if self.checks is not None:
            outcome = self.checks.poll(now)
            if outcome is not None:
                return self._finish(outcome)
            return None
        if self.wake_at is not None:
            if now < self.wake_at:
                return None
            self.wake_at = None
            self.start()
            return self.outcome
        if self.proc is None or self.proc.poll() is None:
            return None
        returncode = self._reap()
        self._stream.close()
        self._stream = self.redactor.stream(self._write)
        reply = self.backend.read("".join(self._output), returncode)
        self.reply = reply
        self.cost_usd += reply.cost_usd
        if not reply.ok:
            return self._failed_reply(reply, now)
        return self._check_evidence(now)

    def _failed_reply(self, reply: AgentReply, now: float) -> Outcome | None:
        verdict = classify_error(reply.result, status=reply.api_error_status,
                                 subtype=reply.subtype, exit_code=reply.exit_code)
        said = reply.result.strip().splitlines()[0][:300] if reply.result.strip() else ""
        if verdict.kind == "transient":
            delay = self.backoff.next_delay(verdict.retry_after_s)
            if delay is not None:
                self.on_wait(delay, verdict)
                self.wake_at = now + delay
                return None
            return self._finish(Outcome(
                "failed", f"{verdict.message}: {said}; gave up after waiting "
                          f"{self.backoff.total_waited:.0f} s over {len(self.backoff.waits)} "
                          "retries", tail=self._tail()))
        permanent = verdict.kind == "permanent"
        message = f"{verdict.message}: {said}" if said else verdict.message
        if permanent and verdict.suggestion:
            message += f". {verdict.suggestion}"
        return self._finish(Outcome("failed", message, permanent=permanent, tail=self._tail()))

    def _tail(self) -> list[str]:
        lines = "".join(self._output).splitlines()
        return lines[-20:]

    def _check_evidence(self, now: float) -> Outcome | None:
        if self.phase.type != "design":
            changes = evidence.diff_snapshots(self.before,
                                              evidence.take_snapshot(self.root, self.exclude))
            theirs = self.others_files()
            own = [path for path in changes.changed if path not in changes.touching(theirs)]
            if not own:
                missing = [f for f in self.phase.files if not (self.root / f).exists()]
                message = ("no changes on disk: the agent reported success but the working "
                           "tree did not change")
                if missing:
                    message += "; missing: " + ", ".join(missing)
                return self._finish(Outcome("failed", message, missing_files=missing))
        checked_phase = dataclasses.replace(self.phase, run=[])
        self.checks = StepExecution(
            phase=checked_phase, attempt=self.attempt, root=self.root, env=self.env,
            log_path=self.log_path, redactor=self.redactor, timeout_s=None,
            blast_radius_command=self.blast_radius_command, watchdog=self.watchdog, now=now)
        self.checks.start()
        outcome = self.checks.poll(now)
        return self._finish(outcome) if outcome is not None else None

    def _finish(self, outcome: Outcome) -> Outcome:
        outcome.cost_usd = self.cost_usd
        if self.reply is not None and self.reply.ok and self.reply.result:
            outcome.note = self.reply.result.strip()[:500]
        self.outcome = outcome
        self._close()
        return outcome

    def kill(self) -> None:
        if self.checks is not None:
            self.checks.kill()
        if self.proc is not None:
            procs.kill_group(self.proc, grace_s=1.0)
            self.proc.poll()
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            self._drain()
            self.watchdog.unregister(self.proc.pid)
            self.proc = None

    def _close(self) -> None:
        self._close_pipe()
        self._stream.close()
        if self._log is not None:
            self._log.close()
            self._log = None
