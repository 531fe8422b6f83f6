"""Child processes of a run: each in its own process group, none outliving the runner.

A small watchdog process keeps step processes from surviving a runner that is killed
with SIGKILL: it holds the read end of a pipe from the runner; when the runner dies the pipe
closes and the watchdog kills every process group still registered with it, grandchildren
included.

A process that leaves its step's group (``setsid``, a daemon) is still found: every step
process carries ``ORCHESTRATE_STEP_TOKEN`` in its environment, the runner is the
subreaper of its descendants (Linux), so such a process becomes the runner's child when its
parent exits, and it is killed when its step ends; the watchdog kills any left with the
run's token when the runner goes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

__all__ = ["Watchdog", "spawn_argv", "kill_group", "group_alive", "kill_strays",
           "become_subreaper", "TOKEN_ENV"]

TOKEN_ENV = "ORCHESTRATE_STEP_TOKEN"

_WATCHDOG = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
mark = ("%s=%s:" % (sys.argv[1], sys.argv[2])).encode()
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
for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
    if not entry.isdigit() or int(entry) == os.getpid():
        continue
    try:
        with open("/proc/%s/environ" % entry, "rb") as handle:
            if mark in handle.read():
                os.kill(int(entry), signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    """Kills registered process groups when the runner goes away, however it goes."""

    def __init__(self) -> None:
        self.token = os.urandom(8).hex()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, TOKEN_ENV, self.token], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        _KNOWN.add(self._proc.pid)

    def step_token(self, step_id: str, attempt: int) -> str:
        """The value of TOKEN_ENV for one attempt of a step."""
        return f"{self.token}:{step_id}:{attempt}"

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
        _KNOWN.discard(self._proc.pid)


_KNOWN: set[int] = set()  # children some Popen waits for: never reaped behind its back
_subreaper = False


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants (Linux; once per process)."""
    global _subreaper
    if not _subreaper and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            _subreaper = False
    return _subreaper


def _children() -> list[int]:
    """This process's children, from /proc (empty where it cannot tell)."""
    pids: list[int] = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children", "rb") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        except OSError:
            continue
    return pids


def kill_strays(token: str) -> list[int]:
    """Kill (and reap) the processes of a step that left its process group.

    Only children that carry the step's token and that no Popen waits for are touched.
    Returns the pids killed.
    """
    killed = []
    mark = f"{TOKEN_ENV}={token}".encode()
    for pid in _children():
        if pid in _KNOWN:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            environ = b""
        if mark + b"\0" not in environ and not environ.endswith(mark):
            continue
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return killed


def forget(pid: int) -> None:
    """``pid`` was reaped by its Popen: it is no longer a known child."""
    _KNOWN.discard(pid)


def spawn_argv(argv: list[str], cwd: str, env: dict[str, str], stdin, output) -> subprocess.Popen:
    """Start ``argv`` (no shell) in a new session, stdin from ``stdin``, output merged.

    No ``preexec_fn``: it would make every spawn wait on Python code in the child and rule
    out the fast vfork path. The watchdog kills the step's group if the runner dies.
    """
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=stdin, stdout=output, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _KNOWN.add(proc.pid)
    return proc


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
