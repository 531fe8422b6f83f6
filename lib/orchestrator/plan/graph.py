"""Pure algorithms over a dependency graph given as ``{id: [ids it depends on]}``.

Every function takes the ids in plan order, which is the tie-breaker wherever one is needed,
and ignores dependencies on ids it does not know (validation reports those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "dependents_of",
    "topological_order",
    "waves",
    "critical_path",
    "bottom_levels",
    "find_cycles",
    "reaches",
]

Graph = Mapping[str, Sequence[str]]


def _known_deps(order: Sequence[str], deps: Graph) -> dict[str, list[str]]:
    known = set(order)
    return {node: [d for d in deps.get(node, ()) if d in known and d != node] for node in order}


def dependents_of(order: Sequence[str], deps: Graph) -> dict[str, list[str]]:
    """Invert the graph: each id mapped to the ids that depend on it, in plan order."""
    result: dict[str, list[str]] = {node: [] for node in order}
    for node, node_deps in _known_deps(order, deps).items():
        for dep in node_deps:
            if node not in result[dep]:
                result[dep].append(node)
    return result


def topological_order(order: Sequence[str], deps: Graph) -> list[str]:
    """Ids with every dependency before its dependents; plan order among equals.

    Raises ValueError when the graph has a cycle.
    """
    result = []
    for wave in waves(order, deps):
        result.extend(wave)
    return result


def waves(order: Sequence[str], deps: Graph) -> list[list[str]]:
    """Dependency levels: wave k holds the ids whose longest dependency chain has k links."""
    known = _known_deps(order, deps)
    remaining = {node: len(set(node_deps)) for node, node_deps in known.items()}
    dependents = dependents_of(order, deps)
    position = {node: index for index, node in enumerate(order)}
    current = [node for node in order if remaining[node] == 0]
    result = []
    placed = 0
    while current:
        result.append(current)
        placed += len(current)
        following = []
        for node in current:
            for child in dependents[node]:
                remaining[child] -= 1
                if remaining[child] == 0:
                    following.append(child)
        current = sorted(following, key=position.__getitem__)
    if placed != len(order):
        raise ValueError("graph has a cycle")
    return result


def critical_path(
    order: Sequence[str], deps: Graph, durations: Mapping[str, float]
) -> tuple[list[str], float]:
    """The longest chain by total duration, and its length.

    The path ends at an id nothing depends on. Ties go to the id listed first: among equal
    predecessors and among equal end points.
    """
    known = _known_deps(order, deps)
    dependents = dependents_of(order, deps)
    position = {node: index for index, node in enumerate(order)}
    finish: dict[str, float] = {}
    best_pred: dict[str, str | None] = {}
    for node in topological_order(order, deps):
        pred = None
        for dep in sorted(set(known[node]), key=position.__getitem__):
            if pred is None or finish[dep] > finish[pred]:
                pred = dep
        best_pred[node] = pred
        finish[node] = durations[node] + (finish[pred] if pred is not None else 0.0)
    if not finish:
        return [], 0.0
    end = None
    for node in order:
        if dependents[node]:
            continue
        if end is None or finish[node] > finish[end]:
            end = node
    path = []
    walk: str | None = end
    while walk is not None:
        path.append(walk)
        walk = best_pred[walk]
    path.reverse()
    return path, finish[end]


def bottom_levels(
    order: Sequence[str], deps: Graph, durations: Mapping[str, float]
) -> dict[str, float]:
    """For each id, the longest duration from its start to the end of the graph.

    This is the priority of critical-path-first list scheduling.
    """
    dependents = dependents_of(order, deps)
    level: dict[str, float] = {}
    for node in reversed(topological_order(order, deps)):
        tail = max((level[child] for child in dependents[node]), default=0.0)
        level[node] = durations[node] + tail
    return level


def reaches(order: Sequence[str], deps: Graph, source: str, target: str) -> bool:
    """True when ``source`` depends on ``target`` directly or through other ids."""
    known = _known_deps(order, deps)
    seen = set()
    stack = [source]
    while stack:
        node = stack.pop()
        for dep in known.get(node, ()):
            if dep == target:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


def find_cycles(order: Sequence[str], deps: Graph) -> list[list[str]]:
    """One cycle per strongly connected component, in execution order.

    Each cycle starts and ends with its member listed first in the plan, and every id runs
    before the next: ``["2", "3", "4", "2"]`` means 3 depends on 2, 4 on 3, 2 on 4.
    Self-dependencies are not reported here.
    """
    position = {node: index for index, node in enumerate(order)}
    dependents = dependents_of(order, deps)
    cycles = []
    for component in _strong_components(order, dependents):
        if len(component) < 2:
            continue
        members = set(component)
        start = min(component, key=position.__getitem__)
        cycles.append(_cycle_through(start, members, dependents))
    cycles.sort(key=lambda cycle: position[cycle[0]])
    return cycles


def _cycle_through(start: str, members: set[str], edges: Mapping[str, list[str]]) -> list[str]:
    """Shortest walk start -> ... -> start inside one component (breadth first)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    path.reverse()
                    return path + [start]
                if child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError("component without a cycle")  # pragma: no cover


def _strong_components(order: Sequence[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that long chains cannot exhaust the stack."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for root in order:
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = edges[node]
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in index_of:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components
