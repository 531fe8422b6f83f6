"""Graph algorithms: table-driven cases and hypothesis properties over random DAGs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrator.plan import graph

DIAMOND = (["1", "2", "3", "4"], {"2": ["1"], "3": ["1"], "4": ["2", "3"]})


@pytest.mark.parametrize(
    ("order", "deps", "expected"),
    [
        ([], {}, []),
        (["a"], {}, [["a"]]),
        (*DIAMOND, [["1"], ["2", "3"], ["4"]]),
        (["1", "2", "3"], {"1": ["3"], "2": []}, [["2", "3"], ["1"]]),
        (["x", "y"], {"y": ["x", "unknown"]}, [["x"], ["y"]]),
    ],
)
def test_waves(order, deps, expected):
    assert graph.waves(order, deps) == expected


def test_waves_refuse_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        graph.waves(["a", "b"], {"a": ["b"], "b": ["a"]})


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ({"1": 1, "2": 1, "3": 1, "4": 1}, (["1", "2", "4"], 3)),  # tie: 2 listed before 3
        ({"1": 1, "2": 1, "3": 5, "4": 1}, (["1", "3", "4"], 7)),
        ({"1": 0, "2": 0, "3": 0, "4": 0}, (["1", "2", "4"], 0)),
    ],
)
def test_critical_path(durations, expected):
    assert graph.critical_path(*DIAMOND, durations) == expected


def test_critical_path_ties_between_end_points_go_to_the_first_listed():
    assert graph.critical_path(["b", "a"], {}, {"a": 2, "b": 2}) == (["b"], 2)


@pytest.mark.parametrize(
    ("order", "deps", "expected"),
    [
        (["1", "2", "3", "4"], {"2": ["4"], "3": ["2"], "4": ["3"]}, [["2", "3", "4", "2"]]),
        (["a", "b"], {"a": ["b"], "b": ["a"]}, [["a", "b", "a"]]),
        (["a", "b", "c", "d"], {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]},
         [["a", "b", "a"], ["c", "d", "c"]]),
        (["a"], {"a": ["a"]}, []),  # self-dependency is reported separately
        (*DIAMOND, []),
    ],
)
def test_find_cycles(order, deps, expected):
    assert graph.find_cycles(order, deps) == expected


def test_long_chain_does_not_hit_the_recursion_limit():
    order = [str(i) for i in range(5000)]
    deps = {str(i): [str(i - 1)] for i in range(1, 5000)}
    deps["0"] = ["4999"]
    (cycle,) = graph.find_cycles(order, deps)
    assert len(cycle) == 5001
    assert cycle[0] == cycle[-1] == "0"


@st.composite
def dags(draw, max_nodes=14):
    """A random DAG: each node may depend on any earlier node; ids shuffled in plan order."""
    count = draw(st.integers(0, max_nodes))
    names = [f"n{i}" for i in range(count)]
    deps = {}
    for index, name in enumerate(names):
        deps[name] = draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
    order = draw(st.permutations(names))
    durations = {name: draw(st.integers(0, 20)) / 2 for name in names}
    return list(order), deps, durations


@settings(max_examples=300, deadline=None)
@given(dags())
def test_waves_respect_every_edge_and_hold_each_phase_once(dag):
    order, deps, _ = dag
    result = graph.waves(order, deps)
    flat = [node for wave in result for node in wave]
    assert sorted(flat) == sorted(order)
    level = {node: index for index, wave in enumerate(result) for node in wave}
    for node, node_deps in deps.items():
        for dep in node_deps:
            assert level[dep] < level[node]
    for node in order:  # each phase sits in the earliest wave its dependencies allow
        assert level[node] == max((level[d] + 1 for d in deps[node]), default=0)


def _all_paths(order, deps):
    dependents = graph.dependents_of(order, deps)
    stack = [[node] for node in order if not deps.get(node)]
    while stack:
        path = stack.pop()
        children = dependents[path[-1]]
        if not children:
            yield path
        for child in children:
            stack.append(path + [child])


@settings(max_examples=300, deadline=None)
@given(dags(max_nodes=10))
def test_critical_path_equals_the_longest_path(dag):
    order, deps, durations = dag
    path, length = graph.critical_path(order, deps, durations)
    best = max((sum(durations[n] for n in p) for p in _all_paths(order, deps)), default=0.0)
    assert length == pytest.approx(best)
    assert sum(durations[n] for n in path) == pytest.approx(length)
    for earlier, later in itertools.pairwise(path):  # the path is a real chain
        assert earlier in deps[later]


@settings(max_examples=200, deadline=None)
@given(dags())
def test_bottom_levels_bound_the_critical_path(dag):
    order, deps, durations = dag
    levels = graph.bottom_levels(order, deps, durations)
    _, length = graph.critical_path(order, deps, durations)
    assert max(levels.values(), default=0.0) == pytest.approx(length)
    for node, node_deps in deps.items():
        for dep in node_deps:
            assert levels[dep] >= levels[node] + durations[dep] - 1e-9


@settings(max_examples=200, deadline=None)
@given(dags(), st.data())
def test_adding_a_back_edge_creates_a_reported_cycle(dag, data):
    order, deps, _ = dag
    chains = [(n, d) for n in order for d in deps[n]]
    if not chains:
        return
    later, earlier = data.draw(st.sampled_from(chains))
    cyclic = {n: list(d) for n, d in deps.items()}
    cyclic[earlier] = cyclic[earlier] + [later]
    cycles = graph.find_cycles(order, cyclic)
    assert cycles
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        for before, after in itertools.pairwise(cycle):
            assert before in cyclic[after]
