"""The `wf` protocol driven from outside, one process per call, exactly as a slash command
or any external driver would: start, next, perform, report/exec, until done."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.wf_helpers import (
    FAKE,
    SCHEMAS,
    SIX_PHASE_SCENARIO,
    Wf,
    agent_phase,
    env_for,
    shell_phase,
    six_phase_plan,
    write_scenario,
    writes,
)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def wf(project, tmp_path):
    scenario = write_scenario(tmp_path / "scenario.json", SIX_PHASE_SCENARIO)
    return Wf(project, scenario)


def run_state(project: Path, name: str = "plan") -> dict:
    """The run as `orchestrate status` reads it (from its journal)."""
    done = subprocess.run([sys.executable, "-m", "orchestrator", "status", name, "--json"],
                          cwd=project, env=env_for(project, Path("/nonexistent")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def journal(project: Path, name: str = "plan") -> list[dict]:
    path = project / ".claude" / "orchestrate" / "runs" / name / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def finished_attempts(events: list[dict]) -> list[tuple[str, int]]:
    """(step, attempt) of every step_finished event, attempts counted per step."""
    attempts: dict[str, int] = {}
    found = []
    for event in events:
        if event["type"] == "step_started":
            attempts[event["step"]] = attempts.get(event["step"], 0) + 1
        elif event["type"] == "step_finished":
            found.append((event["step"], attempts[event["step"]]))
    return found


def test_a_six_phase_plan_with_two_branches_is_driven_to_done(wf, project):
    (project / "plan.md").write_text(six_phase_plan())
    start = wf.call("start", "--plan", "plan.md")
    assert (start["run"], start["steps"]) == ("plan", 6)
    assert start["next"] == "orchestrate wf next plan --json"
    done = wf.drive("plan")
    assert done["status"] == "completed"
    assert Path(done["summary"]).is_file()
    assert ["2a@1", "2b@1"] in wf.batches  # two agents handed out together
    state = run_state(project)
    assert {s["id"]: (s["status"], s["attempts"]) for s in state["steps"]} == {
        sid: ("completed", 1) for sid in ("1", "2a", "2b", "3a", "3b", "4")}
    assert (project / "out" / "final.txt").exists()
    assert sorted(finished_attempts(journal(project))) == sorted(
        (sid, 1) for sid in ("1", "2a", "2b", "3a", "3b", "4"))


def test_missing_files_get_retry_naming_them_then_failed_and_dependents_blocked(
        wf, project, tmp_path):
    write_scenario(wf.scenario, {**SIX_PHASE_SCENARIO, "2a": [{"result": "Done!"}]})
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    outcomes = []
    prompts = []
    for _ in range(40):
        answer = wf.call("next", "plan")
        if answer["actions"][0]["type"] == "done":
            done = answer["actions"][0]
            break
        for action in answer["actions"]:
            if action["type"] == "command":
                wf.call("exec", "plan", action["id"])
                continue
            if action["step"] == "2a":
                prompts.append(wf.prompt_of(action))
            wf.perform(action)
            report = wf.call("report", "plan", action["id"])
            if action["step"] == "2a":
                outcomes.append(report["outcome"])
    assert outcomes == ["retry", "retry", "failed"]
    assert "out/a.txt" in prompts[1] and "missing" in prompts[1].lower()
    assert done["status"] == "failed"
    steps = {s["id"]: s["status"] for s in run_state(project)["steps"]}
    assert steps == {"1": "completed", "2a": "failed", "2b": "completed", "3a": "blocked",
                     "3b": "completed", "4": "blocked"}


def _summary(state: dict, events: list[dict]) -> list:
    checks: dict[str, list] = {}
    for event in events:
        if event["type"] == "step_finished":
            checks.setdefault(event["step"], []).append(
                (event["outcome"], [(c["name"], c["ok"]) for c in event.get("checks", [])]))
    return [(s["id"], s["status"], s["attempts"], checks.get(s["id"], []))
            for s in state["steps"]]


def _fake_claude_on_path(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    claude = bin_dir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    claude.chmod(0o755)
    return bin_dir


def _headless(project: Path, scenario: Path, bin_dir: Path, *args: str,
              **popen) -> subprocess.CompletedProcess:
    env = env_for(project, scenario, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "orchestrator", "run", *args], cwd=project,
                          env=env, capture_output=True, text=True, timeout=180, **popen)


def test_both_drivers_give_the_same_statuses_attempts_and_checks(tmp_path):
    behaviours = {**SIX_PHASE_SCENARIO,
                  "2a": [{"result": "done"}, writes("out/a.txt")],  # succeeds at the 2nd try
                  "3a": [writes("out/a2.txt", "nope")]}  # its Verify fails every time
    results = []
    for driver in ("headless", "wf"):
        project = tmp_path / driver
        project.mkdir()
        (project / "plan.md").write_text(six_phase_plan())
        scenario = write_scenario(tmp_path / f"{driver}.json", behaviours)
        if driver == "headless":
            done = _headless(project, scenario, _fake_claude_on_path(tmp_path), "plan.md")
            assert done.returncode == 1, done.stdout + done.stderr
        else:
            wf = Wf(project, scenario)
            wf.call("start", "--plan", "plan.md")
            assert wf.drive("plan")["status"] == "failed"
        results.append(_summary(run_state(project), journal(project)))
    assert results[0] == results[1]
    by_step = {row[0]: row for row in results[0]}
    assert by_step["2a"][1:3] == ("completed", 2)
    assert by_step["3a"][1:3] == ("failed", 3)
    assert by_step["4"][1] == "blocked"


def test_a_wf_run_left_mid_way_is_finished_headless(wf, project, tmp_path):
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    first = wf.call("next", "plan")["actions"]
    wf.call("exec", "plan", first[0]["id"])
    handed = wf.call("next", "plan")["actions"]  # 2a and 2b go out, and are never reported
    assert [a["step"] for a in handed] == ["2a", "2b"]
    done = _headless(project, wf.scenario, _fake_claude_on_path(tmp_path), "--resume", "plan")
    assert done.returncode == 0, done.stdout + done.stderr
    state = run_state(project)
    assert state["status"] == "completed"
    assert {s["id"]: s["attempts"] for s in state["steps"]}["1"] == 1  # not run again


def test_a_headless_run_interrupted_with_sigint_is_finished_through_wf(project, tmp_path):
    scenario = write_scenario(tmp_path / "scenario.json",
                              {**SIX_PHASE_SCENARIO, "2b": [{"sleep": 30}, writes("out/b.txt")]})
    (project / "plan.md").write_text(six_phase_plan())
    env = env_for(project, scenario,
                  PATH=f"{_fake_claude_on_path(tmp_path)}{os.pathsep}{os.environ['PATH']}")
    runner = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", "plan.md"],
                              cwd=project, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (project / "out" / "a.txt").exists():
            break
        time.sleep(0.05)
    time.sleep(0.5)
    runner.send_signal(signal.SIGINT)
    runner.communicate(timeout=60)
    assert runner.returncode == 130
    assert run_state(project)["status"] == "interrupted"
    wf = Wf(project, scenario)
    assert wf.drive("plan")["status"] == "completed"
    assert run_state(project)["status"] == "completed"


def test_in_flight_actions_are_never_handed_out_twice_and_again_counts_once(wf, project):
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    wf.call("exec", "plan", wf.call("next", "plan")["actions"][0]["id"])
    handed = wf.call("next", "plan")
    assert [a["id"] for a in handed["actions"]] == ["2a@1", "2b@1"]
    again = wf.call("next", "plan")
    assert again["actions"] == []
    assert [f["id"] for f in again["in_flight"]] == ["2a@1", "2b@1"]
    lost = wf.call("next", "plan", "--again", "2a@1")
    assert lost["actions"] == [handed["actions"][0]]
    assert [f["id"] for f in lost["in_flight"]] == ["2b@1"]
    wf.perform(lost["actions"][0])
    assert wf.call("report", "plan", "2a@1")["outcome"] == "completed"
    assert wf.call("report", "plan", "2a@1")["outcome"] == "completed"  # from the journal
    assert finished_attempts(journal(project)).count(("2a", 1)) == 1
    error = wf.call("next", "plan", "--again", "2a@1", code=2)
    assert error["schema"] == "orchestrate/error@1" and "not in flight" in error["message"]


def test_two_reports_at_the_same_moment_both_land(wf, project):
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    wf.call("exec", "plan", wf.call("next", "plan")["actions"][0]["id"])
    actions = wf.call("next", "plan")["actions"]
    for action in actions:
        wf.perform(action)
    calls = [wf.popen("report", "plan", action["id"]) for action in actions]
    answers = [call.communicate(timeout=60) for call in calls]
    assert [call.returncode for call in calls] == [0, 0], answers
    assert [wf.check("report", out)["outcome"] for out, _ in answers] == ["completed"] * 2
    steps = {s["id"]: s["status"] for s in run_state(project)["steps"]}
    assert steps["2a"] == steps["2b"] == "completed"


@pytest.mark.slow
def test_sigkill_inside_report_and_exec_then_the_same_call_again(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    plan = "# Plan: slow evidence\n\n"
    for number in range(1, 13):
        depends = f"Phase {number - 1}" if number % 2 == 0 else "none"
        if number % 2:
            plan += shell_phase(str(number), f"sleep 0.4; echo {number} > s{number}.txt",
                                depends, verify=f"sleep 0.1; test -s s{number}.txt")
        else:
            plan += agent_phase(str(number), [f"a{number}.txt"], depends,
                                verify=f"sleep 0.4; test -s a{number}.txt")
    (project / "plan.md").write_text(plan)
    scenario = write_scenario(tmp_path / "scenario.json",
                              {str(n): [writes(f"a{n}.txt")] for n in range(2, 13, 2)})
    wf = Wf(project, scenario)
    wf.call("start", "--plan", "plan.md")
    rng = random.Random(20261201)
    kills = 0
    for _ in range(100):
        answer = wf.call("next", "plan")
        actions = answer["actions"]
        if actions and actions[0]["type"] == "done":
            assert actions[0]["status"] == "completed"
            break
        for action in actions:
            verb = "exec" if action["type"] == "command" else "report"
            if verb == "report":
                wf.perform(action)
            for _ in range(4):  # up to four kills of the same call, then let it finish
                call = wf.popen(verb, "plan", action["id"])
                time.sleep(rng.uniform(0.02, 0.7))
                if call.poll() is not None:
                    call.communicate()
                    break
                call.kill()
                call.communicate()
                kills += 1
                run_state(project)  # the state always reads
            result = wf.call(verb, "plan", action["id"])
            assert result["outcome"] == "completed", result
    else:
        pytest.fail("the run did not reach done")
    print(f"\n{kills} SIGKILLs inside wf report and wf exec")
    assert kills >= 20, kills
    attempts = finished_attempts(journal(project))
    assert len(attempts) == len(set(attempts)) == 12  # no attempt recorded twice
    assert run_state(project)["status"] == "completed"


@pytest.mark.slow
def test_every_answer_matches_its_schema_and_stays_under_a_kilobyte(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    phases = []
    for number in range(1, 21):
        depends = "none" if number <= 2 else f"Phase {number - 2}"
        phases.append(agent_phase(str(number), [f"src/module_{number}.py"], depends))
    (project / "plan.md").write_text("# Plan: twenty\n\n" + "".join(phases))
    scenario = write_scenario(tmp_path / "scenario.json",
                              {str(n): [writes(f"src/module_{n}.py")] for n in range(1, 21)})
    wf = Wf(project, scenario)
    wf.call("start", "--plan", "plan.md")
    assert wf.drive("plan")["status"] == "completed"
    wf.call("status", "plan")
    verbs = {verb for verb, _ in wf.sizes}
    assert verbs == {"start", "next", "report", "status"}
    biggest = max(size for _, size in wf.sizes)
    print(f"\nlargest answer: {biggest} bytes over {len(wf.sizes)} answers")
    assert biggest < 1024, sorted(wf.sizes, key=lambda pair: -pair[1])[:3]


def test_every_schema_in_the_docs_is_a_valid_schema():
    assert set(SCHEMAS) == {"orchestrate/wf-start@1", "orchestrate/wf-dry-run@1",
                            "orchestrate/wf-next@1",
                            "orchestrate/wf-report@1", "orchestrate/wf-exec@1",
                            "orchestrate/wf-answer@1", "orchestrate/wf-status@1",
                            "orchestrate/wf-token@1",
                            "orchestrate/error@1"}
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_an_unfinished_run_is_reported_as_resumable_not_overwritten(wf, project):
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    wf.call("exec", "plan", wf.call("next", "plan")["actions"][0]["id"])
    again = wf.call("start", "--plan", "plan.md")
    assert again["resumable"]["completed"] == 1
    assert again["resumable"]["resume"] == "orchestrate wf next plan --json"
    assert {s["id"]: s["status"] for s in run_state(project)["steps"]}["1"] == "completed"
    fresh = wf.call("start", "--plan", "plan.md", "--fresh")
    assert "resumable" not in fresh
    assert {s["status"] for s in run_state(project)["steps"]} == {"pending"}


def test_errors_under_json_are_json_on_stdout(wf, project):
    error = wf.call("next", "nope", code=2)
    assert error["exit_code"] == 2 and "nope" in error["message"]
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    bad = wf.call("report", "plan", "not-an-id", code=2)
    assert "STEP@ATTEMPT" in bad["message"]
    command = wf.call("report", "plan", "1@1", code=2)
    assert "not handed out" in command["message"]


def test_a_closed_pipe_is_not_an_error(project):
    (project / "big.md").write_text("# Plan\n\n" + "".join(
        shell_phase(str(n), "true") for n in range(1, 400)))
    done = subprocess.run(f"{sys.executable} -m orchestrator plan validate --json big.md "
                          "| head -c1", shell=True, cwd=project,
                          env=env_for(project, Path("/nonexistent")), capture_output=True,
                          text=True, timeout=60)
    assert done.stdout == "{"
    assert done.stderr == ""
    status = subprocess.run(f"set -o pipefail; {sys.executable} -m orchestrator plan validate "
                            "--json big.md | head -c1 > /dev/null", shell=True,
                            executable="/bin/bash", cwd=project,
                            env=env_for(project, Path("/nonexistent")), capture_output=True,
                            text=True, timeout=60)
    assert status.returncode in (0, 141) and status.stderr == ""


def test_agents_only_the_plugin_provides_are_named_plugin_colon_name(wf, project):
    (project / "plan.md").write_text(six_phase_plan())
    wf.call("start", "--plan", "plan.md")
    wf.call("exec", "plan", wf.call("next", "plan")["actions"][0]["id"])
    actions = wf.call("next", "plan")["actions"]
    assert {a["subagent_type"] for a in actions} == {"orchestrate:implementer"}
    (project / ".claude" / "agents").mkdir(parents=True)
    (project / ".claude" / "agents" / "implementer.md").write_text(
        "---\nname: implementer\ndescription: the project's own implementer, longer than "
        "it needs to be for the house rules\ntools: Read, Write\n---\nYou are the one.\n")
    again = wf.call("next", "plan", "--again", actions[0]["id"])
    assert again["actions"][0]["subagent_type"] == "implementer"  # the project's own
    bare = subprocess.run(wf.argv("next", "plan", "--again", actions[1]["id"]), cwd=project,
                          capture_output=True, text=True, timeout=60,
                          env=env_for(project, wf.scenario, ORCHESTRATE_AGENT_PREFIX=""))
    assert wf.check("next", bare.stdout)["actions"][0]["subagent_type"] == "implementer"
