"""Runs on disk: ``<runs_dir>/<name>/`` holds journal.jsonl, state.json, lock and steps/."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..engine.state import RunState
from ..errors import OrchestrateError
from ..redact import Redactor
from .errors import InvalidRunName, RunExists
from .journal import Journal, read_journal, truncate_tail
from .lock import RunLock
from .runstore import RunStore, check_run_name, replay_journal
from .snapshot import fsync_dir, read_snapshot, write_atomic

__all__ = ["FileRunStore", "RunInfo", "list_runs", "run_names", "safe_step_id"]

JOURNAL, SNAPSHOT, LOCK, STEPS, TRASH = "journal.jsonl", "state.json", "lock", "steps", ".trash"
_PLAIN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


def safe_step_id(step_id: str) -> str:
    """A step id as a file name part: as it is when plain, else cleaned plus a short hash
    (so distinct ids never share a log file).
    """
    if _PLAIN_ID.fullmatch(step_id):
        return step_id
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", step_id).strip(".-")[:40] or "step"
    return f"{cleaned}-{hashlib.sha256(step_id.encode()).hexdigest()[:8]}"


class FileRunStore(RunStore):
    """A run stored in files under ``runs_dir``."""

    def __init__(self, runs_dir: Path, name: str, redactor: Redactor | None = None):
        super().__init__(name, redactor)
        self.runs_dir = Path(runs_dir)
        self.run_dir = self.runs_dir / name
        self.journal_path = self.run_dir / JOURNAL
        self.snapshot_path = self.run_dir / SNAPSHOT
        self.lock_path = self.run_dir / LOCK
        self._journal = Journal(self.journal_path)
        self._lock: RunLock | None = None

    @property
    def journal_label(self) -> str:
        return str(self.journal_path)

    @property
    def snapshot_label(self) -> str:
        return str(self.snapshot_path)

    def exists(self) -> bool:
        return self.journal_path.is_file()

    def lock(self) -> RunLock:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock = RunLock(self.lock_path, self.name)
        return self._lock

    def step_log_path(self, step_id: str, attempt: int) -> Path:
        steps = self.run_dir / STEPS
        steps.mkdir(parents=True, exist_ok=True)
        return steps / f"{safe_step_id(step_id)}.{attempt}.log"

    def known_runs(self) -> list[str]:
        return run_names(self.runs_dir)

    def close(self) -> None:
        self._journal.close()

    def _journal_write(self, line: bytes, new: bool) -> None:
        if not new:
            self._journal.append_line(line)
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._journal.close()
        try:
            self._journal.append_line(line, exclusive=True)
        except FileExistsError:
            raise RunExists(self.name) from None
        fsync_dir(self.runs_dir)  # the run's directory may be new too

    def _journal_bytes(self) -> bytes:
        return self.journal_path.read_bytes()

    def _journal_cut(self, length: int, expected_size: int) -> bool:
        return truncate_tail(self.journal_path, length, expected_size)

    def _snapshot_bytes(self) -> bytes | None:
        try:
            return self.snapshot_path.read_bytes()
        except FileNotFoundError:
            return None

    def _snapshot_write(self, data: bytes) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.snapshot_path, data)

    def _holds_lock(self) -> bool:
        return self._lock is not None and self._lock.held

    def _clear(self) -> None:
        """Move everything but the lock file to the trash, journal first (from then on the
        run does not exist), then delete it. The lock stays, so whoever holds it still does.
        """
        self._journal.close()
        if self.run_dir.is_symlink():
            raise OrchestrateError(f"{self.run_dir} is a symbolic link; not removing it")
        if not self.run_dir.is_dir():
            return
        entries = sorted((e for e in self.run_dir.iterdir() if e.name != LOCK),
                         key=lambda entry: entry.name != JOURNAL)
        if not entries:
            return
        (self.runs_dir / TRASH).mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        trash = Path(tempfile.mkdtemp(prefix=f"{self.name}-{stamp}-", dir=self.runs_dir / TRASH))
        for entry in entries:
            os.rename(entry, trash / entry.name)
        shutil.rmtree(trash, ignore_errors=True)


def run_names(runs_dir: Path) -> list[str]:
    """The runs stored under ``runs_dir`` (directories with a journal), sorted."""
    try:
        entries = list(Path(runs_dir).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = []
    for entry in entries:
        try:
            check_run_name(entry.name)
        except InvalidRunName:
            continue
        if (entry / JOURNAL).is_file():
            names.append(entry.name)
    return sorted(names)


@dataclass
class RunInfo:
    """One line of ``orchestrate runs``."""

    name: str
    status: str
    plan_path: str
    created_at: float
    updated_at: float
    counts: dict[str, int]
    cost_usd: float = 0.0

    @classmethod
    def from_state(cls, state: RunState) -> RunInfo:
        counts = {status: n for status, n in state.counts().items() if n}
        return cls(state.name, state.status, state.plan_path, state.created_at,
                   state.updated_at, counts, state.cost_usd)

    @property
    def steps_total(self) -> int:
        return sum(self.counts.values())

    @property
    def steps_done(self) -> int:
        return self.counts.get("completed", 0) + self.counts.get("skipped", 0)

    def to_dict(self) -> dict:
        return asdict(self)


def list_runs(runs_dir: Path, warnings: list[str] | None = None) -> list[RunInfo]:
    """Every readable run, most recently updated first, read from its snapshot (or, when
    that is missing or unreadable, its journal). Runs that cannot be read are skipped, and
    a line about each is added to ``warnings``.
    """
    runs = []
    for name in run_names(runs_dir):
        run_dir = Path(runs_dir) / name
        try:
            state = _state_from_snapshot(read_snapshot(run_dir / SNAPSHOT))
            if state is None:
                events, _ = read_journal(run_dir / JOURNAL)
                state = replay_journal(events, str(run_dir / JOURNAL))
        except (OrchestrateError, OSError) as exc:
            if warnings is not None:
                warnings.append(f"skipped run {name}: {exc}")
            continue
        runs.append(RunInfo.from_state(state))
    runs.sort(key=lambda info: (-info.updated_at, info.name))
    return runs


def _state_from_snapshot(data: dict | None) -> RunState | None:
    if data is None:
        return None
    try:
        return RunState.from_dict(data)
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
