"""Durable storage of runs: an fsynced journal, an atomic snapshot, a lock, step logs.

``FileRunStore`` keeps a run under ``<state root>/runs/<name>/``; ``MemoryRunStore`` is its
in-memory twin for tests. Both redact secrets from everything they store. The run's copy
of its plan and phases, checkpoints and error reports live here too. Imports ``engine``
(the state it folds), ``plan`` and the base modules; imported by ``render`` and above.

Names are exported lazily: importing ``orchestrator.store.paths`` (as the checkpoint
commands do) must not load the journal, the lock and the redactor.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "error_reports": ("ERROR_REPORT_SCHEMA", "error_report_summary", "find_error_reports",
                      "write_error_report"),
    "errors": ("InvalidRunName", "RunExists", "RunLocked", "RunNotFound", "SchemaMismatch",
               "StateChanged", "StateCorrupt"),
    "filestore": ("FileRunStore", "RunInfo", "list_runs", "run_names", "safe_step_id"),
    "journal": ("Journal", "read_journal"),
    "lock": ("RunLock", "pid_alive"),
    "paths": ("errors_dir", "project_root", "run_name", "runs_dir", "state_root"),
    "runstore": ("LoadedRun", "MemoryRunStore", "MemorySpace", "RunStore", "check_run_name"),
    "safefs": ("UnsafePath",),
    "snapshot": ("read_snapshot",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
