"""`/orchestrate` as the engine runs it: `wf start "<feature>"`, then the protocol until done,
one process per call, with the scripted stand-in doing the agents' work (tests/fake_claude.py).
Research, overview, plan, the plan's phases, tests, the debug loop, docs, summary and PR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wf_helpers import Wf, env_for, write_scenario

FEATURE = "Add a session timeout with research into security best practices"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "Makefile").write_text("test:\n\ttest -s src/one.txt && test -s src/two.txt\n")
    (root / "README.md").write_text("# Project\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t",
                    "commit", "-qm", "start"], check=True)
    return root


@pytest.fixture
def gh_log(tmp_path, monkeypatch):
    """A stand-in `gh` on PATH that logs its arguments and says it is logged in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'
                  'case "$1" in pr) echo https://example.invalid/pr/1;; esac\n')
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def report(*sections: str) -> str:
    return "# Report\n\n" + "".join(f"## {name}\n\nSomething found.\n\n" for name in sections)


PLAN = """# Implementation Plan: session timeout

## Implementation Phases

### Phase 1: First part
**Objective**: Write the first file.
dependencies: []

Files: `src/one.txt`

### Phase 2: Second part
**Objective**: Write the second file.
dependencies: []

Files: `src/two.txt`
"""


def scenario_for(topic: str, topics: list[str], **overrides) -> dict:
    steps = {}
    for index, name in enumerate(topics, 1):
        steps[f"research:{name}"] = [{"write": {f"{topic}/reports/{index:03d}_{name}.md":
                                                report("Summary", "Findings",
                                                       "Recommendations")}}]
    steps["overview"] = [{"write": {
        f"{topic}/reports/{len(topics) + 1:03d}_research_overview.md":
            report("Summary", "Key Findings", "Recommendations")}}]
    number = topic.split("/")[-1].split("_")[0]
    steps["plan"] = [{"write": {f"{topic}/plans/{number}_implementation.md": PLAN}}]
    steps["phase:1"] = [{"write": {"src/one.txt": "one"}}]
    steps["phase:2"] = [{"write": {"src/two.txt": "two"}}]
    steps["docs"] = [{"write": {"README.md": "# Project\n\nSessions time out.\n"}}]
    steps.update(overrides)
    return steps


def start(wf: Wf, *args: str) -> dict:
    answer = wf.call("start", FEATURE, *args)
    assert answer["schema"] == "orchestrate/wf-start@1"
    return answer


def topic_of(answer: dict, project: Path) -> str:
    return str(Path(answer["topic_dir"]).relative_to(project))


def research_topics(project: Path, run: str) -> list[str]:
    state = json.loads(subprocess.run(
        [sys.executable, "-m", "orchestrator", "status", run, "--json"], cwd=project,
        env=env_for(project, Path("/none")), capture_output=True, text=True,
        check=True).stdout)
    return [s["id"].split(":", 1)[1] for s in state["steps"] if s["id"].startswith("research:")]


def test_the_whole_workflow_reaches_done_with_a_summary_and_a_pull_request(
        project, tmp_path, gh_log):
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf, "--create-pr")
    topic = topic_of(answer, project)
    assert topic.startswith("specs/001_")
    topics = research_topics(project, answer["run"])
    assert topics, "a feature with research in it has research topics"
    write_scenario(wf.scenario, scenario_for(topic, topics))
    done = wf.drive(answer["run"])
    assert done["status"] == "completed", done
    root = project / topic
    for kind in ("reports", "plans", "summaries", "debug", "scripts", "outputs"):
        assert (root / kind).is_dir()
    summary = (root / "summaries" / "001_workflow_summary.md").read_text()
    assert "```mermaid" in summary and "gantt" in summary
    assert "plans/001_implementation.md" in summary
    assert (project / "src" / "one.txt").exists() and (project / "src" / "two.txt").exists()
    assert list((root / "outputs").glob("tests*.log"))
    assert "Cross-references" in (root / "plans" / "001_implementation.md").read_text()
    assert "pr create" in gh_log.read_text()
    # the two independent phases of the plan were handed out together
    assert any({"phase:1@1", "phase:2@1"} <= set(batch) for batch in wf.batches)


