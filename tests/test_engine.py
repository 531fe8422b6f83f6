"""The pure engine: state transitions and next-step decisions, no filesystem."""

from __future__ import annotations

import pytest
from orchestrator.engine import decide
from orchestrator.engine.state import RunState, StateError, apply, replay


def spec(step_id, deps=(), kind="command", attempts=1, phase_hash=None):
    return {"id": step_id, "title": f"step {step_id}", "depends_on": list(deps), "kind": kind,
            "phase_hash": phase_hash or f"h{step_id}", "max_attempts": attempts,
            "timeout_s": None}


def started(*specs, jobs=4):
    return {"type": "run_started", "seq": 1, "at": 100.0, "schema": 1, "name": "demo",
            "plan_path": "/p/plan.md", "plan_format": "plan", "plan_hash": "x",
            "project_root": "/p", "jobs": jobs, "steps": list(specs)}


class Run:
    """A tiny driver over apply() with a fake clock, for readable tests."""

    def __init__(self, *specs, jobs=4):
        self.at = 100.0
        self.state = apply(None, started(*specs, jobs=jobs))

    def do(self, kind, **payload):
        self.at += 1
        self.state = apply(self.state, {"type": kind, "seq": self.state.seq + 1,
                                        "at": self.at, **payload})
        return self

    def start(self, step):
        return self.do("step_started", step=step)

    def finish(self, step, outcome="completed", **extra):
        return self.do("step_finished", step=step, outcome=outcome, duration_s=1.0, **extra)

    def status(self, step):
        return self.state.steps[step].status

    def next(self, jobs=None):
        return decide.next_steps(self.state, decide.scheduler_for(self.state),
                                 jobs or self.state.jobs)


def test_a_run_starts_with_every_step_pending():
    run = Run(spec("1"), spec("2", ["1"]))
    assert [s.status for s in run.state.steps.values()] == ["pending", "pending"]
    assert run.state.status == "running"
    assert decide.ready_steps(run.state) == ["1"]


def test_completion_makes_dependents_ready():
    run = Run(spec("1"), spec("2", ["1"]))
    run.start("1").finish("1")
    assert run.status("1") == "completed"
    assert run.state.steps["1"].attempts == 1
    assert decide.ready_steps(run.state) == ["2"]


def test_failure_blocks_dependents_transitively_and_independent_steps_go_on():
    run = Run(spec("1"), spec("2", ["1"]), spec("3", ["2"]), spec("4"))
    run.start("1").finish("1", "failed", error="boom")
    assert [run.status(s) for s in "1234"] == ["failed", "blocked", "blocked", "pending"]
    assert run.state.steps["2"].error == "dependency 1 failed"
    assert run.next() == ["4"]
    run.start("4").finish("4")
    assert decide.final_status(run.state) == "failed"


def test_timeout_is_its_own_status_and_blocks_dependents():
    run = Run(spec("1"), spec("2", ["1"]))
    run.start("1").finish("1", "timeout", error="timed out after 5 s")
    assert run.status("1") == "timeout"
    assert run.status("2") == "blocked"
    assert run.state.steps["2"].error == "dependency 1 timeout"


def test_a_failed_attempt_is_retried_while_attempts_remain():
    run = Run(spec("1", attempts=3))
    run.start("1").finish("1", "failed", error="first")
    assert run.status("1") == "pending"
    assert run.state.steps["1"].attempts_left == 2
    run.start("1").finish("1", "failed", error="second")
    run.start("1").finish("1", "failed", error="third")
    assert run.status("1") == "failed"
    assert run.state.steps["1"].error == "third"
    assert [h["error"] for h in run.state.steps["1"].history] == ["first", "second", "third"]


def test_a_permanent_failure_is_not_retried():
    run = Run(spec("1", attempts=3))
    run.start("1").finish("1", "failed", error="not logged in", permanent=True)
    assert run.status("1") == "failed"


def test_no_wave_barrier_a_step_starts_when_its_own_dependencies_are_done():
    # 1 and 2 have no deps; 3 needs only 1. While 2 still runs, 3 may start.
    run = Run(spec("1"), spec("2"), spec("3", ["1"]))
    assert run.next() == ["1", "2"]
    run.start("1").start("2").finish("1")
    assert run.next() == ["3"]


def test_jobs_bound_and_critical_path_first():
    # 3 heads a long chain, so it goes before 1 and 2 when only one slot is free.
    run = Run(spec("1"), spec("2"), spec("3"), spec("4", ["3"]), spec("5", ["4"]), jobs=1)
    assert run.next() == ["3"]
    run.start("3")
    assert run.next() == []


