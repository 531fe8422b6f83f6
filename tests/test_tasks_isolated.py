"""The task lifecycle with `isolate: true`: a task's implementation and fix steps each work
in a git worktree of their own and are merged as they complete, the quality gate checks the
merged work in a worktree, and the code reviewer is handed exactly the step's change.
`orchestrate tasks run` as a real process, real git, and the stand-in agent."""

from __future__ import annotations

import json
from pathlib import Path

from tests.task_helpers import agent_env, calls, git, make_project, orchestrate, task_journal

TWO_PHASES = """# Plan

### Phase 1: Add the parser
**Objective**: Add the parser.
**Files**: src/parser.py
dependencies: []

### Phase 2: Add the printer
**Objective**: Add the printer.
**Files**: src/printer.py
dependencies: [1]
"""
TASK = {"id": "ISO-1", "goal": "Add a parser and a printer"}


def isolated_project(tmp_path: Path, *, script: dict | None = None) -> Path:
    """A task of two phases under ``isolate: true``; the gate needs both phases' files and
    notes the folder it ran in."""
    gate = (f"test -f src/parser.py && test -f src/printer.py && "
            f"pwd >> {tmp_path / 'gate-cwd'}")
    config = f"isolate: true\nquality_gate:\n  - {json.dumps(gate)}\n"
    return make_project(tmp_path, [TASK], script=script, config=config)


def run_tasks(project: Path, *args: str):
    from tests.task_helpers import AGENT

    return orchestrate(project, "tasks", "run", "tasks.yaml", "--agent-cmd", AGENT, *args,
                       env=agent_env(project, TASK_AGENT_PLAN=TWO_PHASES))


def credited(project: Path, step: str) -> list[str]:
    """The files the journal credits ``step`` with when it merged."""
    events = task_journal(project, TASK["id"])
    for event in events:
        text = event.get("text") or ""
        if event["type"] == "note" and f"step {step}: merged" in text:
            return sorted(text.split("file(s): ", 1)[1].split(", "))
    raise AssertionError(f"no merge note for {step}")


def change_of(project: Path, step: str) -> str:
    finished = [e for e in task_journal(project, TASK["id"])
                if e["type"] == "step_finished" and e["step"] == step]
    return finished[-1]["change"]


def test_a_tasks_implementation_steps_run_in_worktrees_and_each_review_sees_its_change(tmp_path):
    project = isolated_project(tmp_path)
    before = git(project, "rev-parse", "HEAD").strip()

    done = run_tasks(project)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(orchestrate(project, "task", "ISO-1", "--json").stdout)
    assert shown["state"] == "DONE" and shown["steps"] == {"1": "COMPLETED", "2": "COMPLETED"}

    by_step = {call["step"]: call for call in calls(project)}
    worktrees = project / ".claude" / "worktrees"
    for step in ("impl:1:1", "impl:2:1"):  # each in its own worktree
        assert Path(by_step[step]["cwd"]).parent == worktrees, by_step[step]["cwd"]
    assert by_step["impl:1:1"]["cwd"] != by_step["impl:2:1"]["cwd"]
    for step in ("plan:1", "plan-review:1", "code-review:1:1", "code-review:2:1"):
        assert Path(by_step[step]["cwd"]) == project  # their plan and verdicts stay here

    # Each reviewer was handed its step's exact range and saw exactly what it was credited with.
    for phase in ("1", "2"):
        review = by_step[f"code-review:{phase}:1"]
        assert review["change"] == change_of(project, f"impl:{phase}:1")
        assert review["reviewed"] == credited(project, f"impl:{phase}:1")
    assert "src/parser.py" in by_step["code-review:1:1"]["reviewed"]
    assert "src/parser.py" not in by_step["code-review:2:1"]["reviewed"]
    assert "src/printer.py" in by_step["code-review:2:1"]["reviewed"]

    # The gate checked the merged work, in a worktree, and merged nothing of its own.
    gate_cwd = (tmp_path / "gate-cwd").read_text().split()
    assert len(gate_cwd) == 1 and Path(gate_cwd[0]).parent == worktrees
    journal = task_journal(project, "ISO-1")
    assert any("step gate:1:1: checked" in (e.get("text") or "") for e in journal)

    # At the end the user's branch has the work; no worktree or branch is left.
    assert (project / "src" / "parser.py").is_file() and (project / "src" / "printer.py").is_file()
    assert git(project, "merge-base", "--is-ancestor", before, "HEAD") == ""
    assert len(git(project, "worktree", "list").splitlines()) == 1
    assert git(project, "branch", "--list", "orchestrate/*").strip() == ""
    assert "src/parser.py" not in git(project, "status", "--porcelain")  # committed, landed


def test_a_rejected_change_is_redone_in_a_new_worktree_and_only_the_redo_is_reviewed(tmp_path):
    rejected = [{"verdict": "rejected", "concerns": ["name the parser's errors"]},
                {"verdict": "approved"}]
    project = isolated_project(tmp_path, script={"code-review": rejected})
    done = run_tasks(project)
    assert done.returncode == 0, done.stdout + done.stderr
    by_step = {call["step"]: call for call in calls(project)}
    first, second = by_step["code-review:1:1"], by_step["code-review:1:2"]
    assert first["change"] != second["change"]
    # The redo starts from the merged first try (git exits non-zero otherwise).
    git(project, "merge-base", "--is-ancestor", first["change"].split("..")[1],
        second["change"].split("..")[0])
    assert second["reviewed"] == credited(project, "impl:1:2")
    assert Path(by_step["impl:1:2"]["cwd"]).parent == project / ".claude" / "worktrees"
    prompt = next((project / ".claude" / "orchestrate" / "runs" / "task-iso-1" / "steps")
                  .glob("code-review_1_2-*.prompt.md")).read_text()
    assert f"`git diff {second['change']}`" in prompt