def test_a_research_agent_that_writes_nothing_gets_retry_never_completed(project, tmp_path):
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf)
    topic = topic_of(answer, project)
    topics = research_topics(project, answer["run"])
    lazy = f"research:{topics[0]}"
    write_scenario(wf.scenario, scenario_for(topic, topics, **{lazy: [{"result": "done!"}]}))
    first = wf.call("next", answer["run"])
    outcomes = []
    for action in first["actions"]:
        wf.perform(action)
        outcomes.append((action["step"], wf.call("report", answer["run"],
                                                 action["id"])["outcome"]))
    assert (lazy, "retry") in outcomes
    assert all(outcome == "completed" for step, outcome in outcomes if step != lazy)


def test_tests_that_never_pass_get_three_debug_rounds_then_a_question(project, tmp_path):
    (project / "Makefile").write_text("test:\n\t@echo '0 passed, 1 failed'; false\n")
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf)
    topic = topic_of(answer, project)
    topics = research_topics(project, answer["run"])
    steps = scenario_for(topic, topics)
    for number in (1, 2, 3):
        steps[f"debug:{number}"] = [{"write": {
            f"{topic}/debug/{number:03d}_debug_round_{number}.md":
                report("Root Cause", "Proposed Fix", "Confidence")}}]
        steps[f"fix:{number}"] = [{"write": {f"src/fix{number}.txt": "tried"}}]
    write_scenario(wf.scenario, steps)
    for _ in range(60):
        actions = wf.call("next", answer["run"])["actions"]
        asks = [a for a in actions if a["type"] == "ask"]
        if asks:
            break
        assert not [a for a in actions if a["type"] == "done"], actions
        for action in actions:
            if action["type"] == "command":
                wf.call("exec", answer["run"], action["id"])
        agents = [a for a in actions if a["type"] == "agent"]
        for action in agents:
            wf.perform(action)
        for action in agents:
            wf.call("report", answer["run"], action["id"])
    [ask] = asks
    assert [o["id"] for o in ask["options"]] == ["guidance", "revise", "continue"]
    debug_reports = sorted(p.name for p in (project / topic / "debug").glob("*.md"))
    assert debug_reports == ["001_debug_round_1.md", "002_debug_round_2.md",
                             "003_debug_round_3.md"]
    assert not (project / topic / "debug" / "004_debug_round_4.md").exists()
    status = wf.call("status", answer["run"])
    assert status["status"] == "awaiting_human"
    assert [s for s in status["steps"] if s.startswith("debug:")] == ["debug:1", "debug:2",
                                                                     "debug:3"]
    # going on with known failures reaches the docs and the end
    wf.call("answer", answer["run"], ask["id"], "continue")
    assert wf.drive(answer["run"])["status"] == "completed"


def test_a_hostile_description_runs_nothing_and_stays_inside_specs(project, tmp_path):
    marker = tmp_path / "x"
    hostile = f"$(touch {marker}) `id` ../../etc; rm -rf ~"
    wf = Wf(project, tmp_path / "scenario.json")
    answer = wf.call("start", hostile)
    topic = Path(answer["topic_dir"])
    assert topic.parent == project / "specs"
    assert not marker.exists()
    assert all(ch.isalnum() or ch == "_" for ch in topic.name)


def test_a_dry_run_writes_nothing_anywhere(project, tmp_path):
    before = subprocess.run(["git", "-C", str(project), "status", "--porcelain",
                             "--ignored"], capture_output=True, text=True).stdout
    wf = Wf(project, tmp_path / "scenario.json")
    preview = wf.call("start", FEATURE, "--dry-run", "--create-pr")
    assert preview["schema"] == "orchestrate/wf-dry-run@1"
    assert preview["workflow_type"] == "feature"
    assert preview["research_topics"] and preview["steps"][-1]["id"] == "plan"
    assert preview["estimated_minutes"] > 0
    assert "pull request" in preview["then"]
    after = subprocess.run(["git", "-C", str(project), "status", "--porcelain", "--ignored"],
                           capture_output=True, text=True).stdout
    assert after == before
    assert not (project / "specs").exists() and not (project / ".claude").exists()


