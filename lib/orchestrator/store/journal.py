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

from .errors import StateCorrupt
from .snapshot import fsync_dir

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
        except ValueError:  # bad JSON or bad UTF-8
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
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
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
    data = Path(path).read_bytes()
    events, torn, good = parse_journal(data, str(path))
    if torn is None:
        return events, []
    repaired = repair and truncate_tail(Path(path), good, len(data))
    return events, [torn_warning(str(path), torn, repaired)]


class Journal:
    """An open journal file for appending; created (and its directory fsynced) on first use."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def append(self, event: dict) -> None:
        self.append_line(encode_event(event))

    def append_line(self, line: bytes, exclusive: bool = False) -> None:
        """Append one encoded line, durably. ``exclusive``: the file must not exist yet
        (FileExistsError otherwise). On failure the file is cut back to where it was.
        """
        created = self._open(exclusive)
        fd = self._fd
        before = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(errno.EIO, f"short write to {self.path} ({written} of "
                                         f"{len(line)} bytes)")
            os.fsync(fd)
        except BaseException:
            self._undo(created, before)
            raise
        if created:
            fsync_dir(self.path.parent)

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
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            self._fd = os.open(self.path, flags | os.O_EXCL, 0o600)
            return True
        except FileExistsError:
            if exclusive:
                raise
        self._fd = os.open(self.path, flags, 0o600)
        return False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
