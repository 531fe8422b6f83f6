"""The engine's rules, table by table: what the cost cap and overlapping files hold back,
how a run closes, and the verdict on an attempt's evidence."""

from __future__ import annotations

import pytest
from orchestrator.engine import decide, policy
from orchestrator.engine.state import apply
from orchestrator.verify.checks import CheckResult
from orchestrator.verify.snapshot import Changes
from orchestrator.verify.verdict import NO_CHANGE, verdict


def run(steps, max_cost=None, cost=0.0):
    specs = [{"id": sid, "title": sid, "depends_on": deps, "kind": kind, "phase_hash": sid,
              "max_attempts": 1, "timeout_s": None, "files": files}
             for sid, kind, deps, files in steps]
    state = apply(None, {"type": "run_started", "seq": 1, "at": 0.0, "name": "r",
                         "plan_path": "p.md", "plan_format": "plan", "plan_hash": "h",
                         "project_root": "/p", "jobs": 4, "steps": specs,
                         "max_cost_usd": max_cost})
    state.cost_usd = cost
    return state


@pytest.mark.parametrize(("first", "second", "overlap"), [
    (["src/a.py"], ["src/a.py"], True),
    (["src"], ["src/a.py"], True),
    (["./src/a.py"], ["src/a.py/"], True),
    (["src/a.py"], ["src/ab.py"], False),
    (["src/a"], ["src/ab"], False),
    ([], ["src"], False),
])
def test_files_overlap(first, second, overlap):
    assert policy.files_overlap(first, second) is overlap
    assert policy.files_overlap(second, first) is overlap


@pytest.mark.parametrize(("kinds", "conflict"), [
    (("agent", "agent"), True),
    (("agent", "command"), False),
    (("command", "command"), False),
])
def test_only_agents_with_overlapping_files_conflict(kinds, conflict):
    state = run([("a", kinds[0], [], ["x.py"]), ("b", kinds[1], [], ["x.py"])])
    assert policy.conflicts(state, "a", "b") is conflict


@pytest.mark.parametrize(("kind", "max_cost", "cost", "allowed"), [
    ("agent", None, 100.0, True),
    ("agent", 1.0, 0.5, True),
    ("agent", 1.0, 1.0, False),
    ("agent", 0.0, 0.0, False),
    ("command", 1.0, 5.0, True),
])
def test_the_cost_cap_holds_agent_steps_only(kind, max_cost, cost, allowed):
    state = run([("a", kind, [], [])], max_cost=max_cost, cost=cost)
    assert policy.may_start(state, "a") is allowed
    assert policy.held_steps(state, ["a"]) == ([] if allowed else ["a"])


@pytest.mark.parametrize(("budget", "cost", "left"), [
    (None, 3.0, None), (1.0, 0.25, 0.75), (1.0, 2.0, 0.0)])
def test_budget_left(budget, cost, left):
    assert policy.budget_left(run([("a", "agent", [], [])], budget, cost)) == left


def test_next_steps_apply_the_policy_by_default():
    state = run([("a", "agent", [], ["x.py"]), ("b", "agent", [], ["x.py"]),
                 ("c", "agent", [], ["y.py"]), ("d", "command", [], ["x.py"])])
    assert decide.next_steps(state, decide.scheduler_for(state), 4) == ["a", "c", "d"]
    capped = run([("a", "agent", [], []), ("d", "command", [], [])], max_cost=1.0, cost=1.0)
    assert decide.next_steps(capped, decide.scheduler_for(capped), 4) == ["d"]


@pytest.mark.parametrize(("statuses", "closing"), [
    ({"a": "completed", "b": "completed"}, ("completed", None)),
    ({"a": "completed", "b": "skipped"}, ("completed", None)),
    ({"a": "failed", "b": "blocked"}, ("failed", None)),
    ({"a": "timeout", "b": "completed"}, ("failed", None)),
    ({"a": "running", "b": "pending"}, None),
    ({"a": "completed", "b": "pending"}, None),  # b is ready: something can run
    ({"a": "awaiting_human", "b": "completed"}, ("awaiting_human", None)),
])
def test_closing_status(statuses, closing):
    state = run([("a", "command", [], []), ("b", "command", [], [])])
    for step_id, status in statuses.items():
        state.steps[step_id].status = status
    assert decide.closing(state) == closing


def test_a_run_held_by_its_cost_cap_closes_awaiting_a_human_with_the_reason():
    state = run([("a", "agent", [], []), ("b", "agent", ["a"], [])], max_cost=0.5, cost=0.5)
    state.steps["a"].status = "completed"
    status, reason = decide.closing(state)
    assert status == "awaiting_human"
    assert reason.startswith("cost cap reached: spent $0.50 of $0.50; agent steps not "
                             "started: b.")


def ok(name):
    return CheckResult(name, True)


def changed(*paths, complete=True):
    return Changes(changed=list(paths), complete=complete)


@pytest.mark.parametrize(("case", "phase_type", "changes", "results", "others", "expected"), [
    ("all good", "implementation", changed("src/a.py"), [ok("file src/a.py")], [],
     ("completed", None, [])),
    ("nothing changed", "implementation", changed(), [CheckResult("file a", False, "missing")],
     [], ("failed", NO_CHANGE + "; missing: a", ["a"])),
    ("only another agent's files changed", "implementation", changed("theirs/x.py"), [],
     ["theirs"], ("failed", NO_CHANGE, [])),
    ("a partial snapshot proves nothing", "implementation", changed(complete=False), [], [],
     ("completed", None, [])),
    ("a design phase need not change the tree", "design", changed(), [ok("file doc.md")], [],
     ("completed", None, [])),
    ("shell steps are not asked for a change", "implementation", None, [], [],
     ("completed", None, [])),
    ("an empty file", "implementation", changed("a"), [CheckResult("file a", False, "empty")],
     [], ("failed", "checks failed: file a: empty", [])),
    ("a failing command", "implementation", changed("a"),
     [ok("file a"), CheckResult("verify: make test", False, "exit status 2",
                                command="make test\n", error="check failed: make test")],
     [], ("failed", "check failed: make test", [])),
])
def test_verdict(case, phase_type, changes, results, others, expected):
    outcome = verdict(phase_type=phase_type, changes=changes, results=results,
                      others_files=others)
    assert (outcome.outcome, outcome.error, outcome.missing_files) == expected, case
    assert outcome.checks == [result.to_dict() for result in results]
    if expected[1] == "check failed: make test":
        assert outcome.failed_command == "make test\n"