def test_conflicting_steps_do_not_run_together():
    run = Run(spec("1"), spec("2"), spec("3"))
    same = {("1", "2"), ("2", "1")}
    chosen = decide.next_steps(run.state, decide.scheduler_for(run.state), 4,
                               conflicts=lambda a, b: (a, b) in same)
    assert chosen == ["1", "3"]


def test_final_status():
    run = Run(spec("1"), spec("2"))
    assert decide.final_status(run.state) is None
    run.start("1")
    assert decide.final_status(run.state) is None
    run.finish("1").start("2").finish("2")
    assert decide.final_status(run.state) == "completed"


def test_interruption_puts_running_steps_back_to_pending():
    run = Run(spec("1"), spec("2"))
    run.start("1").start("2").finish("2").do("run_interrupted")
    assert run.state.status == "interrupted"
    assert [run.status("1"), run.status("2")] == ["pending", "completed"]


def test_resume_changes_and_reset():
    run = Run(spec("1"), spec("2", ["1"]), spec("3", ["2"]), spec("4", attempts=2))
    run.start("1").finish("1").start("2").finish("2", "failed", error="x")
    run.start("4")  # in flight when the runner died
    now = [spec("1"), spec("2", ["1"]), spec("3", ["2"]), spec("4", attempts=2)]
    changes = decide.resume_changes(run.state, now)
    assert changes["skipped"] == ["1"]
    assert changes["retried"] == ["2"]
    assert changes["reset"] == ["2", "3", "4"]
    assert changes["changed"] == []
    run.do("run_resumed", **changes)
    assert [run.status(s) for s in "1234"] == ["completed", "pending", "pending", "pending"]
    assert run.state.steps["2"].attempts_left == 1  # a fresh set of attempts
    assert run.state.segments == 2


@pytest.mark.parametrize("question, held", [("merge-conflict", True), ("no-tests", False)])
def test_a_step_whose_work_a_conflict_kept_aside_waits_for_that_question_only(question, held):
    run = Run(spec("1", attempts=2), spec("2"))
    run.start("1").finish("1", "failed", error="merge conflict", kept="orchestrate/d/1-c",
                          permanent=True)
    run.do("ask_opened", id=question, question="?", options=[{"id": "go", "label": "go"}])
    changes = decide.resume_changes(run.state, [spec("1", attempts=2), spec("2")])
    assert ("1" in changes["retried"]) is not held
    assert "2" in changes["reset"]


def test_resume_reruns_changed_phases_and_follows_the_new_plan():
    run = Run(spec("1"), spec("2", ["1"]))
    run.start("1").finish("1").start("2").finish("2")
    now = [spec("1", phase_hash="edited"), spec("2", ["1"]), spec("2b", ["1"])]
    changes = decide.resume_changes(run.state, now)
    assert changes["changed"] == ["1"]
    assert [s["id"] for s in changes["added"]] == ["2b"]
    run.do("run_resumed", **changes)
    assert changes["stale"] == ["2"]  # it needs the edited phase: it runs again too
    assert run.status("1") == "pending"
    assert run.status("2") == "pending"
    assert list(run.state.steps) == ["1", "2", "2b"]
    assert run.state.steps["1"].phase_hash == "edited"


def test_a_changed_phase_makes_its_dependents_run_again():
    run = Run(spec("1"), spec("2", ["1"]), spec("3", ["2"]), spec("4"), spec("5", ["4"]))
    for step_id in "12345":
        run.start(step_id).finish(step_id)
    now = [spec("1", phase_hash="edited"), spec("2", ["1"]), spec("3", ["2"]), spec("4"),
           spec("5", ["4"])]
    changes = decide.resume_changes(run.state, now)
    assert changes["changed"] == ["1"]
    assert changes["stale"] == ["2", "3"]
    assert changes["skipped"] == ["4", "5"]
    run.do("run_resumed", **changes)
    assert [run.status(s) for s in "12345"] == ["pending"] * 3 + ["completed"] * 2


def test_frontier_matches_ready_steps_event_by_event():
    specs = [spec("1"), spec("2", ["1"]), spec("3", ["1"]), spec("4", ["2", "3"], attempts=2),
             spec("5")]
    run = Run(*specs)
    frontier = decide.Frontier(run.state, decide.scheduler_for(run.state))

    def check():
        assert sorted(frontier.ready()) == sorted(decide.ready_steps(run.state))
        assert frontier.running == {s.id for s in run.state.steps.values()
                                    if s.status == "running"}

    for step_id, outcome in [("1", "completed"), ("5", "completed"), ("2", "completed"),
                             ("3", "completed"), ("4", "failed"), ("4", "completed")]:
        run.start(step_id)
        frontier.update({"type": "step_started", "step": step_id}, run.state)
        check()
        run.finish(step_id, outcome)
        frontier.update({"type": "step_finished", "step": step_id}, run.state)
        check()
    assert frontier.ready() == []


