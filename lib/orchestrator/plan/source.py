"""Reading a plan file from disk: every failure becomes a PlanError naming the file."""

from __future__ import annotations

import os

from ..errors import PlanError

__all__ = ["read_plan_text", "decode_plan_bytes", "MAX_PLAN_BYTES"]

MAX_PLAN_BYTES = 8 * 1024 * 1024  # far beyond any real plan; protects memory and time


def read_plan_text(path: str) -> str:
    """Return the text of the plan at ``path``; raise PlanError when it cannot be used."""
    try:
        with open(path, "rb") as handle:
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
        size_mb = os.path.getsize(path) / (1024 * 1024)
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
