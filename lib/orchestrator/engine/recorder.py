"""Recording events: journal first (fsynced), then the state change, then the listeners."""

from __future__ import annotations

import time
from collections.abc import Callable

from .state import SCHEMA_VERSION, RunState, apply

__all__ = ["Recorder"]

Listener = Callable[[dict, RunState], None]


class Recorder:
    """The single way a run's state changes while it is driven."""

    def __init__(self, store, state: RunState | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.state = state
        self.clock = clock
        self.listeners: list[Listener] = []

    def start(self, **payload) -> RunState:
        """Create the run: its journal begins with run_started."""
        event = {"type": "run_started", "seq": 1, "at": self.clock(), "schema": SCHEMA_VERSION,
                 **payload}
        self.store.create(event)
        self.state = apply(None, event)
        self.store.save_snapshot(self.state)
        self._notify(event)
        return self.state

    def record(self, kind: str, **payload) -> RunState:
        """Journal one event (durably) and apply it."""
        assert self.state is not None, "record() before start() or a loaded state"
        event = {"type": kind, "seq": self.state.seq + 1, "at": self.clock(), **payload}
        self.store.append(event)
        self.state = apply(self.state, event)
        self.store.save_snapshot(self.state)
        self._notify(event)
        return self.state

    def _notify(self, event: dict) -> None:
        for listener in self.listeners:
            listener(event, self.state)