def test_replay_equals_incremental_application_and_round_trips():
    run = Run(spec("1", attempts=2), spec("2", ["1"]))
    events = [started(spec("1", attempts=2), spec("2", ["1"]))]
    for kind, payload in [("step_started", {"step": "1"}),
                          ("step_finished", {"step": "1", "outcome": "failed", "error": "e"}),
                          ("step_started", {"step": "1"}),
                          ("step_finished", {"step": "1", "outcome": "completed",
                                             "cost_usd": 0.25})]:
        run.do(kind, **payload)
        events.append({"type": kind, "seq": len(events) + 1, "at": run.at, **payload})
    rebuilt = replay(events)
    assert rebuilt.to_dict() == run.state.to_dict()
    assert RunState.from_dict(rebuilt.to_dict()).to_dict() == rebuilt.to_dict()
    assert rebuilt.cost_usd == 0.25


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "journal is empty"),
        ([{"type": "step_started", "at": 1, "step": "1"}], "does not begin with run_started"),
        ([started(spec("1")), started(spec("1"))], "run_started twice"),
        ([started(spec("1")), {"type": "step_started", "at": 1, "step": "9"}], "unknown step"),
        ([started(spec("1")), {"type": "bogus", "at": 1}], "unknown event type"),
        ([started(spec("1")), {"type": "step_started", "at": 1, "step": "1"},
          {"type": "step_finished", "at": 2, "step": "1", "outcome": "maybe"}],
         "unknown outcome"),
        ([started(spec("1")), {"type": "step_finished", "at": 1, "step": "1",
                               "outcome": "completed"}], "finished while pending"),
        ([started(spec("1")), {"type": "step_started", "at": 1, "step": "1", "seq": 5}],
         "has seq 5, expected 2"),
        ([started(spec("1")), {"type": "step_started", "step": "1"}], "malformed"),
        ([started(spec("1")), {"type": "step_started", "at": 1, "step": "1"},
          {"type": "step_started", "at": 2, "step": "1"}], "started while running"),
    ],
)
def test_bad_journals_raise_state_error(events, message):
    with pytest.raises(StateError, match=message):
        replay(events)


def soft(step_id, deps=()):
    return {**spec(step_id, deps, kind="agent"), "soft": True}


def test_a_soft_step_that_fails_blocks_nothing_and_fails_no_run():
    run = Run(soft("r1"), soft("r2"), spec("overview", ["r1", "r2"]))
    frontier = decide.Frontier(run.state, decide.scheduler_for(run.state))
    for step_id, outcome in (("r1", "failed"), ("r2", "completed")):
        run.start(step_id)
        frontier.update({"type": "step_started", "step": step_id}, run.state)
        run.finish(step_id, outcome)
        frontier.update({"type": "step_finished", "step": step_id}, run.state)
    assert decide.ready_steps(run.state) == ["overview"] == frontier.ready()
    run.start("overview").finish("overview")
    assert decide.closing(run.state) == ("completed", None)
    # and a resume does not run the dropped soft step again
    changes = decide.resume_changes(run.state, [soft("r1"), soft("r2"),
                                                spec("overview", ["r1", "r2"])])
    assert changes["reset"] == [] and "r1" in changes["skipped"]


def test_steps_added_mid_run_join_the_run_and_the_frontier():
    run = Run(spec("plan"))
    frontier = decide.Frontier(run.state, decide.scheduler_for(run.state))
    run.start("plan").finish("plan")
    event = {"type": "steps_added", "steps": [spec("a", ["plan"]), spec("b", ["a"])]}
    run.do("steps_added", steps=event["steps"])
    frontier.update(event, run.state)
    assert list(run.state.steps) == ["plan", "a", "b"]
    assert frontier.ready() == ["a"] == decide.ready_steps(run.state)
    with pytest.raises(StateError, match="exists already"):
        run.do("steps_added", steps=[spec("a")])


def test_an_open_question_holds_the_run_until_it_is_answered():
    run = Run(spec("tests"))
    run.start("tests").finish("tests", "failed")
    run.do("ask_opened", id="q", question="What now?",
           options=[{"id": "go", "label": "Go"}, {"id": "stop", "label": "Stop"}])
    assert run.state.ask["id"] == "q"
    assert decide.final_status(run.state) == "awaiting_human"
    with pytest.raises(StateError, match="no open question"):
        run.do("ask_answered", id="other", choice="go")
    run.do("ask_answered", id="q", choice="go", text="try harder")
    assert run.state.ask is None
    assert run.state.answers == [{"id": "q", "choice": "go", "text": "try harder"}]
