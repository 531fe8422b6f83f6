"""Durable storage of runs: an fsynced journal, an atomic snapshot, a lock, step logs.

``FileRunStore`` keeps a run under ``<state root>/runs/<name>/``; ``MemoryRunStore`` is its
in-memory twin for tests. Both redact secrets from everything they store.
"""

from __future__ import annotations

from .error_reports import (
    ERROR_REPORT_SCHEMA,
    error_report_summary,
    find_error_reports,
    write_error_report,
)
from .errors import (
    InvalidRunName,
    RunExists,
    RunLocked,
    RunNotFound,
    SchemaMismatch,
    StateCorrupt,
)
from .filestore import FileRunStore, RunInfo, list_runs, run_names, safe_step_id
from .journal import Journal, read_journal
from .lock import RunLock, pid_alive
from .paths import errors_dir, project_root, run_name, runs_dir, state_root
from .runstore import LoadedRun, MemoryRunStore, MemorySpace, RunStore, check_run_name
from .snapshot import read_snapshot, write_snapshot

__all__ = [
    "ERROR_REPORT_SCHEMA",
    "FileRunStore",
    "InvalidRunName",
    "Journal",
    "LoadedRun",
    "MemoryRunStore",
    "MemorySpace",
    "RunExists",
    "RunInfo",
    "RunLock",
    "RunLocked",
    "RunNotFound",
    "RunStore",
    "SchemaMismatch",
    "StateCorrupt",
    "check_run_name",
    "error_report_summary",
    "errors_dir",
    "find_error_reports",
    "list_runs",
    "pid_alive",
    "project_root",
    "read_journal",
    "read_snapshot",
    "run_name",
    "run_names",
    "runs_dir",
    "safe_step_id",
    "state_root",
    "write_error_report",
    "write_snapshot",
]