def test_without_isolation_the_reviewer_reads_the_working_tree(tmp_path):
    project = make_project(tmp_path, [TASK], config="quality_gate:\n  - \"true\"\n")
    done = run_tasks(project)
    assert done.returncode == 0, done.stdout + done.stderr
    by_step = {call["step"]: call for call in calls(project)}
    assert all(Path(call["cwd"]) == project for call in by_step.values())
    assert "change" not in by_step["code-review:1:1"]
    assert not any("change" in e for e in task_journal(project, "ISO-1")
                   if e["type"] == "step_finished")


def test_under_wf_the_implementer_is_sent_to_its_worktree_and_the_reviewer_gets_the_range(
        tmp_path):
    """/tasks drives the same isolation through `wf`: the impl action names its worktree,
    the review action does not and its prompt names the impl step's exact range."""
    from tests.wf_helpers import Wf, write_scenario

    project = isolated_project(tmp_path)
    folder = "specs/tasks/ISO-1"
    steps = {"plan:1": [{"write": {f"{folder}/plan-1.md": TWO_PHASES}}],
             "plan-review:1": [{"write": {f"{folder}/reviews/plan-1.json":
                                          '{"verdict": "approved"}'}}],
             "impl:1:1": [{"write": {"src/parser.py": "parse = 1\n"}}],
             "impl:2:1": [{"write": {"src/printer.py": "show = 1\n"}}]}
    steps.update({f"code-review:{n}:1": [{"write": {f"{folder}/reviews/code-{n}-1.json":
                                                    '{"verdict": "approved"}'}}]
                  for n in (1, 2)})
    wf = Wf(project, write_scenario(tmp_path / "wf-scenario.json", steps))
    started = wf.call("start", "--tasks", "tasks.yaml")
    done = wf.drive(started["run"])
    assert done["type"] == "done" and done["status"] == "completed", done

    handed = {action["step"]: action for action in wf.handed if "step" in action}
    worktrees = project / ".claude" / "worktrees"
    for step in ("impl:1:1", "impl:2:1"):
        assert Path(handed[step]["worktree"]).parent == worktrees
        assert handed[step]["prompt"].startswith(f"Work only in the git worktree "
                                                 f"{handed[step]['worktree']}")
    for step in ("plan:1", "plan-review:1", "code-review:1:1", "code-review:2:1"):
        assert "worktree" not in handed[step]
    for phase, made in (("1", "src/parser.py"), ("2", "src/printer.py")):
        change = change_of(project, f"impl:{phase}:1")
        assert f"`git diff {change}`" in wf.prompt_of(handed[f"code-review:{phase}:1"])
        assert credited(project, f"impl:{phase}:1") == [made]
    assert Path((tmp_path / "gate-cwd").read_text().strip()).parent == worktrees
    assert (project / "src" / "printer.py").read_text() == "show = 1\n"
    assert len(git(project, "worktree", "list").splitlines()) == 1
    summary = (project / ".claude" / "orchestrate" / "runs" / "task-iso-1" / "summary.md")
    assert "## Worktrees" in summary.read_text()  # the same notes as a headless run's


ONE_PHASE_EACH = """# Plan

### Phase 1: Add the module
**Objective**: Add the module of this task.
**Files**: src/{task}.py
dependencies: []
"""


def test_two_isolated_tasks_at_once_both_land_in_the_users_branch(tmp_path):
    """`tasks run --jobs 2 --isolate`: each task's run has its own integration branch; the
    first to finish fast-forwards the user's branch, the second merges onto it. Another
    run landing while a step works is not taken for a stray commit."""
    from tests.task_helpers import AGENT

    tasks = [{"id": "A-1", "goal": "first"}, {"id": "B-2", "goal": "second"}]
    project = make_project(tmp_path, tasks, config="quality_gate:\n  - \"true\"\n")
    before = git(project, "rev-parse", "HEAD").strip()
    done = orchestrate(project, "tasks", "run", "tasks.yaml", "--jobs", "2", "--isolate",
                       "--agent-cmd", AGENT,
                       env=agent_env(project, TASK_AGENT_PLAN=ONE_PHASE_EACH,
                                     TASK_AGENT_SLOW=json.dumps({"task-b-2 impl:1:1": 5})))
    assert done.returncode == 0, done.stdout + done.stderr
    b_impl = next(call for call in calls(project)
                  if (call["run"], call["step"]) == ("task-b-2", "impl:1:1"))
    a_landed = next(e["at"] for e in task_journal(project, "A-1")
                    if "the run's work was" in e.get("text", ""))
    assert b_impl["started"] < a_landed < b_impl["ended"]  # A landed while B's step worked
    tracked = git(project, "ls-files").split()
    assert "src/A-1.py" in tracked and "src/B-2.py" in tracked
    assert git(project, "merge-base", "--is-ancestor", before, "HEAD") == ""
    landings = [e["text"] for task in ("A-1", "B-2") for e in task_journal(project, task)
                if e["type"] == "note" and "the run's work was" in e.get("text", "")]
    assert len(landings) == 2
    assert sum("merged into the current branch, which had moved on" in t
               for t in landings) == 1, landings
    assert len(git(project, "worktree", "list").splitlines()) == 1
    assert git(project, "branch", "--list", "orchestrate/*").strip() == ""
    assert git(project, "status", "--porcelain", "--untracked-files=no").strip() == ""
