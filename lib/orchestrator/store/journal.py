"""The journal: one JSON object per line, appended and fsynced before anyone acts on it.

An append is a single ``os.write`` on an ``O_APPEND`` descriptor, so a crash can only leave
a torn *last* line; readers drop it (and ``repair`` cuts it off). Anything else that does not
parse means the file was damaged, and the run is refused rather than guessed at.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from orchestrator.store import safefs
from orchestrator.store.errors import StateChanged, StateCorrupt

__all__ = ["Journal", "encode_event", "parse_journal", "read_journal", "truncate_tail",
           "torn_warning"]

_UNTOUCHED = "the run cannot be read (file left untouched)"


def encode_event(event: dict) -> bytes:
    """One compact JSON line; ASCII-only, so any string (even a lone surrogate) survives."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ValueError(f"a journal event is a dict with a 'type': {event!r:.200}")
    return (json.dumps(event, separators=(",", ":")) + "\n").encode("ascii")


def parse_journal(data: bytes, label: str) -> tuple[list[dict], int | None, int]:
    """Parse a journal's bytes: (events, line number of a dropped torn tail or None, length
    of the good part). Raises StateCorrupt for damage anywhere but the last line.
    """
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty unless the last write was torn
    events: list[dict] = []
    torn = len(lines) + 1 if tail else None
    good = len(data) - len(tail)
    loads = json.loads
    for number, line in enumerate(lines, 1):
        try:
            event = loads(line)
        except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurdly deep nesting
            event = None
        if not isinstance(event, dict):
            if number == len(lines) and torn is None:
                torn, good = number, good - len(line) - 1
                break
            problem = "not valid JSON" if event is None else "not a JSON object"
            raise StateCorrupt(label, number, f"journal line is {problem}; {_UNTOUCHED}")
        if not isinstance(event.get("type"), str):
            raise StateCorrupt(label, number, f'journal event has no "type"; {_UNTOUCHED}')
        events.append(event)
    if not events:
        raise StateCorrupt(label, None, "journal is empty: the run never started; start it "
                           "again with --fresh (file left untouched)")
    return events, torn, good


def torn_warning(label: str, line: int, repaired: bool) -> str:
    done = "cut it off" if repaired else "left it in the file"
    return (f"{label}:{line}: dropped the torn last line (a write that never finished); "
            f"{done}")


def truncate_tail(path: Path, length: int, expected_size: int) -> bool:
    """Cut ``path`` to ``length`` bytes if it still has ``expected_size``; fsync."""
    fd = safefs.open_file(path, os.O_WRONLY)
    try:
        if os.fstat(fd).st_size != expected_size:
            return False  # it changed since it was read: leave it alone
        os.ftruncate(fd, length)
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def read_journal(path: Path, repair: bool = False) -> tuple[list[dict], list[str]]:
    """A journal's events and warnings; ``repair`` cuts off a torn last line."""
    data = safefs.read_regular(path)
    events, torn, good = parse_journal(data, str(path))
    if torn is None:
        return events, []
    repaired = repair and truncate_tail(Path(path), good, len(data))
    return events, [torn_warning(str(path), torn, repaired)]


class Journal:
    """An open journal file for appending; created (and its directory fsynced) on first use.

    It writes only to the file it last wrote: before each append the file must still be
    at its path, with the size this journal left it at. Otherwise (a step deleted the
    run's folder, another process appended) StateChanged is raised and nothing written.
    """

    __slots__ = ("path", "_fd", "_id", "_size", "_broken")

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._id: tuple[int, int] | None = None
        self._size = 0
        self._broken: StateChanged | None = None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def append_line(self, line: bytes, exclusive: bool = False) -> None:
        """Append encoded lines (one or several) with one write and one fsync. ``exclusive``:
        the file must not exist yet (FileExistsError otherwise). On failure the file is cut
        back to where it was.
        """
        created = self._open(exclusive)
        self.verify()
        fd = self._fd
        before = self._size
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(errno.EIO, f"short write to {self.path} ({written} of "
                                         f"{len(line)} bytes)")
            os.fsync(fd)
        except BaseException:
            self._undo(created, before)
            raise
        self._size = before + written
        if created:
            safefs.fsync_dir(self.path.parent)

    def verify(self) -> None:
        """Raise StateChanged when the open file is no longer the one this journal wrote."""
        if self._broken is None and self._fd is not None:
            what = self._change()
            if what is not None:
                self._broken = StateChanged(str(self.path), what)
        if self._broken is not None:
            raise self._broken

    def intact(self) -> bool:
        """False when the file was deleted, replaced or appended to by someone else."""
        return self._broken is None and (self._fd is None or self._change() is None)

    def _change(self) -> str | None:
        status = os.fstat(self._fd)
        try:
            here = os.stat(self.path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return "deleted"
        if (here.st_dev, here.st_ino) != self._id:
            return "replaced"
        if status.st_size != self._size:
            return "appended to"
        return None

    def _undo(self, created: bool, size: int) -> None:
        try:
            if created:  # a journal that holds nothing must not exist
                self.close()
                os.unlink(self.path)
            else:
                os.ftruncate(self._fd, size)
        except OSError:
            pass

    def _open(self, exclusive: bool) -> bool:
        if self._fd is not None:
            if exclusive:
                raise FileExistsError(errno.EEXIST, "journal exists", str(self.path))
            return False
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        created = True
        try:
            fd = safefs.open_file(self.path, flags | os.O_EXCL, 0o600)
        except FileExistsError:
            if exclusive:
                raise
            fd = safefs.open_file(self.path, flags, 0o600)
            created = False
        status = os.fstat(fd)
        self._fd, self._id, self._size = fd, (status.st_dev, status.st_ino), status.st_size
        return created

    def close(self) -> None:
        """Let go of the file; a later append opens it afresh."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._id, self._size, self._broken = None, 0, None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
