"""The /orchestrate workflow definition: which steps it starts with and what each finished
step or answer adds. Pure functions, no run."""

from __future__ import annotations

import pytest
from orchestrator.engine import workflow
from orchestrator.plan import parse_plan


def wf(**changes) -> workflow.Workflow:
    facts = dict(description="Add login", topic_dir="specs/004_add_login", number=4,
                 slug="add_login", workflow_type="feature", complexity=6,
                 thinking_mode="think", topics=["auth_patterns", "sessions"],
                 test_command="make test", cli="orchestrate")
    facts.update(changes)
    return workflow.Workflow(**facts)


def test_the_first_steps_are_research_together_then_overview_then_plan():
    phases = workflow.initial_phases(wf())
    assert [(p.id, p.owner, p.depends_on) for p in phases] == [
        ("research:auth_patterns", "research-specialist", []),
        ("research:sessions", "research-specialist", []),
        ("overview", "research-synthesizer", ["research:auth_patterns", "research:sessions"]),
        ("plan", "plan-architect", ["overview"]),
    ]
    assert phases[0].files == ["specs/004_add_login/reports/001_auth_patterns.md"]
    assert phases[0].sections == {phases[0].files[0]: ["Summary", "Findings",
                                                      "Recommendations"]}
    assert phases[3].files == ["specs/004_add_login/plans/004_implementation.md"]
    assert "plan validate --format implementation-plan" in phases[3].scripts[0].text
    no_research = workflow.initial_phases(wf(topics=[]))
    assert [(p.id, p.depends_on) for p in no_research] == [("plan", [])]


def test_a_validated_plan_becomes_steps_in_its_order_then_the_tests():
    text = ("## Implementation Phases\n\n### Phase 1: A\ndependencies: []\n\n"
            "### Phase 2: B\ndependencies: []\n\n### Phase 3: C\ndependencies: [1, 2]\n")
    plan, _ = parse_plan(text, "plan.md", "implementation-plan")
    phases, ask = workflow.after_finish(wf(), "plan", "completed", plan, set())
    assert ask is None
    assert [(p.id, p.depends_on) for p in phases] == [
        ("phase:1", ["plan"]), ("phase:2", ["plan"]), ("phase:3", ["phase:1", "phase:2"]),
        ("tests", ["phase:1", "phase:2", "phase:3"])]
    _, ask = workflow.after_finish(wf(test_command=None), "plan", "completed", plan, set())
    assert ask["id"] == workflow.NO_TESTS_ASK


@pytest.mark.parametrize(("step", "status", "added", "asks"), [
    ("tests", "completed", ["docs", "summary"], False),
    ("tests", "failed", ["debug:1", "fix:1", "tests:2"], False),
    ("tests:2", "failed", ["debug:2", "fix:2", "tests:3"], False),
    ("tests:3", "failed", ["debug:3", "fix:3", "tests:4"], False),
    ("tests:4", "failed", [], True),
    ("tests:3", "completed", ["docs", "summary"], False),
    ("phase:1", "completed", [], False),
])
def test_what_a_test_run_adds(step, status, added, asks):
    phases, ask = workflow.after_finish(wf(), step, status, None, set())
    assert [p.id for p in phases] == added
    assert (ask is not None) is asks
    if asks:
        assert [o["id"] for o in ask["options"]] == ["guidance", "revise", "continue"]


def test_answers_add_a_guided_round_a_revision_or_the_closing_steps():
    steps = ["plan", "phase:1", "tests", "debug:1", "fix:1", "tests:2", "debug:2", "fix:2",
             "tests:3", "debug:3", "fix:3", "tests:4"]
    guided = workflow.answer_ask(wf(), workflow.TESTS_ASK, "guidance", "look at the clock",
                                 steps)
    assert [p.id for p in guided] == ["debug:4", "fix:4", "tests:5"]
    assert any("look at the clock" in text for text in guided[0].procedures)
    revised = workflow.answer_ask(wf(), workflow.TESTS_ASK, "revise", None, steps)
    assert [p.id for p in revised] == ["revise:1", "tests:5"]
    closing = workflow.answer_ask(wf(create_pr=True), workflow.TESTS_ASK, "continue", None,
                                  steps)
    assert [(p.id, p.depends_on) for p in closing] == [
        ("docs", ["tests:4"]), ("summary", ["docs"]), ("pr", ["summary"])]
    assert workflow.answer_ask(wf(), workflow.NO_TESTS_ASK, "stop", None, steps) == []
