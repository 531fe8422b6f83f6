"""The task lifecycle's one transition table, its fold over the journal, routing rules and
the reviewers' verdict files: pure functions, every case."""

from __future__ import annotations

import itertools
import json

import pytest
from orchestrator.config import ConfigError, load_config
from orchestrator.engine import lifecycle
from orchestrator.engine.routing import Rule, route
from orchestrator.engine.state import StateError, apply
from orchestrator.plan.model import Phase, Plan
from orchestrator.verify.contract import VERDICT_SCHEMA, VerdictItem, read_verdict

TABLES = [("task", lifecycle.TASK_TRANSITIONS, lifecycle.TASK_STATES),
          ("step", lifecycle.STEP_TRANSITIONS, lifecycle.STEP_STATES)]


@pytest.mark.parametrize("name, table, states", TABLES)
def test_every_pair_of_states_is_either_a_transition_or_raises(name, table, states):
    assert set(table) == set(states)
    legal = 0
    for before, after in itertools.product(states, repeat=2):
        if after in table[before]:
            lifecycle.check(table, before, after, name)
            legal += 1
        else:
            with pytest.raises(lifecycle.IllegalTransition, match=f"{before} -> {after}"):
                lifecycle.check(table, before, after, name)
    assert 0 < legal < len(states) ** 2
    with pytest.raises(lifecycle.IllegalTransition, match="unknown state"):
        lifecycle.check(table, states[0], "SOMEWHERE", name)


@pytest.mark.parametrize("name, table, states", TABLES)
def test_every_state_is_reachable_and_every_path_can_end(name, table, states):
    start = "NEW" if name == "task" else "PENDING"
    reached, frontier = {start}, [start]
    while frontier:
        for after in table[frontier.pop()]:
            if after not in reached:
                reached.add(after)
                frontier.append(after)
    assert reached == set(states)
    final = {state for state in states if not table[state]}
    assert final <= {"DONE", "FAILED", "COMPLETED", "BLOCKED"}
    for state in states:  # from anywhere, some final state is within reach
        seen, todo = set(), [state]
        while todo:
            here = todo.pop()
            seen.add(here)
            todo += [s for s in table[here] if s not in seen]
        assert seen & final, state


def _started() -> dict:
    return {"type": "run_started", "seq": 1, "at": 1.0, "name": "task-a", "plan_path": "t",
            "plan_format": "tasks", "steps": [], "plan_hash": "0" * 64, "project_root": "/p",
            "jobs": 1}


def test_the_journal_fold_refuses_an_illegal_move():
    state = apply(None, _started())
    moves = ["PLANNING", "PLAN_REVIEW", "PLAN_APPROVED", "IMPLEMENTING"]
    for seq, move in enumerate(moves, 2):
        state = apply(state, {"type": "lifecycle", "seq": seq, "at": 2.0, "subject": "task",
                              "state": move})
    assert lifecycle.task_state(state.lifecycle) == "IMPLEMENTING"
    with pytest.raises(StateError, match="IMPLEMENTING -> DONE"):
        apply(state, {"type": "lifecycle", "seq": 6, "at": 3.0, "subject": "task",
                      "state": "DONE"})
    state = apply(state, {"type": "lifecycle", "seq": 6, "at": 3.0, "subject": "1",
                          "state": "IMPLEMENTING"})
    with pytest.raises(StateError, match="IMPLEMENTING -> COMPLETED"):
        apply(state, {"type": "lifecycle", "seq": 7, "at": 3.0, "subject": "1",
                      "state": "COMPLETED"})


TASK = lifecycle.Task(id="A", goal="g", risk="high", area="core", folder="specs/tasks/A",
                      gate=["pytest -q", "ruff check ."])
PLAN = Plan(path="p", format="implementation-plan", title=None,
            phases=[Phase(id="1", title="One", line=3), Phase(id="2", title="Two", line=9)])


def _fold(decision: lifecycle.Decision, states: dict) -> None:
    """Apply a decision's moves through the table, as the journal's fold does."""
    for subject, state, _ in decision.states:
        if subject == "task":
            lifecycle.check(lifecycle.TASK_TRANSITIONS, states["task"], state, "task")
        else:
            lifecycle.check(lifecycle.STEP_TRANSITIONS, states.get(subject, "PENDING"), state,
                            subject)
        states[subject] = state


def test_a_whole_task_walks_the_table_from_new_to_done():
    states = {"task": "NEW"}
    decision = lifecycle.initial(TASK)
    _fold(decision, states)
    assert [p.id for p in decision.phases] == ["plan:1", "plan-review:1"]
    steps = ["plan:1", "plan-review:1"]
    walk = [("plan:1", None, []), ("plan-review:1", {"verdict": "approved"}, []),
            ("impl:1:1", None, []), ("code-review:1:1", {"verdict": "approved"}, []),
            ("impl:2:1", None, []), ("code-review:2:1", {"verdict": "rejected",
                                                         "concerns": ["c"]}, []),
            ("impl:2:2", None, []), ("code-review:2:2", {"verdict": "approved"}, []),
            ("gate:1", None, ["ruff check .: failed"]), ("fix:1", None, []),
            ("gate:2", None, [])]
    for step_id, verdict, failures in walk:
        done = {s for s, v in states.items() if v == "COMPLETED"}
        decision = lifecycle.after_finish(TASK, step_id, "completed", verdict, PLAN, done,
                                          failures)
        _fold(decision, states)
        steps += [p.id for p in decision.phases]
    assert states == {"task": "DONE", "1": "COMPLETED", "2": "COMPLETED"}
    assert steps[-2:] == ["gate:2:1", "gate:2:2"]
    assert "impl:2:2" in steps and "fix:1" in steps


