"""Durable runs behind a narrow interface, and its in-memory twin.

``RunStore`` holds the rules (redaction, torn lines, schema checks, snapshot rebuilds); a
backend only moves bytes. ``MemoryRunStore`` keeps them in a ``MemorySpace`` and is held to
the same conformance tests as ``FileRunStore``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.engine.state import SCHEMA_VERSION, RunState, StateError, apply, replay
from orchestrator.redact import Redactor
from orchestrator.store.bounds import bound_event
from orchestrator.store.errors import (
    InvalidRunName,
    RunExists,
    RunLocked,
    RunNotFound,
    SchemaMismatch,
    StateCorrupt,
)
from orchestrator.store.journal import encode_event, parse_journal, torn_warning
from orchestrator.store.paths import run_name
from orchestrator.store.snapshot import encode_snapshot, parse_snapshot

__all__ = ["LoadedRun", "RunStore", "MemorySpace", "MemoryRunStore", "replay_journal",
           "check_run_name"]


@dataclass
class LoadedRun:
    """A run read back: its state (always replayed from the journal), events and warnings."""

    state: RunState
    events: list[dict]
    warnings: list[str] = field(default_factory=list)


def check_run_name(name: str) -> str:
    """``name`` if it is a valid run name (one ``run_name`` leaves as it is)."""
    if not isinstance(name, str) or run_name(name) != name:
        raise InvalidRunName(str(name), run_name(str(name)))
    return name


def replay_journal(events: list[dict], label: str) -> RunState:
    """Fold the events into a state; an event that does not fit is a corrupt journal."""
    first = events[0]
    schema = first.get("schema", SCHEMA_VERSION)
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA_VERSION:
        raise SchemaMismatch(label, schema, SCHEMA_VERSION)
    try:
        return replay(events)
    except StateError as problem:  # apply turns any malformed event into a StateError
        index = problem.index or 0
        raise StateCorrupt(label, index + 1, f"event {events[index].get('type')!r} does not "
                           f"fit the run ({problem}); the run cannot be read (file left "
                           "untouched)") from None


class RunStore(ABC):
    """One run's journal, snapshot, lock and step logs.

    Writers hold ``lock()`` around ``create``/``append``/``save_snapshot``/``remove`` and
    ``load(repair=True)``; every event and snapshot is redacted before it is stored.
    """

    name: str
    run_dir: Path | None = None

    def __init__(self, name: str, redactor: Redactor | None = None):
        self.name = check_run_name(name)
        self.redactor = redactor if redactor is not None else Redactor()

    # What a backend provides: bytes in and out, a lock, and where things are.
    @abstractmethod
    def exists(self) -> bool:
        """Whether the run has a journal."""

    @abstractmethod
    def lock(self):
        """A context manager holding the run; its ``notice`` tells of a lock taken over."""

    @abstractmethod
    def step_log_path(self, step_id: str, attempt: int) -> Path | None:
        """Where a step attempt's output goes (None: nowhere)."""

    @abstractmethod
    def known_runs(self) -> list[str]:
        """The names of the runs stored next to this one."""

    @abstractmethod
    def _journal_write(self, line: bytes, new: bool) -> None:
        """Append a line; ``new``: create the journal, RunExists if there is one."""

    @abstractmethod
    def _journal_bytes(self) -> bytes: ...

    @abstractmethod
    def _journal_cut(self, length: int, expected_size: int) -> bool: ...

    @abstractmethod
    def _snapshot_bytes(self) -> bytes | None: ...

    @abstractmethod
    def _snapshot_write(self, data: bytes) -> None: ...

    @abstractmethod
    def _clear(self) -> None:
        """Delete the run's journal, snapshot and logs (the lock stays)."""

    @abstractmethod
    def _holds_lock(self) -> bool: ...

    @property
    @abstractmethod
    def journal_label(self) -> str: ...

    @property
    @abstractmethod
    def snapshot_label(self) -> str: ...

    def create(self, first_event: dict) -> RunState:
        """Start the run with its ``run_started`` event; refuses if the run exists.

        Returns the run's first state, built from the event as stored (redacted).
        """
        if self.exists():
            raise RunExists(self.name)
        event = self.prepare(first_event)
        if event.get("type") != "run_started":
            raise ValueError(f"a run starts with run_started, not {event.get('type')!r}")
        state = apply(None, event)  # raises before anything is written
        self._journal_write(encode_event(event), new=True)
        self._snapshot_write(encode_snapshot(state.to_dict()))
        return state

    def prepare(self, event: dict) -> dict:
        """``event`` as the store keeps it: redacted, every text in it bounded."""
        return bound_event(self.redactor.redact_data(event))

    def append(self, event: dict) -> dict:
        """Record one event durably (fsynced before this returns); return it as stored,
        that is redacted and bounded, for the caller to apply."""
        stored = self.prepare(event)
        self.append_prepared([stored])
        return stored

    def append_prepared(self, events: list[dict]) -> None:
        """Journal events already passed through ``prepare``: one write, one fsync."""
        if not events:
            return
        if not self.exists():
            raise RunNotFound(self.name, self.known_runs())
        self._journal_write(b"".join(encode_event(event) for event in events), new=False)

    def save_snapshot(self, state: RunState, *, redact: bool = True) -> None:
        """Write the snapshot. ``redact=False`` is for states built only from events that
        went through this store (already redacted), which spares a pass over the whole run.
        """
        data = state.to_dict()
        self._snapshot_write(encode_snapshot(self.redactor.redact_data(data) if redact
                                             else data))

    def read_snapshot(self) -> dict | None:
        """The snapshot as stored (a cache for readers such as ``status``), or None."""
        return parse_snapshot(self._snapshot_bytes(), self.snapshot_label)[0]

    def load(self, repair: bool = False) -> LoadedRun:
        """Read the run back. ``repair`` (under the lock) cuts off a torn last line and
        rewrites a stale snapshot; nothing else is ever changed, and a file written by a
        newer version or damaged beyond its last line is refused untouched.
        """
        if not self.exists():
            raise RunNotFound(self.name, self.known_runs())
        data = self._journal_bytes()
        events, torn, good = parse_journal(data, self.journal_label)
        state = replay_journal(events, self.journal_label)
        snapshot, problem = parse_snapshot(self._snapshot_bytes(), self.snapshot_label)
        warnings = []
        if torn is not None:
            repaired = repair and self._journal_cut(good, len(data))
            warnings.append(torn_warning(self.journal_label, torn, repaired))
        lagging = False
        if snapshot is not None and snapshot.get("seq") != state.seq:
            seq = snapshot.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq < state.seq:
                lagging = True  # expected: the snapshot is written at a bounded rate
            else:
                problem = f"is out of date (seq {seq!r}, the journal has {state.seq})"
        if problem:
            warnings.append(f"{self.snapshot_label} {problem}; rebuilt from the journal")
        if repair and (problem or lagging):
            self.save_snapshot(state, redact=False)
        return LoadedRun(state, events, warnings)

    def close(self) -> None:  # noqa: B027 - a backend without open files has nothing to do
        """Let go of open files; the store reopens them when used again."""

    def remove(self) -> None:
        """Delete the run (for ``--fresh``), under its lock: taken here if not held."""
        if self._holds_lock():
            self._clear()
            return
        with self.lock():
            self._clear()


