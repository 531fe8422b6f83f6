"""Critical-path-first list scheduling, and a simulated clock to measure it.

The engine asks ``choose`` which ready steps to start; ``simulate`` runs the same policy (or
wave-by-wave execution, for comparison) over known durations and returns the makespan.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.plan import graph

__all__ = ["Scheduler", "Simulation", "simulate", "simulate_waves", "lower_bound"]


class Scheduler:
    """Orders ready steps by the longest remaining chain (bottom level), then plan order."""

    __slots__ = ("_rank",)

    def __init__(self, order: Sequence[str], deps: Mapping[str, Sequence[str]],
                 durations: Mapping[str, float]):
        levels = graph.bottom_levels(order, deps, durations)
        position = {node: index for index, node in enumerate(order)}
        ranked = sorted(order, key=lambda node: (-levels[node], position[node]))
        self._rank = {node: index for index, node in enumerate(ranked)}

    def priority(self, node: str) -> int:
        """Lower is more urgent."""
        return self._rank[node]

    def choose(self, ready: Iterable[str], free_slots: int) -> list[str]:
        """The ready steps to start now, most urgent first, at most ``free_slots``."""
        if free_slots <= 0:
            return []
        return sorted(ready, key=self._rank.__getitem__)[:free_slots]


@dataclass(slots=True)
class Simulation:
    makespan: float
    starts: dict[str, float]


def simulate(order: Sequence[str], deps: Mapping[str, Sequence[str]],
             durations: Mapping[str, float], jobs: int) -> Simulation:
    """Dynamic list scheduling on a simulated clock: a step starts once its deps are done."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    scheduler = Scheduler(order, deps, durations)
    dependents = graph.dependents_of(order, deps)
    waiting = {node: len(set(d for d in deps.get(node, ()) if d in dependents))
               for node in order}
    ready = [node for node in order if waiting[node] == 0]
    running: list[tuple[float, int, str]] = []
    starts: dict[str, float] = {}
    now = 0.0
    while ready or running:
        for node in scheduler.choose(ready, jobs - len(running)):
            ready.remove(node)
            starts[node] = now
            heapq.heappush(running, (now + durations[node], scheduler.priority(node), node))
        now, _, done = heapq.heappop(running)
        finished = [done]
        while running and running[0][0] <= now:
            finished.append(heapq.heappop(running)[2])
        for node in finished:
            for child in dependents[node]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
    return Simulation(now, starts)


def simulate_waves(order: Sequence[str], deps: Mapping[str, Sequence[str]],
                   durations: Mapping[str, float], jobs: int) -> Simulation:
    """Wave-by-wave execution: each wave waits for the whole previous wave to finish."""
    scheduler = Scheduler(order, deps, durations)
    now = 0.0
    starts: dict[str, float] = {}
    for wave in graph.waves(order, deps):
        slots = [now] * min(jobs, len(wave))
        for node in scheduler.choose(wave, len(wave)):
            start = heapq.heappop(slots)
            starts[node] = start
            heapq.heappush(slots, start + durations[node])
        now = max(slots)
    return Simulation(now, starts)


def lower_bound(order: Sequence[str], deps: Mapping[str, Sequence[str]],
                durations: Mapping[str, float], jobs: int) -> float:
    """No schedule beats max(critical path, total work / jobs)."""
    _, length = graph.critical_path(order, deps, durations)
    return max(length, sum(durations[node] for node in order) / jobs)
