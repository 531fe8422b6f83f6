"""The task lifecycle end to end: `orchestrate tasks run` as a real process, the real engine,
journals and locks, and a stand-in agent that writes only what its prompt's Checks list."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.run_helpers import REPO, write
from tests.task_helpers import (
    AGENT,
    agent_env,
    calls,
    lifecycle_of,
    log_lines,
    make_project,
    orchestrate,
    run_log,
    task_journal,
    tasks_run,
)

REJECT = [{"verdict": "rejected", "concerns": ["Missing error handling"]},
          {"verdict": "rejected", "concerns": ["No rollback strategy"]},
          {"verdict": "rejected", "concerns": ["Still no rollback"]}]
ROUTING = """
routing:
  - {role: planner, risk: high, area: core, model: claude-sonnet-4-5, reason: high-risk core}
  - {role: code-reviewer, model: claude-opus-4-1, reason: reviews need the strongest model}
routing_default: claude-haiku-4-5
"""
HIGH = {"id": "RAE-001", "goal": "Implement search strategies", "risk": "high",
        "area": "core"}


def view(project, task_id: str) -> dict:
    shown = orchestrate(project, "task", task_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_three_plan_rejections_wait_for_a_person_and_approval_carries_on_to_done(tmp_path):
    project = make_project(tmp_path, [HIGH], script={"plan-review": REJECT}, config=ROUTING)

    first = tasks_run(project)
    assert first.returncode == 3, first.stdout + first.stderr
    shown = view(project, "RAE-001")
    assert shown["state"] == "AWAITING_HUMAN"
    assert shown["concerns"] == ["Still no rollback"]
    review = json.loads(orchestrate(project, "review", "--json").stdout)
    assert [task["id"] for task in review["tasks"]] == ["RAE-001"]
    text = orchestrate(project, "review").stdout
    assert "Still no rollback" in text and "rejected by the reviewer 3 times" in text
    summary = json.loads(orchestrate(project, "summary", "--json").stdout)
    assert (summary["tasks"], summary["needs_review"], summary["active"]) == (1, 1, 0)
    assert summary["total_cost_usd"] == pytest.approx(0.06)  # six agent calls at $0.01

    approved = orchestrate(project, "task", "RAE-001", "--approve")
    assert approved.returncode == 0, approved.stderr
    second = tasks_run(project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert view(project, "RAE-001")["state"] == "DONE"

    # The planner was told each concern of the round before it.
    plan_steps = [call["step"] for call in calls(project) if call["kind"] == "plan"]
    assert plan_steps == ["plan:1", "plan:2", "plan:3"]
    steps = project / ".claude" / "orchestrate" / "runs" / "task-rae-001" / "steps"
    second_prompt = next(steps.glob("plan_2-*.prompt.md")).read_text()
    assert "Missing error handling" in second_prompt

    retries = log_lines(project, "retry")
    for number, concern in enumerate(["Missing error handling", "No rollback strategy",
                                      "Still no rollback"], 1):
        assert sum(f"rejected ({number}/3): {concern}" in line for line in retries) == 1
    assert sum("Retry attempt 2/3" in line for line in retries) == 1
    assert sum("Retry attempt 3/3" in line for line in retries) == 1
    human = log_lines(project, "human_review")
    assert len(human) == 2 and "needs human review" in human[0] and "approved" in human[1]
    assert any("completed: done" in line for line in log_lines(project, "task"))
    assert "**Tasks Completed**: 1" in run_log(project)
    assert "| RAE-001 | DONE | $0.0800 |" in run_log(project)  # eight agent calls
    times = [line.split("`")[1] for line in run_log(project).splitlines()
             if line.startswith("- `")]
    assert times and all(len(t) == 24 and t[19] == "." and t.endswith("Z") for t in times)


def test_a_rejected_task_fails_with_the_reason(tmp_path):
    project = make_project(tmp_path, [HIGH], script={"plan-review": REJECT})
    assert tasks_run(project).returncode == 3
    rejected = orchestrate(project, "task", "RAE-001", "--reject", "--reason",
                           "out of scope this quarter", "--json")
    assert rejected.returncode == 0, rejected.stderr
    shown = view(project, "RAE-001")
    assert shown["state"] == "FAILED"
    assert shown["why"] == "rejected by a person: out of scope this quarter"
    assert shown["run_status"] == "failed"
    assert any("rejected by a person: out of scope this quarter" in line
               for line in log_lines(project, "human_review"))
    again = orchestrate(project, "task", "RAE-001", "--approve")
    assert again.returncode != 0 and "not waiting for a review" in again.stderr
    assert tasks_run(project).returncode == 1  # a failed task stays failed


def test_code_review_rejections_wait_for_a_person_at_that_step(tmp_path):
    rejections = [{"verdict": "rejected", "concerns": [f"concern {n}"]} for n in (1, 2, 3)]
    project = make_project(tmp_path, [HIGH], script={"code-review": rejections})
    assert tasks_run(project).returncode == 3
    shown = view(project, "RAE-001")
    assert shown["state"] == "AWAITING_HUMAN" and shown["steps"] == {"1": "AWAITING_HUMAN"}
    assert shown["concerns"] == ["concern 3"]
    implementer = [call["step"] for call in calls(project) if call["kind"] == "impl"]
    assert implementer == ["impl:1:1", "impl:1:2", "impl:1:3"]
    orchestrate(project, "task", "RAE-001", "--approve")
    assert tasks_run(project).returncode == 0
    assert view(project, "RAE-001")["steps"] == {"1": "COMPLETED"}
    assert ("1", "CHANGES_REQUESTED") in lifecycle_of(project, "RAE-001")


GATE = """
import pathlib, sys
counter = pathlib.Path(sys.argv[1])
runs = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(runs))
sys.exit(0 if runs >= int(sys.argv[2]) else 1)
"""


@pytest.mark.parametrize("passes_on, outcome", [(3, "DONE"), (99, "FAILED")])
def test_a_failing_gate_is_fixed_and_run_again_up_to_three_times(tmp_path, passes_on, outcome):
    gate = write(tmp_path / "gate.py", GATE)
    counter = tmp_path / "gate-runs"
    config = (f"quality_gate:\n  - {sys.executable} {gate} {counter} {passes_on}\n"
              f"  - python3 -c pass\n")
    project = make_project(tmp_path, [HIGH], config=config)
    finished = tasks_run(project)
    assert finished.returncode == (0 if outcome == "DONE" else 1), finished.stderr
    shown = view(project, "RAE-001")
    assert shown["state"] == outcome
    gates = [e for e in task_journal(project, "RAE-001")
             if e["type"] == "step_finished" and e["step"].startswith("gate:")]
    first_check = [(e["step"], e["outcome"]) for e in gates if e["step"].endswith(":1")]
    assert first_check == [("gate:1:1", "failed"), ("gate:2:1", "failed"),
                           ("gate:3:1", "completed" if outcome == "DONE" else "failed")]
    assert len(gates) == 6  # both checks of each of the three rounds, each on its own
    assert int(counter.read_text()) == 3
    fixes = [call["step"] for call in calls(project) if call["kind"] == "fix"]
    assert fixes == ["fix:1", "fix:2"]
    gate_lines = log_lines(project, "quality_gate")
    assert len(gate_lines) == 6 and sum("FAILED" in line for line in gate_lines) == \
        (2 if outcome == "DONE" else 3)
    if outcome == "FAILED":
        assert shown["why"].startswith("the quality gate failed 3 times")


def test_routing_is_recorded_with_its_reason_and_reaches_the_agent(tmp_path):
    project = make_project(tmp_path, [HIGH, {"id": "DOC-2", "goal": "Document it",
                                             "risk": "low", "area": "docs"}], config=ROUTING)
    assert tasks_run(project).returncode == 0
    routing = log_lines(project, "routing")
    assert sum("routing [planner] → claude-sonnet-4-5: high-risk core (task=RAE-001)" in line
               for line in routing) == 1
    assert sum("routing [planner] → claude-haiku-4-5: default: no rule matches planner, low "
               "risk, area docs (task=DOC-2)" in line for line in routing) == 1
    assert sum("routing [code-reviewer] → claude-opus-4-1: reviews need the strongest model"
               in line for line in routing) == 2
    assert len(routing) == 8  # four roles for each of two tasks, each once
    models = {(call["step"], call["model"]) for call in calls(project)}
    assert ("plan:1", "claude-sonnet-4-5") in models and ("plan:1", "claude-haiku-4-5") in models
    assert ("code-review:1:1", "claude-opus-4-1") in models
    llm = log_lines(project, "llm_call")
    assert any("[planner] claude-sonnet-4-5 for plan:1 (cost=$0.0100" in line for line in llm)
    summary = json.loads(orchestrate(project, "summary", "--json").stdout)
    assert summary["total_cost_usd"] == pytest.approx(0.01 * len(calls(project)))


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def test_sigkill_mid_task_then_the_same_command_resumes_it(tmp_path):
    project = make_project(tmp_path, [HIGH], script={"plan-review": [*REJECT[:2],
                                                                     {"verdict": "approved"}]})
    env = agent_env(project, TASK_AGENT_SLEEP="0.4",
                    TASK_AGENT_PIDS=str(tmp_path / "agent-pids"))
    runner = subprocess.Popen([sys.executable, "-m", "orchestrator", "tasks", "run",
                               "tasks.yaml", "--agent-cmd", AGENT], cwd=project, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(call["step"] == "plan-review:2" for call in calls(project)):
            break
        time.sleep(0.05)
    time.sleep(0.2)  # into plan:3, the planner still at work
    pids = [int(p) for p in (tmp_path / "agent-pids").read_text().split()]
    _kill_all([runner.pid, *pids])  # the machine went down: the runner and its agents
    runner.wait()
    before = lifecycle_of(project, "RAE-001")
    assert before[-1] == ("task", "PLANNING") and before.count(("task", "PLAN_REJECTED")) == 2

    finished = tasks_run(project, env=env)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    after = lifecycle_of(project, "RAE-001")
    assert after[:len(before)] == before  # it went on from where it was
    assert after.count(("task", "PLANNING")) == 3  # no planning round started over
    events = task_journal(project, "RAE-001")
    assert sum(e["type"] == "run_started" for e in events) == 1
    assert sum(e["type"] == "routed" for e in events) == 4
    entries = [line.split("` ", 1)[1] for line in run_log(project).splitlines()
               if line.startswith("- `")]
    assert len(entries) == len(set(entries)), "an entry of the run log appears twice"
    finished_steps = {e["step"] for e in events if e["type"] == "step_finished"}
    agent_steps = {s for s in finished_steps if not s.startswith("gate:")}
    assert len(log_lines(project, "llm_call")) == len(agent_steps)
    assert "plan:3" in agent_steps and view(project, "RAE-001")["state"] == "DONE"


def _spans(project, task_ids) -> dict[str, tuple[float, float]]:
    spans = {}
    for task_id in task_ids:
        events = task_journal(project, task_id)
        spans[task_id] = (events[0]["at"], events[-1]["at"])
    return spans


def test_three_tasks_with_two_jobs_never_run_three_at_once(tmp_path):
    ids = ["A-1", "B-2", "C-3"]
    project = make_project(tmp_path, [{"id": i, "goal": f"goal {i}"} for i in ids])
    finished = tasks_run(project, "--jobs", "2", env=agent_env(project,
                                                               TASK_AGENT_SLEEP="0.3"))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    spans = _spans(project, ids)
    instants = sorted({at for span in spans.values() for at in span})
    most = max(sum(start <= at <= end for start, end in spans.values()) for at in instants)
    assert most == 2, spans  # two at once, never three
    order = sorted(ids, key=lambda i: spans[i][0])
    assert order[2] == "C-3"  # the third waited for a free job
    assert spans["C-3"][0] >= min(spans["A-1"][1], spans["B-2"][1])


@pytest.mark.parametrize("text, where, said", [
    ("- id: A\n  goal: x\n  risk: extreme\n", 3, "`risk` must be one of low, medium, high"),
    ("- id: A\n  goal: x\n- id: A\n  goal: y\n", 3, "given twice (first on line 1)"),
    ("- id: A\n  goal: x\n  owner: me\n", 3, "unknown key 'owner'"),
    ("- id: A\n  goal: [unclosed\n", 3, "not valid YAML"),
    ("- id: A\n  goal: ''\n", 2, "`goal` must be a non-empty string"),
    ("tasks: 3\n", 1, "expected a list of tasks"),
    ("- id: 'has space'\n  goal: x\n", 1, "a task needs an id"),
])
def test_a_bad_task_file_is_named_with_its_line_and_exits_2(tmp_path, text, where, said):
    project = make_project(tmp_path, [HIGH])
    (project / "tasks.yaml").write_text(text)
    failed = tasks_run(project)
    assert failed.returncode == 2
    assert f"tasks.yaml:{where}: " in failed.stderr and said in failed.stderr
    assert not (project / ".claude" / "orchestrate" / "runs").exists()


def test_the_review_commands_speak_json_and_filter_by_state(tmp_path):
    project = make_project(tmp_path, [HIGH, {"id": "B-2", "goal": "small"}],
                           script={"plan-review": REJECT})
    tasks_run(project)  # both plans are rejected three times
    listed = json.loads(orchestrate(project, "list-tasks", "--state", "awaiting_human",
                                    "--json").stdout)
    assert [task["id"] for task in listed["tasks"]] in (["RAE-001"], ["B-2"],
                                                        ["RAE-001", "B-2"])
    assert json.loads(orchestrate(project, "active", "--json").stdout)["tasks"] == []
    assert orchestrate(project, "list-tasks", "--state", "nonsense").returncode == 2
    missing = orchestrate(project, "task", "NOPE")
    assert missing.returncode == 2 and "no task 'NOPE'" in missing.stderr
    assert orchestrate(project, "task", "B-2", "--reason", "x").returncode == 2
    for command in ("summary", "review", "active", "list-tasks", "task", "clean-state"):
        helped = orchestrate(project, command, "--help")
        assert helped.returncode == 0 and "--json" in helped.stdout


def test_clean_state_refuses_while_a_task_is_locked(tmp_path):
    project = make_project(tmp_path, [HIGH])
    assert tasks_run(project).returncode == 0
    runs = project / ".claude" / "orchestrate" / "runs"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from orchestrator.redact import Redactor\n"
         "from orchestrator.store import FileRunStore\n"
         f"store = FileRunStore({str(runs)!r}, 'task-rae-001', redactor=Redactor())\n"
         "with store.lock():\n print('held', flush=True); time.sleep(60)\n"],
        env=agent_env(project), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = orchestrate(project, "clean-state", "--force")
        assert refused.returncode != 0 and "refusing to clean" in refused.stderr
        assert (runs / "task-rae-001" / "journal.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    assert orchestrate(project, "clean-state").returncode == 2  # --force is required
    cleaned = orchestrate(project, "clean-state", "--force", "--json")
    assert cleaned.returncode == 0, cleaned.stderr
    assert json.loads(cleaned.stdout)["removed"] == ["task-rae-001"]
    left = [p.name for p in (runs / "task-rae-001").iterdir()]
    assert left == ["lock"]  # as after --fresh: the lock stays for whoever takes it next
    assert json.loads(orchestrate(project, "list-tasks", "--json").stdout)["tasks"] == []
    assert not (project / "ORCHESTRATOR_RUN_LOG.md").exists()
    assert (project / "tasks.yaml").exists()


def test_the_stand_in_writes_only_what_the_contract_lists(tmp_path):
    """The reviewer's prompt names the verdict file and its shape, and nothing else: the
    stand-in writes that file alone and the step passes."""
    project = make_project(tmp_path, [HIGH])
    assert tasks_run(project).returncode == 0
    reviews = project / "specs" / "tasks" / "RAE-001" / "reviews"
    assert sorted(p.name for p in reviews.iterdir()) == ["code-1-1.json", "plan-1.json"]
    written = {p.relative_to(project).as_posix() for p in project.rglob("*")
               if p.is_file() and ".git" not in p.parts and ".claude" not in p.parts}
    assert written == {"README.md", "tasks.yaml", "ORCHESTRATOR_RUN_LOG.md",
                       "specs/tasks/RAE-001/plan-1.md", "specs/tasks/RAE-001/reviews/plan-1.json",
                       "specs/tasks/RAE-001/reviews/code-1-1.json", "src/feature.py",
                       "changes/task-rae-001-impl_1_1.txt"}  # the implementer: the tree changes
    assert REPO.exists()


FAKE_CLAUDE = REPO / "tests" / "fake_claude.py"
PLAN_MD = ("# Plan\n\n### Phase 1: Add it\n**Objective**: Add it.\n**Files**: src/it.py\n"
           "dependencies: []\n")


def test_headless_reviewers_answer_through_claude_json_schema(tmp_path):
    """`claude -p --json-schema` for the reviewers: the structured reply becomes the verdict
    file, which the contract then checks like one the agent wrote."""
    project = make_project(tmp_path, [HIGH])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    claude.chmod(0o755)
    scenario = tmp_path / "scenario.json"
    folder = "specs/tasks/RAE-001"
    scenario.write_text(json.dumps({"steps": {
        "plan:1": [{"write": {f"{folder}/plan-1.md": PLAN_MD}}],
        "plan:2": [{"write": {f"{folder}/plan-2.md": PLAN_MD}}],
        "plan-review:1": [{"structured_output": {"verdict": "rejected",
                                                 "concerns": ["no tests"]}}],
        "plan-review:2": [{"structured_output": {"verdict": "approved"}}],
        "impl:1:1": [{"write": {"src/it.py": "it = 1\n"}}],
        "code-review:1:1": [{"structured_output": {"verdict": "approved"}}],
    }}))
    env = agent_env(project, FAKE_CLAUDE_SCENARIO=str(scenario))
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    finished = orchestrate(project, "tasks", "run", "tasks.yaml", env=env)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    made = [json.loads(line) for line in
            scenario.with_name("scenario.json.calls.jsonl").read_text().splitlines()]
    schema = {}
    for call in made:
        argv = call["argv"]
        if call["step"].startswith(("plan-review", "code-review")):
            schema = json.loads(argv[argv.index("--json-schema") + 1])
        else:
            assert "--json-schema" not in argv
    assert schema["properties"]["verdict"]["enum"] == ["approved", "rejected"]
    verdict = json.loads((project / folder / "reviews" / "plan-1.json").read_text())
    assert verdict == {"verdict": "rejected", "concerns": ["no tests"]}
    second = next(c["prompt"] for c in made if c["step"] == "plan:2")
    assert "no tests" in second
    assert view(project, "RAE-001")["state"] == "DONE"


def test_a_task_through_wf_matches_the_protocol_and_waits_for_a_person(tmp_path):
    """`wf start --tasks`, `wf next`/`report`/`exec` as /tasks drives them, every answer
    checked against docs/protocol.md; the person's approval comes from a shell."""
    from tests.wf_helpers import Wf, write_scenario

    project = make_project(tmp_path, [HIGH, {"id": "B-2", "goal": "second"}])
    folder = "specs/tasks/RAE-001"
    steps = {f"plan:{n}": [{"write": {f"{folder}/plan-{n}.md": PLAN_MD}}] for n in (1, 2, 3)}
    steps.update({f"plan-review:{n}": [{"write": {f"{folder}/reviews/plan-{n}.json":
                                                  json.dumps(REJECT[n - 1])}}]
                  for n in (1, 2, 3)})
    steps["impl:1:1"] = [{"write": {"src/it.py": "it = 1\n"}}]
    steps["code-review:1:1"] = [{"write": {f"{folder}/reviews/code-1-1.json":
                                           '{"verdict": "approved"}'}}]
    default = [{"write": {}}]
    scenario = write_scenario(tmp_path / "wf-scenario.json", steps, default)
    wf = Wf(project, scenario)
    started = wf.call("start", "--tasks", "tasks.yaml")
    assert (started["task"], started["run"]) == ("RAE-001", "task-rae-001")
    waiting = wf.drive(started["run"])
    assert waiting["type"] == "wait" and waiting["task"] == "RAE-001"
    assert "orchestrate task RAE-001 --approve" in waiting["message"]
    expects = [item for batch in wf.batches for item in batch]
    assert "plan-review:3@1" in expects
    # /tasks again before anyone decided: the waiting task is left alone, B-2 goes next
    second = wf.call("start", "--tasks", "tasks.yaml")
    assert second["task"] == "B-2"
    assert orchestrate(project, "task", "RAE-001", "--approve").returncode == 0
    again = wf.call("start", "--tasks", "tasks.yaml", "--only", "RAE-001")
    assert again["run"] == "task-rae-001"
    done = wf.drive(again["run"])
    assert done["type"] == "done" and done["status"] == "completed"
    assert done["then"] == f"orchestrate wf start --tasks {project / 'tasks.yaml'} --json"
    assert view(project, "RAE-001")["state"] == "DONE"
    over = wf.call("start", "--tasks", "tasks.yaml", "--only", "RAE-001")
    assert "next" not in over and over["tasks"]["done"] == ["RAE-001"]


def test_hostile_text_in_a_goal_or_a_concern_stays_inside_its_log_entry(tmp_path):
    hostile = "first\n### Run Summary\n- `2000-01-01T00:00:00.000Z` forged \x1b[31mred"
    project = make_project(tmp_path, [{"id": "H-1", "goal": '"ok"'}],
                           script={"plan-review": [{"verdict": "rejected",
                                                    "concerns": [hostile]},
                                                   {"verdict": "approved"}]})
    (project / "tasks.yaml").write_text("- id: H-1\n  goal: |\n    line one\n"
                                        "    ### Injected heading\n")
    assert tasks_run(project).returncode == 0
    text = run_log(project)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# Orchestrator run log", headings[1], "### Execution Log",
                        "### Run Summary"]
    assert "\x1b" not in text and "forged" in text
    assert not any(line.startswith("- `2000") for line in text.splitlines())
