"""Which run belongs to which plan: a run name is owned by one plan path.

A run is named after its plan's file stem (the seeds' "phase name"). Two plans with the
same stem in different folders (``specs/a/tasks.md``, ``specs/b/tasks.md``), or stems that
fold to the same name (``日本.md`` and ``中国.md`` both give ``run``), must not share a run:
the second plan gets the stem plus a short hash of its path. No run is ever replaced by
another plan's run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.store.paths import MAX_NAME, run_name

__all__ = ["run_name_for_plan", "recorded_plan_path", "plan_key"]

JOURNAL = "journal.jsonl"
_FIRST_LINE_LIMIT = 256 << 20  # run_started holds every step spec; far beyond any plan


def plan_key(plan_path: str | os.PathLike) -> str:
    """The plan path as runs record it (absolute, symlinks resolved)."""
    return str(Path(plan_path).resolve())


def recorded_plan_path(run_dir: Path) -> str | None:
    """The plan path recorded by the run in ``run_dir`` (its first journal event), or None
    when there is no readable run there."""
    try:
        fd = os.open(Path(run_dir) / JOURNAL, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks, size = [], 0
        while size < _FIRST_LINE_LIMIT:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            newline = chunk.find(b"\n")
            chunks.append(chunk if newline < 0 else chunk[:newline])
            size += len(chunk)
            if newline >= 0:
                break
    finally:
        os.close(fd)
    try:
        first = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        return None
    path = first.get("plan_path") if isinstance(first, dict) else None
    return path if isinstance(path, str) else None


def run_name_for_plan(runs_dir: Path, plan_path: str | os.PathLike) -> str:
    """The run name of ``plan_path``: its stem's name when that is free or already this
    plan's, else the stem plus a hash of the path."""
    key = plan_key(plan_path)
    base = run_name(Path(plan_path).stem)
    import hashlib

    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    suffixed = f"{base[:MAX_NAME - 9].rstrip('.-')}-{digest}"
    for candidate in (base, suffixed):
        owner = recorded_plan_path(Path(runs_dir) / candidate)
        if owner is None or owner == key:
            return candidate
    raise OrchestrateError(f"the runs {base} and {suffixed} both belong to other plans "
                           f"({recorded_plan_path(Path(runs_dir) / base)}, "
                           f"{recorded_plan_path(Path(runs_dir) / suffixed)}); remove one "
                           f"under {runs_dir}")