def test_rejections_are_retried_with_their_concerns_then_wait_for_a_person():
    states = {"task": "NEW"}
    _fold(lifecycle.initial(TASK), states)
    for round_ in (1, 2, 3):
        _fold(lifecycle.after_finish(TASK, f"plan:{round_}", "completed", None, None, set(),
                                     []), states)
        decision = lifecycle.after_finish(
            TASK, f"plan-review:{round_}", "completed",
            {"verdict": "rejected", "concerns": [f"concern {round_}"]}, PLAN, set(), [])
        _fold(decision, states)
        if round_ < 3:
            planner = decision.phases[0]
            assert planner.id == f"plan:{round_ + 1}"
            assert any(f"concern {round_}" in task for task in planner.tasks)
    assert states["task"] == "AWAITING_HUMAN" and decision.ask["id"] == lifecycle.HUMAN_ASK
    assert "concern 3" in decision.ask["question"]
    approved = lifecycle.after_answer(TASK, "approve", None, "task", PLAN, set(), ["x"])
    _fold(approved, states)
    assert states["task"] == "IMPLEMENTING" and states["1"] == "IMPLEMENTING"


def test_a_person_rejecting_fails_the_task_and_the_waiting_step():
    states = {"task": "CODE_REVIEW", "1": "CODE_REVIEW"}
    _fold(lifecycle.Decision(states=[("1", "AWAITING_HUMAN", None),
                                     ("task", "AWAITING_HUMAN", None)]), states)
    rejected = lifecycle.after_answer(TASK, "reject", "too risky", "1", PLAN, set(), [])
    _fold(rejected, states)
    assert states == {"task": "FAILED", "1": "FAILED"}
    assert rejected.states[-1][2] == "rejected by a person: too risky"


RULES = [Rule("claude-sonnet-4-5", role="planner", risk="high", area="core",
              reason="high-risk core"),
         Rule("claude-opus-4-1", role="code-reviewer"),
         Rule("claude-haiku-4-5", risk="low"),
         Rule("claude-sonnet-4-5", area="core")]


@pytest.mark.parametrize("role, risk, area, model, reason", [
    ("planner", "high", "core", "claude-sonnet-4-5", "high-risk core"),
    ("code-reviewer", "low", "docs", "claude-opus-4-1", "rule: role code-reviewer"),
    ("planner", "low", "core", "claude-haiku-4-5", "rule: risk low"),  # first match wins
    ("implementer", "medium", "core", "claude-sonnet-4-5", "rule: area core"),
    ("implementer", "medium", "docs", "fallback",
     "default: no rule matches implementer, medium risk, area docs"),
])
def test_routing_takes_the_first_rule_that_matches(role, risk, area, model, reason):
    chosen = route(RULES, role, risk, area, default="fallback")
    assert (chosen.model, chosen.reason) == (model, reason)
    assert chosen.line() == f"routing [{role}] → {model}: {reason}"


def test_routing_rules_come_from_the_config_and_bad_ones_are_refused(tmp_path):
    folder = tmp_path / ".claude"
    folder.mkdir()
    (folder / "orchestrate.yaml").write_text(
        "routing:\n  - {role: planner, risk: high, model: m1}\n  - {model: m2}\n"
        "routing_default: m3\n")
    config = load_config(tmp_path)
    assert [r.model for r in config.routing_rules()] == ["m1", "m2"]
    assert route(config.routing_rules(), "implementer", "low", "x").model == "m2"
    (folder / "orchestrate.yaml").write_text("routing:\n  - {role: planner, tier: 2}\n")
    with pytest.raises(ConfigError, match="routing"):
        load_config(tmp_path)


@pytest.mark.parametrize("content, problem", [
    (None, "missing"),
    ("not json", "not JSON"),
    ('{"verdict": "maybe"}', 'no "verdict"'),
    ('{"verdict": "rejected"}', "concern"),
    ('{"verdict": "rejected", "concerns": "one"}', "not a list of strings"),
    ('{"verdict": "approved"}', ""),
    ('{"verdict": "rejected", "concerns": ["no tests"]}', ""),
])
def test_a_verdict_file_is_checked_against_its_schema(tmp_path, content, problem):
    path = tmp_path / "v.json"
    if content is not None:
        path.write_text(content)
    verdict, said = read_verdict(path)
    assert (verdict is None) == bool(problem)
    assert problem in said
    item = VerdictItem("v.json")
    [result] = item.check(tmp_path)
    assert result.ok == (not problem)
    assert item.expect(tmp_path)["schema"] == VERDICT_SCHEMA
    assert json.dumps(VERDICT_SCHEMA)  # what `expects` hands out is plain JSON


def test_docs_show_the_states_the_table_has():
    import re
    from pathlib import Path

    from orchestrator.render.lifecycle_diagram import diagrams

    text = (Path(__file__).resolve().parents[1] / "docs" / "tasks.md").read_text()
    section = text.split("<!-- states:", 1)[1].split("<!-- end of states -->", 1)[0]
    blocks = re.findall(r"```mermaid\n.*?```\n", section, re.S)
    assert "\n".join(blocks) == diagrams(), "paste `orchestrate tasks states` into docs/tasks.md"
    for state in lifecycle.TASK_STATES + lifecycle.STEP_STATES:
        assert f"    {state} --> " in section or f"--> {state}\n" in section
