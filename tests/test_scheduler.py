"""Critical-path-first list scheduling on a simulated clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrator.engine.scheduler import Scheduler, lower_bound, simulate, simulate_waves

from tests.test_graph import dags


def test_choose_prefers_the_longest_remaining_chain():
    order = ["short", "long", "tail"]
    deps = {"tail": ["long"]}
    scheduler = Scheduler(order, deps, {"short": 1, "long": 1, "tail": 5})
    assert scheduler.choose(["short", "long"], 1) == ["long"]
    assert scheduler.choose(["short", "long"], 5) == ["long", "short"]
    assert scheduler.choose(["short"], 0) == []


def test_ties_go_to_plan_order():
    scheduler = Scheduler(["b", "a"], {}, {"a": 1, "b": 1})
    assert scheduler.choose(["a", "b"], 1) == ["b"]


def test_dynamic_scheduling_starts_a_step_as_soon_as_its_dependencies_finish():
    # Wave 1: a (1h) and b (10h); c needs only a. Waves make c wait for b.
    order = ["a", "b", "c"]
    deps = {"c": ["a"]}
    durations = {"a": 1, "b": 10, "c": 5}
    dynamic = simulate(order, deps, durations, jobs=2)
    assert dynamic.starts == {"b": 0, "a": 0, "c": 1}
    assert dynamic.makespan == 10
    assert simulate_waves(order, deps, durations, jobs=2).makespan == 15


def test_job_limit_is_respected():
    order = [str(i) for i in range(6)]
    durations = dict.fromkeys(order, 2.0)
    result = simulate(order, {}, durations, jobs=2)
    assert result.makespan == 6
    assert sorted(result.starts.values()) == [0, 0, 2, 2, 4, 4]


def test_jobs_must_be_positive():
    with pytest.raises(ValueError):
        simulate(["a"], {}, {"a": 1}, jobs=0)


@settings(max_examples=200, deadline=None)
@given(dags(), st.integers(1, 4))
def test_simulated_schedules_are_feasible_and_bounded(dag, jobs):
    order, deps, durations = dag
    for run in (simulate, simulate_waves):
        result = run(order, deps, durations, jobs)
        assert set(result.starts) == set(order)
        for node, node_deps in deps.items():
            for dep in node_deps:
                assert result.starts[node] >= result.starts[dep] + durations[dep] - 1e-9
        moments = sorted({t for t in result.starts.values()})
        for moment in moments:
            running = [n for n in order
                       if result.starts[n] <= moment < result.starts[n] + durations[n]]
            assert len(running) <= jobs
        assert result.makespan >= lower_bound(order, deps, durations, jobs) - 1e-9
    dynamic = simulate(order, deps, durations, jobs).makespan
    # Graham's bound for list scheduling: within (2 - 1/jobs) of the optimum.
    assert dynamic <= (2 - 1 / jobs) * lower_bound(order, deps, durations, jobs) + 1e-9
