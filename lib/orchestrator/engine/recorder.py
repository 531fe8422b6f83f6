"""Recording events: journal first (fsynced), then the state change, then the listeners."""

from __future__ import annotations

import time
from collections.abc import Callable

from .state import SCHEMA_VERSION, RunState, apply

__all__ = ["Recorder"]

Listener = Callable[[dict, RunState], None]


# Events after which the snapshot is written at once; others at most every SNAPSHOT_EVERY_S.
BOUNDARIES = frozenset({"run_started", "run_resumed", "run_finished", "run_interrupted"})
SNAPSHOT_EVERY_S = 0.2


class Recorder:
    """The single way a run's state changes while it is driven.

    Each event is appended to the journal (fsynced) and only then applied, in the form the
    store wrote it (redacted), so the state in memory never holds a secret. The snapshot is
    a cache for readers, written at run boundaries and otherwise at a bounded rate: the
    journal alone is the truth.
    """

    def __init__(self, store, state: RunState | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.state = state
        self.clock = clock
        self.listeners: list[Listener] = []
        self._snapshot_at = 0.0
        self._dirty = False

    def start(self, **payload) -> RunState:
        """Create the run: its journal begins with run_started."""
        event = {"type": "run_started", "seq": 1, "at": self.clock(), "schema": SCHEMA_VERSION,
                 **payload}
        self.state = self.store.create(event)  # the store redacts; its state holds no secret
        event = self.store.redactor.redact_data(event)  # for the listeners, once per run
        self._snapshot_at = time.monotonic()
        self._notify(event)
        return self.state

    def record(self, kind: str, **payload) -> RunState:
        """Journal one event (durably) and apply it."""
        assert self.state is not None, "record() before start() or a loaded state"
        event = {"type": kind, "seq": self.state.seq + 1, "at": self.clock(), **payload}
        event = self.store.append(event)  # journalled and fsynced, as stored (redacted)
        self.state = apply(self.state, event)
        self._dirty = True
        if kind in BOUNDARIES or time.monotonic() - self._snapshot_at >= SNAPSHOT_EVERY_S:
            self.flush()
        self._notify(event)
        return self.state

    def flush(self) -> None:
        """Write the snapshot if events were applied since the last one."""
        if self._dirty and self.state is not None:
            self.store.save_snapshot(self.state, redact=False)
            self._snapshot_at = time.monotonic()
            self._dirty = False

    def _notify(self, event: dict) -> None:
        for listener in self.listeners:
            listener(event, self.state)
