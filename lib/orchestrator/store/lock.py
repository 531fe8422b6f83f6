"""One writer per run: an exclusive ``flock`` on the run's folder and on its lock file,
which names its holder.

The kernel drops a ``flock`` when its holder dies, so a lock file left by a crash is free to
take; its content (pid, host, start time) only serves messages. The folder is locked too,
so deleting the lock file while a run holds it does not let a second writer in. The
descriptors are close-on-exec: step processes that outlive the runner never keep the run
locked. The lock file is opened without following a symbolic link.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.store import safefs
from orchestrator.store.errors import RunLocked

__all__ = ["RunLock", "pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this host)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _read_holder(fd: int) -> dict:
    try:
        raw = os.pread(fd, 4096, 0)
        holder = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError, RecursionError):
        return {}
    return holder if isinstance(holder, dict) else {}


class RunLock:
    """``with RunLock(path, name) as lock:`` holds the run; ``lock.notice`` says whether a
    lock left by a dead process was taken over. A held lock raises RunLocked at once, or
    after ``wait_s`` seconds of trying (the `wf` calls hold a run for a moment each).
    """

    __slots__ = ("path", "name", "notice", "wait_s", "_fd", "_folder_fd")

    def __init__(self, path: Path, name: str | None = None, wait_s: float = 0.0):
        self.path = Path(path)
        self.name = name or self.path.parent.name
        self.wait_s = wait_s
        self.notice: str | None = None
        self._fd: int | None = None
        self._folder_fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    @property
    def fd(self) -> int | None:
        return self._fd

    def acquire(self) -> str | None:
        """Take the lock; returns a notice when a dead holder's lock was taken over."""
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                return self._acquire_once()
            except RunLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _acquire_once(self) -> str | None:
        if self._fd is not None:
            raise RuntimeError(f"lock {self.path} is already held by this object")
        folder = safefs.open_dir(self.path.parent)
        try:
            try:
                fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._locked(self._holder_in(folder)) from None
            fd = self._lock_file(folder)
        except BaseException:
            os.close(folder)
            raise
        self.notice = self._takeover_notice(_read_holder(fd))
        me = {"pid": os.getpid(), "host": os.uname().nodename, "started_at": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode() + b"\n", 0)
        self._fd, self._folder_fd = fd, folder
        return self.notice

    def _lock_file(self, folder: int) -> int:
        """The lock file, flocked. It must still be the file at the path once locked (it
        may have been removed or replaced meanwhile): if not, lock the new one."""
        for _ in range(5):
            fd = safefs.open_at(folder, self.path.name, os.O_RDWR | os.O_CREAT, 0o644,
                                label=self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _same_file(fd, folder, self.path.name):
                    return fd
            except BlockingIOError:
                holder = self._wait_for_holder(fd)
                os.close(fd)
                raise self._locked(holder) from None
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise OrchestrateError(f"the lock file {self.path} keeps being replaced while it is "
                               f"taken; is something deleting it?")

    def _holder_in(self, folder: int) -> dict:
        """The holder named by the lock file (a folder is locked without one: {})."""
        try:
            fd = safefs.open_at(folder, self.path.name, os.O_RDONLY | os.O_NONBLOCK,
                                label=self.path, action="read")
        except (OSError, OrchestrateError):
            return {}
        try:
            return self._wait_for_holder(fd)
        finally:
            os.close(fd)

    def _locked(self, holder: dict) -> RunLocked:
        pid = holder.get("pid")
        return RunLocked(self.name, pid if isinstance(pid, int) else None, _other_host(holder))

    def release(self) -> None:
        """Clear the holder's name from the file and let go; a no-op when not held."""
        fd, self._fd = self._fd, None
        folder, self._folder_fd = self._folder_fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the only descriptors drops the flocks
            if folder is not None:
                os.close(folder)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _takeover_notice(self, holder: dict) -> str | None:
        pid = holder.get("pid")
        if not isinstance(pid, int) or pid == os.getpid():
            return None
        if _other_host(holder):
            return (f"took over the lock of run {self.name} from pid {pid} on "
                    f"{holder['host']}, which no longer holds it")
        if pid_alive(pid):  # the pid was reused by an unrelated process
            return (f"took over the lock of run {self.name} left by pid {pid}, which no "
                    f"longer holds it")
        return (f"took over the lock of run {self.name} from pid {pid}, which is no longer "
                f"running")

    @staticmethod
    def _wait_for_holder(fd: int) -> dict:
        """The holder's record; it may be a moment behind its flock, so look a few times."""
        for _ in range(5):
            holder = _read_holder(fd)
            if holder:
                return holder
            time.sleep(0.02)
        return {}


def _same_file(fd: int, folder: int, name: str) -> bool:
    try:
        here = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _other_host(holder: dict) -> str | None:
    host = holder.get("host")
    return host if isinstance(host, str) and host != os.uname().nodename else None
