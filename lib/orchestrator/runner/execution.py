"""One attempt of a command step: its Run block, then its checks, all under one deadline.

The runner drives many executions from a single thread: it waits on their output pipes,
calls ``read_output`` when one is readable and ``poll`` to advance them.
"""

from __future__ import annotations

import codecs
import collections
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..plan.model import Phase
from . import checks, procs

__all__ = ["Outcome", "StepExecution"]

TAIL_LINES = 30


def _pidfd_open(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return opener(pid)
    except OSError:  # an old kernel, or the process is already gone
        return None


@dataclass(slots=True)
class Outcome:
    outcome: str  # completed | failed | timeout
    error: str | None = None
    checks: list[dict] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)  # last lines of the failing command's output
    permanent: bool = False  # no retry can help
    missing_files: list[str] = field(default_factory=list)
    failed_command: str | None = None
    cost_usd: float = 0.0
    note: str | None = None  # what the agent said about its work: kept, never the verdict

    def details(self) -> dict:
        """What a retry prompt needs to know about this failure."""
        data = {}
        if self.missing_files:
            data["missing_files"] = self.missing_files
        if self.failed_command:
            data["failed_command"] = self.failed_command
        if self.tail:
            data["tail"] = self.tail[-20:]
        return data


class StepExecution:
    """Runs a phase's Run block and checks as a queue of processes."""

    def __init__(self, *, phase: Phase, attempt: int, root: Path, env: dict[str, str],
                 log_path: Path | None, redactor, timeout_s: int | None,
                 blast_radius_command: str | None, watchdog: procs.Watchdog, now: float):
        self.phase = phase
        self.attempt = attempt
        self.root = root
        self.env = env
        self.redactor = redactor
        self.watchdog = watchdog
        self.started_at = now
        self.deadline = now + timeout_s if timeout_s else None
        self.timeout_s = timeout_s
        self.blast_radius_command = blast_radius_command
        self.queue: list[tuple[str, str]] = [("run", "\n".join(phase.run))] if phase.run else []
        self.checks_queued = False
        self.results: list[checks.CheckResult] = []
        self.outcome: Outcome | None = None
        self.proc = None
        self.label = ""
        self.current_script = ""
        self._fd: int | None = None
        self._pidfd: int | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self._stream = redactor.stream(self._write)

    def _write(self, text: str) -> None:
        for line in text.splitlines():
            self._tail.append(line)
        if self._log is not None:
            self._log.write(text)
            self._log.flush()

    def _header(self, text: str) -> None:
        self._stream.close()
        self._stream = self.redactor.stream(self._write)
        self._stream.feed(f"\n$ {text}\n")

    def start(self) -> None:
        self._next()

    def fds(self) -> list[int]:
        """File descriptors to wait on: the output pipe and, where the OS has them, a
        pidfd that becomes readable when the process exits."""
        return [fd for fd in (self._fd, self._pidfd) if fd is not None]

    def owns_pipe(self, fd: int) -> bool:
        return fd == self._fd

    def _launch(self, label: str, script: str) -> None:
        self.label = label
        self.current_script = script
        self._tail.clear()
        self._header(script if label == "run" else label)
        read_end, write_end = os.pipe()
        try:
            self.proc = procs.spawn(script, str(self.root), self.env, write_end)
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        self._fd = read_end
        self.watchdog.register(self.proc.pid)
        self._pidfd = _pidfd_open(self.proc.pid)

    def read_output(self) -> bool:
        """Read what is available; False once the pipe reached end of file."""
        if self._fd is None:
            return False
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            os.close(self._fd)
            self._fd = None
            self._stream.feed(self._decoder.decode(b"", final=True))
            return False
        self._stream.feed(self._decoder.decode(data))
        return True

    def _drain(self, limit_s: float = 1.0) -> None:
        """Read the rest of the output; give up after ``limit_s`` if something that left
        the process group still holds the pipe open."""
        give_up = time.monotonic() + limit_s
        while self._fd is not None and time.monotonic() < give_up:
            before = self._fd
            try:
                data = os.read(before, 65536)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            if not data:
                break
            self._stream.feed(self._decoder.decode(data))
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._stream.feed(self._decoder.decode(b"", final=True))

    def _finish_process(self) -> int:
        """Reap the process, kill what it left behind in its group, drain its output."""
        proc = self.proc
        returncode = proc.wait()
        self._close_pidfd()
        procs.kill_group(proc, grace_s=0.5)
        self._drain()
        self.watchdog.unregister(proc.pid)
        self.proc = None
        return returncode

    def poll(self, now: float) -> Outcome | None:
        """Advance the attempt; its Outcome once it is over."""
        if self.outcome is not None:
            return self.outcome
        if self.deadline is not None and now >= self.deadline and self.proc is not None:
            self.kill()
            self.outcome = Outcome("timeout", f"timed out after {self.timeout_s} s "
                                   f"(during {self.label})", self._check_dicts(),
                                   list(self._tail))
            self._close()
            return self.outcome
        if self.proc is None or self.proc.poll() is None:
            return None
        returncode = self._finish_process()
        if self.label == "run":
            if returncode != 0:
                return self._fail(f"Run block exited with status {returncode}")
            failed = self._queue_checks()
            if failed:
                return failed
        else:
            ok = returncode == 0
            self.results.append(checks.CheckResult(
                self.label, ok, "" if ok else f"exit status {returncode}"))
            if not ok:
                outcome = self._fail(f"check failed: {self.label} (exit status {returncode})")
                outcome.failed_command = self.current_script
                return outcome
        return self._next()

    def _queue_checks(self) -> Outcome | None:
        """In-process checks now; check commands queued. A failure ends the attempt."""
        self.checks_queued = True
        self.results += checks.file_checks(self.phase, self.root)
        self.results += checks.dependency_checks(self.phase, self.root)
        failed = [r for r in self.results if not r.ok]
        if failed:
            missing = [r.name.removeprefix("file ") for r in failed if r.name.startswith("file ")]
            outcome = self._fail("checks failed: " + "; ".join(
                f"{r.name}: {r.detail}" for r in failed))
            outcome.missing_files = missing
            return outcome
        self.queue += checks.check_commands(self.phase, self.blast_radius_command)
        return None

    def _next(self) -> Outcome | None:
        if not self.queue and not self.checks_queued:
            failed = self._queue_checks()  # no Run block: straight to the checks
            if failed:
                return failed
        if self.queue:
            label, script = self.queue.pop(0)
            self._launch(label, script)
            return None
        self.outcome = Outcome("completed", None, self._check_dicts())
        self._close()
        return self.outcome

    def _fail(self, error: str) -> Outcome:
        last = next((line for line in reversed(self._tail) if line.strip()), "")
        if last:
            error = f"{error}: {last.strip()[:200]}"
        self.outcome = Outcome("failed", error, self._check_dicts(), list(self._tail))
        self._close()
        return self.outcome

    def _check_dicts(self) -> list[dict]:
        return [result.to_dict() for result in self.results]

    def kill(self) -> None:
        """Stop the running process group at once (timeout, interrupt)."""
        if self.proc is not None:
            procs.kill_group(self.proc, grace_s=1.0)
            self._close_pidfd()
            self._drain()
            self.watchdog.unregister(self.proc.pid)
            self.proc = None

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def _close(self) -> None:
        self._close_pidfd()
        self._stream.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._log is not None:
            self._log.close()
            self._log = None
