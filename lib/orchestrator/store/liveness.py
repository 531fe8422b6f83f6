"""Whether a run that says "running" still has a runner: its lock file names the holder.

A runner killed with SIGKILL never journals its end, so its run still reads "running".
The lock file keeps the dead holder's pid (a clean release empties it), which tells a
reader, without taking the lock, that nobody is driving the run any more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestrator.engine.state import RunState, apply
from orchestrator.store.lock import pid_alive

__all__ = ["runner_gone", "as_seen"]

LOCK = "lock"


def runner_gone(run_dir: Path) -> bool:
    """True when no live process on this host holds the run in ``run_dir``."""
    try:
        fd = os.open(Path(run_dir) / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # cannot tell: believe the journal
    try:
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        holder = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        return False
    if not isinstance(holder, dict) or not holder:
        return True
    pid, host = holder.get("pid"), holder.get("host")
    if isinstance(host, str) and host != os.uname().nodename:
        return False  # another machine's runner: cannot tell
    return not (isinstance(pid, int) and pid_alive(pid))


def as_seen(state: RunState, run_dir: Path | None) -> RunState:
    """``state``, marked interrupted (steps in flight back to pending) when it says
    running but its runner is gone. The stored run is not changed."""
    if state.status != "running" or state.driver != "headless" or run_dir is None \
            or not runner_gone(run_dir):
        return state  # a `wf` run has no runner between calls
    return apply(state, {"type": "run_interrupted", "at": state.updated_at,
                         "reason": "the runner is gone (killed or crashed)"})
