"""Reading a plan file from disk: every failure becomes a PlanError naming the file."""

from __future__ import annotations

import os
import stat

from orchestrator.errors import PlanError

__all__ = ["read_plan_text", "decode_plan_bytes", "read_regular_bytes", "NotRegularFile",
           "MAX_PLAN_BYTES"]

MAX_PLAN_BYTES = 8 * 1024 * 1024  # far beyond any real plan; protects memory and time


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOCTTY", 0))
_KINDS = (
    (stat.S_ISDIR, "is a directory, not a plan file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be a plan, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((why for test, why in _KINDS if test(mode)), "is not a regular file")


class NotRegularFile(OSError):
    """A path that is there but is no regular file (a FIFO, a device, a folder)."""


def read_regular_bytes(path, limit: int) -> bytes:
    """Up to ``limit`` + 1 bytes of the regular file ``path``, never blocking: a FIFO, a
    device or a folder raises NotRegularFile (with why), before and after the open."""
    why = _not_regular(os.stat(path).st_mode)
    if why:
        raise NotRegularFile(why)
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as handle:
        why = _not_regular(os.fstat(handle.fileno()).st_mode)
        if why:
            raise NotRegularFile(why)
        return handle.read(limit + 1)


def read_plan_text(path: str) -> str:
    """Return the text of the plan at ``path``; raise PlanError when it cannot be used.

    Only a regular file is read. It is checked before opening, so a device is never opened,
    and again on the open descriptor; the open never blocks (O_NONBLOCK), so a FIFO with no
    writer cannot hang the reader.
    """
    try:
        why = _not_regular(os.stat(path).st_mode)
        if why:
            raise PlanError(path, 0, why)
        fd = os.open(path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            why = _not_regular(info.st_mode)
            if why:
                raise PlanError(path, 0, why)
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise PlanError(path, 0, "no such file") from None
    except IsADirectoryError:
        raise PlanError(path, 0, "is a directory, not a plan file") from None
    except PermissionError:
        raise PlanError(path, 0, "permission denied") from None
    except OSError as exc:
        raise PlanError(path, 0, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_PLAN_BYTES:
        size_mb = max(info.st_size, len(data)) / (1024 * 1024)
        raise PlanError(
            path, 0, f"file is too large for a plan ({size_mb:.1f} MiB, limit 8 MiB)"
        )
    return decode_plan_bytes(path, data)


def decode_plan_bytes(path: str, data: bytes) -> str:
    """Decode plan bytes; a NUL byte means a binary file, invalid UTF-8 is replaced."""
    nul = data.find(b"\0")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise PlanError(path, line, "binary file (NUL byte), not a Markdown plan")
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
