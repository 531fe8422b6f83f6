"""Which of its records an /execute-plan run keeps: the plan file it may update (never a link
and never outside the project) and the day's log, noted in the run's folder so that every
driver and listener reads the same answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.store import safefs

__all__ = ["EXECUTE_PLAN", "enable", "enabled", "stat_regular", "writable_plan"]

EXECUTE_PLAN = "execute-plan.json"  # in the run's folder: this run keeps the plan's records


def enable(run_dir: Path, plan_path: str | None, log_path: Path) -> None:
    """Keep this run's records for /execute-plan (``plan_path`` None: no checkpoints)."""
    data = {"plan": plan_path, "log": str(log_path)}
    safefs.write_atomic(Path(run_dir) / EXECUTE_PLAN, json.dumps(data).encode())


def enabled(run_dir: Path | None) -> dict | None:
    if run_dir is None:
        return None
    try:
        data = json.loads((Path(run_dir) / EXECUTE_PLAN).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def writable_plan(root: Path, plan_path: str) -> tuple[Path | None, str | None]:
    """The plan file the checkpoints may be written into, or (None, why not).

    Only a regular file inside the project, reached without a link: a plan committed as a
    symbolic link would have the checkpoints written into its target, anywhere.
    """
    import os

    given = Path(os.path.abspath(plan_path))
    where = Path(os.path.realpath(given.parent)) / given.name  # the folders the user chose
    name = Path(plan_path).name
    try:
        where.relative_to(Path(root).resolve())
    except ValueError:
        return None, f"{name} lies outside the project"
    try:
        info = safefs.probe(where)
    except safefs.UnsafePath:
        info = None
    if info is None or not stat_regular(info):
        return None, f"{name} is a symbolic link or not a regular file"
    return where, None


def stat_regular(info) -> bool:
    import stat

    return stat.S_ISREG(info.st_mode)
