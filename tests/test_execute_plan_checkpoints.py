"""/execute-plan's records in the plan file: the Execution Checkpoints section is replaced
in place or added at the end, and every other byte of the plan stays as written."""

from __future__ import annotations

import subprocess

import yaml
from orchestrator.engine.state import apply
from orchestrator.playbooks.execute_plan.checkpoints import SECTION, with_checkpoints

from tests.wf_helpers import Wf, shell_phase, write_scenario


def state(status="running"):
    spec = {"id": "1", "title": "A", "depends_on": [], "kind": "command", "phase_hash": "h",
            "files": ["out.txt"]}
    run = apply(None, {"type": "run_started", "seq": 1, "at": 1e9, "name": "plan",
                       "plan_path": "/p/plan.md", "plan_format": "plan", "plan_hash": "x",
                       "project_root": "/p", "jobs": 4, "steps": [spec]})
    run.status = status
    return run


def checkpoints_of(text: str) -> dict:
    body = text[text.index(SECTION):].split("```yaml\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(body)


def test_the_section_is_added_at_the_end_and_nothing_else_changes():
    plan = "# Plan\n\n## Phase 1: A\n\nDo it.\n"
    updated = with_checkpoints(plan, state())
    assert updated.startswith(plan)
    assert checkpoints_of(updated)["phases"]["1"] == {"status": "pending", "attempts": 0,
                                                      "artifacts": ["out.txt"]}


def test_the_section_is_replaced_in_place_and_what_follows_it_is_kept():
    head = "# Plan\n\n## Phase 1: A\n\nDo it.\n\n"
    tail = "## Notes\n\nKeep me, byte for byte.\n"
    first = with_checkpoints(head, state())
    plan = first + "\n" + tail
    again = with_checkpoints(plan, state("completed"))
    assert again.startswith(head) and again.endswith(tail)
    assert again.count(SECTION) == 1
    assert checkpoints_of(again)["status"] == "completed"
    assert with_checkpoints(again, state("completed")) == again


def test_a_dirty_tree_is_a_question_before_any_phase(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "plan.md").write_text("# Plan\n\n" + shell_phase("1", "echo hi > hi.txt"))
    (project / "stray.txt").write_text("not committed")
    wf = Wf(project, write_scenario(tmp_path / "scenario.json"))
    wf.call("start", "--plan", "plan.md")
    [ask] = wf.call("next", "plan")["actions"]
    assert ask["type"] == "ask" and ask["id"] == "dirty-tree"
    assert "stray.txt" in ask["question"]
    wf.call("answer", "plan", "dirty-tree", "continue")
    assert wf.drive("plan")["status"] == "completed"
    text = (project / "plan.md").read_text()
    assert checkpoints_of(text)["phases"]["1"]["status"] == "completed"
    logs = list((project / ".ai" / "logs").glob("*.plan-execution-log.md"))
    assert logs and "step 1 completed" in logs[0].read_text()


FAILING_MAKEFILE = "test:\n\t@touch ran.txt; echo '0 passed, 1 failed'; false\n"


def test_the_tests_run_first_only_once_the_user_says_so(tmp_path):
    """The repository's test command is its own code: asked about before it runs; failing
    tests are a second question; a plan that starts with design asks neither."""
    for first_type, asked in (("implementation", True), ("design", False)):
        project = tmp_path / first_type
        project.mkdir()
        (project / "Makefile").write_text(FAILING_MAKEFILE)
        (project / "plan.md").write_text(
            "# Plan\n\n## Phase 1: First\n"
            f"- **Type:** {first_type}\n- **Depends on:** none\n- **Files:** `a.txt`\n")
        wf = Wf(project, write_scenario(tmp_path / f"{first_type}.json"))
        wf.call("start", "--plan", "plan.md")
        actions = wf.call("next", "plan")["actions"]
        asks = [a for a in actions if a["type"] == "ask"]
        assert bool(asks) is asked, actions
        assert not (project / "ran.txt").exists()  # nothing of the repository's ran yet
        if asked:
            assert asks[0]["id"] == "run-tests-first" and "make test" in asks[0]["question"]
            wf.call("answer", "plan", "run-tests-first", "run")
            [failing] = wf.call("next", "plan")["actions"]
            assert failing["id"] == "tests-failing", failing
            assert (project / ".claude" / "orchestrate" / "runs" / "plan" /
                    "preflight-tests.log").read_text().startswith("0 passed, 1 failed")


def test_skipping_the_first_test_run_starts_the_phases(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Makefile").write_text(FAILING_MAKEFILE)
    (project / "plan.md").write_text("# Plan\n\n" + shell_phase("1", "echo hi > hi.txt"))
    wf = Wf(project, write_scenario(tmp_path / "scenario.json"))
    wf.call("start", "--plan", "plan.md")
    wf.call("answer", "plan", "run-tests-first", "skip")
    [action] = wf.call("next", "plan")["actions"]
    assert action["type"] == "command" and action["step"] == "1"
    assert not (project / "ran.txt").exists()


def test_the_configs_consent_runs_the_tests_without_asking(tmp_path):
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "orchestrate.yaml").write_text("preflight_tests: true\n")
    (project / "Makefile").write_text(FAILING_MAKEFILE)
    (project / "plan.md").write_text("# Plan\n\n" + shell_phase("1", "echo hi > hi.txt"))
    wf = Wf(project, write_scenario(tmp_path / "scenario.json"))
    wf.call("start", "--plan", "plan.md")
    assert (project / "ran.txt").exists()
    [ask] = wf.call("next", "plan")["actions"]
    assert ask["id"] == "tests-failing"


def test_an_execute_plan_run_ends_with_a_full_test_and_lint_run(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Makefile").write_text("test:\n\t@echo tested > tested.txt\n")
    (project / ".claude").mkdir()
    (project / ".claude" / "orchestrate.yaml").write_text(
        "lint_command: echo linted > linted.txt\n")
    (project / "plan.md").write_text("# Plan\n\n" + shell_phase("1", "echo hi > hi.txt"))
    wf = Wf(project, write_scenario(tmp_path / "scenario.json"))
    wf.call("start", "--plan", "plan.md")
    assert wf.drive("plan")["status"] == "completed"
    assert ["final:tests@1", "final:lint@1"] in wf.batches
    assert (project / "tested.txt").exists() and (project / "linted.txt").exists()
    phases = checkpoints_of((project / "plan.md").read_text())["phases"]
    assert phases["final:tests"]["status"] == phases["final:lint"]["status"] == "completed"
