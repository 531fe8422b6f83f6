"""Recording events: journal first (fsynced), then the state change, then the listeners."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from orchestrator.engine.state import SCHEMA_VERSION, RunState, apply

__all__ = ["Recorder", "RecorderBroken"]

Listener = Callable[[dict, RunState], None]


# Events after which the snapshot is written at once; others at a bounded rate.
BOUNDARIES = frozenset({"run_started", "run_resumed", "run_finished", "run_interrupted"})
SNAPSHOT_EVERY_S = 0.2
# The snapshot encodes the whole state, so its cost grows with the run: wait at least this
# many times as long as the last write took, which keeps snapshots under ~5% of the time.
SNAPSHOT_COST_FACTOR = 20


class RecorderBroken(RuntimeError):
    """A batch could not be journalled; the state in memory is ahead of the journal."""


class Recorder:
    """The single way a run's state changes while it is driven.

    Each event is appended to the journal (fsynced) and only then acted on, in the form the
    store keeps it (redacted, bounded), so the state in memory never holds a secret.
    Inside ``batch()`` events are applied at once (decisions see them) and journalled
    together when the batch ends, with one fsync; a driver starts a step's process only
    after the batch that records its start. The snapshot is a cache for readers, written
    at run boundaries and otherwise at a bounded rate: the journal alone is the truth.

    ``observers`` see each event as soon as it is applied (to keep indexes such as the
    engine's Frontier current); ``listeners`` (reports, progress) only once it is durable.
    """

    def __init__(self, store, state: RunState | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.state = state
        self.clock = clock
        self.listeners: list[Listener] = []
        self.observers: list[Listener] = []
        self._snapshot_at = 0.0
        self._snapshot_gap = SNAPSHOT_EVERY_S
        self._dirty = False
        self._batch: list[dict] | None = None
        self.broken: BaseException | None = None

    def start(self, **payload) -> RunState:
        """Create the run: its journal begins with run_started."""
        event = {"type": "run_started", "seq": 1, "at": self.clock(), "schema": SCHEMA_VERSION,
                 **payload}
        self.state = self.store.create(event)  # the store redacts; its state holds no secret
        event = self.store.prepare(event)  # for the listeners, once per run
        self._snapshot_at = time.monotonic()
        self._observe(event)
        self._notify(event)
        return self.state

    def record(self, kind: str, **payload) -> RunState:
        """Journal one event (durably, or at the end of the current batch) and apply it."""
        assert self.state is not None, "record() before start() or a loaded state"
        if self.broken is not None:
            raise RecorderBroken(f"the journal could not be written: {self.broken}")
        event = {"type": kind, "seq": self.state.seq + 1, "at": self.clock(), **payload}
        if self._batch is not None:
            stored = self.store.prepare(event)
            self.state = apply(self.state, stored)
            self._batch.append(stored)
            self._observe(stored)
            return self.state
        stored = self.store.append(event)  # journalled and fsynced, as stored
        self.state = apply(self.state, stored)
        self._observe(stored)
        self._after_commit([stored])
        return self.state

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the events recorded inside into one journal write (one fsync)."""
        if self._batch is not None:  # nested: the outer batch commits
            yield
            return
        self._batch = []
        try:
            yield
        finally:
            events, self._batch = self._batch, None
            if events:
                try:
                    self.store.append_prepared(events)
                except BaseException as failure:
                    self.broken = failure
                    raise
                self._after_commit(events)

    def _after_commit(self, events: list[dict]) -> None:
        self._dirty = True
        now = time.monotonic()
        if any(e["type"] in BOUNDARIES for e in events) or \
                now - self._snapshot_at >= self._snapshot_gap:
            self.flush()
        for event in events:
            self._notify(event)

    def flush(self) -> None:
        """Write the snapshot if events were applied since the last one."""
        if self._dirty and self.state is not None and self.broken is None:
            began = time.monotonic()
            self.store.save_snapshot(self.state, redact=False)
            self._snapshot_at = time.monotonic()
            took = self._snapshot_at - began
            self._snapshot_gap = max(SNAPSHOT_EVERY_S, took * SNAPSHOT_COST_FACTOR)
            self._dirty = False

    def _observe(self, event: dict) -> None:
        for observer in self.observers:
            observer(event, self.state)

    def _notify(self, event: dict) -> None:
        for listener in self.listeners:
            listener(event, self.state)
