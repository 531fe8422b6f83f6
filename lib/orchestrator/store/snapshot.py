"""The state snapshot: a JSON file replaced atomically, read back as a cache of the journal."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from ..engine.state import SCHEMA_VERSION
from .errors import SchemaMismatch

__all__ = ["write_snapshot", "read_snapshot", "encode_snapshot", "parse_snapshot",
           "write_atomic", "fsync_dir"]


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never a mix."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


def encode_snapshot(data: dict) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=True) + "\n").encode("ascii")


def parse_snapshot(raw: bytes | None, label: str) -> tuple[dict | None, str | None]:
    """The snapshot's data, or None and what is wrong with it (the caller rebuilds it).

    Raises SchemaMismatch for a snapshot written by a newer version.
    """
    if raw is None:
        return None, "is missing"
    if not raw.strip():
        return None, "is empty"
    try:
        data = json.loads(raw)
    except ValueError:
        return None, "is not valid JSON"
    if not isinstance(data, dict):
        return None, "does not hold a JSON object"
    schema = data.get("schema")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA_VERSION:
        raise SchemaMismatch(label, schema, SCHEMA_VERSION)
    return data, None


def write_snapshot(path: Path, data: dict) -> None:
    write_atomic(Path(path), encode_snapshot(data))


def read_snapshot(path: Path) -> dict | None:
    """The snapshot at ``path``; None when it is missing, empty or not a JSON object."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raw = None
    return parse_snapshot(raw, str(path))[0]
