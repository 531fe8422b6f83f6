"""Child processes of a run: each in its own process group, none outliving the runner.

Two guards keep step processes from surviving a runner that is killed with SIGKILL:
the direct child gets a parent-death signal (Linux prctl), and a small watchdog process
holds the read end of a pipe from the runner; when the runner dies the pipe closes and the
watchdog kills every process group still registered with it, grandchildren included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

__all__ = ["Watchdog", "spawn_argv", "kill_group", "group_alive"]

_WATCHDOG = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    line = line.strip()
    if line.startswith("+"):
        groups.add(int(line[1:]))
    elif line.startswith("-"):
        groups.discard(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    """Kills registered process groups when the runner goes away, however it goes."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def _send(self, line: str) -> None:
        if self._proc.stdin is None:
            return
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def register(self, group: int) -> None:
        self._send(f"+{group}")

    def unregister(self, group: int) -> None:
        self._send(f"-{group}")

    def close(self) -> None:
        """Normal shutdown: groups still registered are killed, then the watchdog exits."""
        if self._proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def spawn_argv(argv: list[str], cwd: str, env: dict[str, str], stdin, output) -> subprocess.Popen:
    """Start ``argv`` (no shell) in a new session, stdin from ``stdin``, output merged."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=stdin, stdout=output, stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=_die_with_parent,
    )


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_group(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    """SIGTERM the process group led by ``proc``, SIGKILL what is left after ``grace_s``.

    ``proc`` is reaped on the way, so that a zombie leader does not look alive.
    """
    group = proc.pid
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        proc.poll()
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(group):
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
