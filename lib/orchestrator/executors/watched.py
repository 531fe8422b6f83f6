"""What both kinds of step execution share: a watched child process, and the log its
output streams into (redacted on the way, last lines kept for error messages).
"""

from __future__ import annotations

import codecs
import collections
import os
import re
import subprocess
import time
from pathlib import Path

from orchestrator.executors import procs
from orchestrator.store import safefs
from orchestrator.store.bounds import clip_line

__all__ = ["OutputLog", "WatchedProcess", "BASH", "spawn_script", "failed_line"]

BASH = ["bash", "-o", "pipefail", "-e", "-c"]
TAIL_LINES = 30
MAX_CAPTURE = 4 * 1024 * 1024


class OutputLog:
    """A step attempt's output file. Text is redacted as it streams; the last lines are
    kept, and with ``capture`` the whole (redacted) text of the current command too."""

    def __init__(self, path: Path | None, redactor, capture: bool = False):
        self.redactor = redactor
        self.capture = capture
        # Opened once, never through a symbolic link (a planted one is refused: UnsafePath).
        self._file = os.fdopen(safefs.open_for_append(path), "a", encoding="utf-8") \
            if path else None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._captured: list[str] = []
        self._size = 0
        self._stream = redactor.stream(self._write)

    def _write(self, text: str) -> None:
        self._tail.extend(clip_line(line) for line in text.splitlines())
        if self.capture:
            self._captured.append(text)
            self._size += len(text)
            while self._size > MAX_CAPTURE and len(self._captured) > 1:
                self._size -= len(self._captured.pop(0))
        if self._file is not None:
            self._file.write(text)
            self._file.flush()

    def feed(self, text: str) -> None:
        self._stream.feed(text)

    def begin(self, title: str) -> None:
        """Start the output of a new command: flush the last one, write ``$ title``."""
        self.flush()
        self._tail.clear()
        self._captured.clear()
        self._size = 0
        self._stream.feed(f"\n$ {title}\n")

    def flush(self) -> None:
        """Write out a partial last line (a stream holds it back until its newline)."""
        self._stream.close()
        self._stream = self.redactor.stream(self._write)

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        return list(self._tail)[-lines:]

    def text(self) -> str:
        return "".join(self._captured)

    def close(self) -> None:
        self._stream.close()
        if self._file is not None:
            self._file.close()
            self._file = None


class WatchedProcess:
    """A child in its own process group, registered with the watchdog, whose merged
    output is read without blocking into an OutputLog.

    ``fds()`` are what the runner waits on: the output pipe and a pidfd that becomes
    readable when the process exits (where the OS has pidfds).
    """

    def __init__(self, argv: list[str], *, cwd: str, env: dict[str, str], stdin,
                 watchdog: procs.Watchdog, log: OutputLog):
        self.watchdog = watchdog
        self.log = log
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        read_end, write_end = os.pipe()
        try:
            self.proc = procs.spawn_argv(argv, cwd, env, stdin, write_end)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        self._fd: int | None = read_end
        self.watchdog.register(self.proc.pid)
        self._token = env.get(procs.TOKEN_ENV)
        self._pidfd = _pidfd_open(self.proc.pid)
        self.returncode: int | None = None

    def fds(self) -> list[int]:
        return [fd for fd in (self._fd, self._pidfd) if fd is not None]

    def owns_pipe(self, fd: int) -> bool:
        return fd == self._fd

    def read_output(self) -> bool:
        """Read what is available; False once the pipe reached end of file."""
        if self._fd is None:
            return False
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            self._close_pipe()
            return False
        self.log.feed(self._decoder.decode(data))
        return True

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def finish(self) -> int:
        """Reap the process, kill what it left behind in its group, drain its output."""
        self.returncode = self.proc.wait()
        self._release(grace_s=0.5)
        procs.forget(self.proc.pid)
        return self.returncode

    def kill(self) -> None:
        """Stop the whole group at once (timeout, interrupt)."""
        self._release(grace_s=1.0)
        self.returncode = self.proc.poll()
        procs.forget(self.proc.pid)

    def _release(self, grace_s: float) -> None:
        procs.kill_group(self.proc, grace_s=grace_s)
        if self._token:
            procs.kill_strays(self._token)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._drain()
        self.watchdog.unregister(self.proc.pid)

    def _drain(self, limit_s: float = 1.0) -> None:
        """Read the rest of the output; give up after ``limit_s`` if something that left
        the process group still holds the pipe open."""
        give_up = time.monotonic() + limit_s
        while self._fd is not None and time.monotonic() < give_up:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            if not data:
                break
            self.log.feed(self._decoder.decode(data))
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self.log.feed(self._decoder.decode(b"", final=True))


def _pidfd_open(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return opener(pid)
    except OSError:  # an old kernel, or the process is already gone
        return None


# One line before the script: when a command ends the script, bash names it and its line
# (LINENO counts this line too). ERR fires exactly where `set -e` would exit.
_ERR_TRAP = ("trap '__orchestrate_status=$?; printf \"\\norchestrate: line %s failed (exit %s): "
             "%s\\n\" \"$((LINENO - 1))\" \"$__orchestrate_status\" \"$BASH_COMMAND\" >&2' ERR")
_FAILED_LINE = re.compile(r"^orchestrate: line (\d+) failed \(exit (\d+)\): (.*)$")


def spawn_script(script: str, *, cwd: str, env: dict[str, str], watchdog: procs.Watchdog,
                 log: OutputLog) -> WatchedProcess:
    """``script`` as one ``bash -e -o pipefail`` script with no input (stdin is
    /dev/null and there is no controlling terminal, so nothing can wait for a keyboard).
    """
    return WatchedProcess([*BASH, _ERR_TRAP + "\n" + script], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, watchdog=watchdog, log=log)


def failed_line(tail: list[str]) -> tuple[int, int, str] | None:
    """(line within the script, exit status, command) of the command that ended a script,
    read from its output's last lines; None when it did not say."""
    for text in reversed(tail):
        found = _FAILED_LINE.match(text.strip())
        if found:
            return int(found.group(1)), int(found.group(2)), found.group(3)
    return None