class MemorySpace:
    """What a set of MemoryRunStores share, as a runs directory would: journals and
    snapshots by run name, and which runs are locked.
    """

    def __init__(self):
        self.journals: dict[str, bytearray] = {}
        self.snapshots: dict[str, bytes] = {}
        self.locks: dict[str, MemoryLock] = {}


DEFAULT_SPACE = MemorySpace()


class MemoryLock:
    """The memory twin of RunLock: one holder per run name in a MemorySpace."""

    def __init__(self, space: MemorySpace, name: str):
        self.space = space
        self.name = name
        self.notice: str | None = None

    @property
    def held(self) -> bool:
        return self.space.locks.get(self.name) is self

    def acquire(self) -> str | None:
        if self.name in self.space.locks:
            raise RunLocked(self.name, os.getpid())
        self.space.locks[self.name] = self
        return None

    def release(self) -> None:
        if self.held:
            del self.space.locks[self.name]

    def __enter__(self) -> MemoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class MemoryRunStore(RunStore):
    """A run kept in memory; stores over the same ``space`` see the same runs."""

    def __init__(self, name: str, redactor: Redactor | None = None,
                 space: MemorySpace | None = None):
        super().__init__(name, redactor)
        self.space = DEFAULT_SPACE if space is None else space
        self._lock: MemoryLock | None = None

    @property
    def journal_label(self) -> str:
        return f"<memory>/{self.name}/journal.jsonl"

    @property
    def snapshot_label(self) -> str:
        return f"<memory>/{self.name}/state.json"

    def exists(self) -> bool:
        return self.name in self.space.journals

    def lock(self) -> MemoryLock:
        self._lock = MemoryLock(self.space, self.name)
        return self._lock

    def step_log_path(self, step_id: str, attempt: int) -> Path | None:
        return None

    def known_runs(self) -> list[str]:
        return sorted(self.space.journals)

    def _journal_write(self, line: bytes, new: bool) -> None:
        if new:
            if self.exists():
                raise RunExists(self.name)
            self.space.journals[self.name] = bytearray()
        self.space.journals[self.name] += line

    def _journal_bytes(self) -> bytes:
        return bytes(self.space.journals[self.name])

    def _journal_cut(self, length: int, expected_size: int) -> bool:
        journal = self.space.journals[self.name]
        if len(journal) != expected_size:
            return False
        del journal[length:]
        return True

    def _snapshot_bytes(self) -> bytes | None:
        return self.space.snapshots.get(self.name)

    def _snapshot_write(self, data: bytes) -> None:
        self.space.snapshots[self.name] = data

    def _clear(self) -> None:
        self.space.journals.pop(self.name, None)
        self.space.snapshots.pop(self.name, None)

    def _holds_lock(self) -> bool:
        return self._lock is not None and self._lock.held
