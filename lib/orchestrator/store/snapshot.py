"""The state snapshot: a JSON file replaced atomically, read back as a cache of the journal."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.engine.state import SCHEMA_VERSION
from orchestrator.store import safefs
from orchestrator.store.errors import SchemaMismatch

__all__ = ["read_snapshot", "encode_snapshot", "parse_snapshot",
           "write_atomic", "fsync_dir"]


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    safefs.fsync_dir(path)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never a mix.
    No symbolic link is followed on the way, and one at ``path`` is refused (UnsafePath).
    """
    safefs.write_atomic(path, data)


def encode_snapshot(data: dict) -> bytes:
    """Compact JSON: ``indent`` would take json's pure-Python encoder, several times slower
    on a large run (``jq . state.json`` reads it fine)."""
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


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
    except (ValueError, RecursionError):
        return None, "is not valid JSON"
    if not isinstance(data, dict):
        return None, "does not hold a JSON object"
    schema = data.get("schema")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA_VERSION:
        raise SchemaMismatch(label, schema, SCHEMA_VERSION)
    return data, None



def read_snapshot(path: Path) -> dict | None:
    """The snapshot at ``path``; None when it is missing, empty or not a JSON object."""
    try:
        raw = safefs.read_regular(path)
    except FileNotFoundError:
        raw = None
    return parse_snapshot(raw, str(path))[0]
