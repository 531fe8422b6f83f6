"""Runs on disk: ``<runs_dir>/<name>/`` holds journal.jsonl, state.json, lock and steps/."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.engine.state import RunState
from orchestrator.errors import OrchestrateError
from orchestrator.redact import Redactor
from orchestrator.store import safefs
from orchestrator.store.errors import InvalidRunName, RunExists, RunLocked, StateChanged
from orchestrator.store.journal import Journal, read_journal, truncate_tail
from orchestrator.store.liveness import as_seen
from orchestrator.store.lock import RunLock
from orchestrator.store.paths import errors_dir
from orchestrator.store.runstore import RunStore, check_run_name, replay_journal
from orchestrator.store.snapshot import fsync_dir, read_snapshot

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
    import hashlib  # rare: most ids are plain

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
        """Whether the run has a journal. One this store has open exists for it: that it
        is still there is checked when it is written (StateChanged). A symbolic link in
        the run's folder or on the way to it is refused (UnsafePath)."""
        if self._journal.is_open:
            return True
        _refuse_planted(self.run_dir, "read")
        found = safefs.probe(self.journal_path)
        return found is not None and stat.S_ISREG(found.st_mode)

    def lock(self, wait_s: float = 0.0) -> RunLock:
        """The run's lock; its folder is made, and refused when a symbolic link is on the
        way to it or in it (the engine makes none: it was planted). ``wait_s``: how long
        to keep trying while another process holds it."""
        safefs.ensure_dir(self.run_dir)
        _refuse_planted(self.run_dir, "write")
        safefs.probe(errors_dir(self.runs_dir.parent), "write")  # where error reports go
        self._lock = RunLock(self.lock_path, self.name, wait_s)
        return self._lock

    def locked_elsewhere(self) -> RunLocked | None:
        """The RunLocked that taking the run's lock now raises (another process holds it),
        or None when it is free; the lock is not kept."""
        try:
            with self.lock(wait_s=0):
                return None
        except RunLocked as error:
            return error

    def intact(self) -> bool:
        """False when the journal this store writes was deleted or replaced under it."""
        return self._journal.intact()

    def step_log_path(self, step_id: str, attempt: int) -> Path:
        steps = safefs.ensure_dir(self.run_dir / STEPS)
        return steps / f"{safe_step_id(step_id)}.{attempt}.log"

    def known_runs(self) -> list[str]:
        return run_names(self.runs_dir)

    def close(self) -> None:
        self._journal.close()

    def _journal_write(self, line: bytes, new: bool) -> None:
        if not new:
            try:
                self._journal.append_line(line)
            except StateChanged as changed:
                raise changed.during(_finished_step(line)) from None
            return
        safefs.ensure_dir(self.run_dir)
        self._journal.close()
        try:
            self._journal.append_line(line, exclusive=True)
        except FileExistsError:
            raise RunExists(self.name) from None
        fsync_dir(self.runs_dir)  # the run's directory may be new too

    def _journal_bytes(self) -> bytes:
        return safefs.read_regular(self.journal_path)

    def _journal_cut(self, length: int, expected_size: int) -> bool:
        return truncate_tail(self.journal_path, length, expected_size)

    def _snapshot_bytes(self) -> bytes | None:
        try:
            return safefs.read_regular(self.snapshot_path)
        except FileNotFoundError:
            return None

    def _snapshot_write(self, data: bytes) -> None:
        self._journal.verify()  # no snapshot for a run whose journal went away under it
        safefs.write_atomic(self.snapshot_path, data, create_dirs=True)

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
        safefs.ensure_dir(self.runs_dir / TRASH)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        trash = Path(tempfile.mkdtemp(prefix=f"{self.name}-{stamp}-", dir=self.runs_dir / TRASH))
        for entry in entries:
            os.rename(entry, trash / entry.name)
        shutil.rmtree(trash, ignore_errors=True)


def run_names(runs_dir: Path) -> list[str]:
    """The runs stored under ``runs_dir`` (directories with a journal), sorted. A symbolic
    link where a run's folder would be is refused (UnsafePath), as is one on the way."""
    names = []
    for name, mode in safefs.list_dir(runs_dir):
        try:
            check_run_name(name)
        except InvalidRunName:
            continue
        if stat.S_ISLNK(mode):
            raise safefs.UnsafePath(Path(runs_dir) / name, "read")
        if stat.S_ISDIR(mode):
            found = safefs.probe(Path(runs_dir) / name / JOURNAL)
            if found is not None and stat.S_ISREG(found.st_mode):
                names.append(name)
    return names


def _refuse_planted(run_dir: Path, action: str) -> None:
    """UnsafePath for a symbolic link in a run's folder or its steps/: the engine makes
    none there, so one was planted (committed to a cloned repository, say)."""
    safefs.refuse_links(run_dir, action)
    safefs.refuse_links(Path(run_dir) / STEPS, action)


def _finished_step(lines: bytes) -> str | None:
    """The step whose end the journal lines record (the one that was running), if any."""
    for line in lines.splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict) and event.get("type") == "step_finished":
            return str(event.get("step"))
    return None


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
        _refuse_planted(run_dir, "read")
        try:
            state = _state_from_snapshot(read_snapshot(run_dir / SNAPSHOT))
            if state is not None and not _agrees(state, last_event(run_dir / JOURNAL)):
                state = None  # a snapshot the journal contradicts is not believed
            if state is None:
                events, _ = read_journal(run_dir / JOURNAL)
                state = replay_journal(events, str(run_dir / JOURNAL))
        except safefs.UnsafePath:
            raise
        except (OrchestrateError, OSError) as exc:
            if warnings is not None:
                warnings.append(f"skipped run {name}: {exc}")
            continue
        runs.append(RunInfo.from_state(as_seen(state, run_dir)))
    runs.sort(key=lambda info: (-info.updated_at, info.name))
    return runs


def last_event(path: Path, window: int = 64 * 1024) -> dict | None:
    """The journal's last complete event, read from its end; None if it cannot be read."""
    try:
        data = safefs.read_tail(path, window)
    except OSError:
        return None
    lines = data.split(b"\n")
    lines.pop()  # a torn tail, or b"" after the last newline
    for line in reversed(lines[1:] if len(data) >= window else lines):
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict):
            return event
    return None


def _agrees(state: RunState, event: dict | None) -> bool:
    """Whether a snapshot's state fits the journal's last event: the same sequence number,
    or an earlier one (the snapshot lags while a run goes on); a finished run's status."""
    if event is None or not isinstance(event.get("seq"), int):
        return False
    if state.seq > event["seq"]:
        return False
    if state.seq < event["seq"]:
        return state.status == "running"
    if event.get("type") == "run_finished":
        return state.status == event.get("status")
    if event.get("type") == "run_interrupted":
        return state.status == "interrupted"
    return state.status == "running"


def _state_from_snapshot(data: dict | None) -> RunState | None:
    if data is None:
        return None
    try:
        return RunState.from_dict(data)
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