def test_the_same_description_again_offers_to_resume_at_the_step_in_flight(project, tmp_path):
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf)
    handed = wf.call("next", answer["run"])["actions"]
    again = start(wf)
    assert again["run"] == answer["run"]
    assert again["resumable"]["resume"] == f"orchestrate wf next {answer['run']} --json"
    resumed = wf.call("next", answer["run"])
    assert [f["id"] for f in resumed["in_flight"]] == [a["id"] for a in handed]
    lost = wf.call("next", answer["run"], "--again", handed[0]["id"])
    assert lost["actions"] == [handed[0]]


BAD_PLAN = """# Implementation Plan: broken

## Implementation Phases

### Phase 1: First part
dependencies: [7]

Files: `src/one.txt`
"""


def test_an_invalid_plan_is_retried_with_its_errors_in_the_prompt(project, tmp_path):
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf)
    topic = topic_of(answer, project)
    topics = research_topics(project, answer["run"])
    plan_file = f"{topic}/plans/001_implementation.md"
    write_scenario(wf.scenario, scenario_for(topic, topics, plan=[
        {"write": {plan_file: BAD_PLAN}}, {"write": {plan_file: PLAN}}]))
    prompts, outcomes = [], []
    for _ in range(12):
        actions = wf.call("next", answer["run"])["actions"]
        for action in actions:
            if action["type"] != "agent":
                continue
            if action["step"] == "plan":
                prompts.append(wf.prompt_of(action))
            wf.perform(action)
            result = wf.call("report", answer["run"], action["id"])
            if action["step"] == "plan":
                outcomes.append(result["outcome"])
        if outcomes[-1:] == ["completed"]:
            break
    assert outcomes == ["retry", "completed"]
    assert f"{plan_file}:6: phase 1 depends on unknown phase 7" in prompts[1]
    steps = wf.call("status", answer["run"])["steps"]
    assert "phase:1" in steps and "phase:2" in steps


@pytest.mark.parametrize(("text", "description", "flags"), [
    ('"Add OAuth login" --create-pr', "Add OAuth login", {"create_pr"}),
    ("Add OAuth login --dry-run --sequential", "Add OAuth login", {"dry_run", "sequential"}),
    ("$(touch /tmp/x) `id` ../../etc; rm -rf ~", "$(touch /tmp/x) `id` ../../etc; rm -rf ~",
     set()),
    ('an "unpaired quote --parallel', 'an "unpaired quote', {"parallel"}),
])
def test_the_slash_command_arguments_are_text_and_known_flags(text, description, flags):
    from orchestrator.cli.wf import parse_arguments

    parsed, found = parse_arguments(text)
    assert parsed == description
    assert {name for name, on in found.items() if on} == flags


def test_resume_without_a_name_finds_the_latest_unfinished_workflow(project, tmp_path):
    wf = Wf(project, tmp_path / "scenario.json")
    answer = start(wf)
    handed = wf.call("next", answer["run"])["actions"]
    token = wf.call("token")["token"]
    done = subprocess.run([sys.executable, "-m", "orchestrator", "wf", "start", "--json",
                           "--arguments-stdin", "--token", token], input="--resume", cwd=project,
                          env=env_for(project, Path("/none")), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    resumed = wf.check("start", done.stdout)
    assert resumed["run"] == answer["run"]
    assert resumed["next"] == f"orchestrate wf next {answer['run']} --json"
    assert [f["id"] for f in wf.call("next", answer["run"])["in_flight"]] == [
        a["id"] for a in handed]
