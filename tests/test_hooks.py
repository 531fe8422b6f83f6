"""The Claude Code hooks (`orchestrate hook ...`, drivers/hooks.py), each call its own
process fed the hook's JSON input, over runs made through `orchestrate wf`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from orchestrator.drivers import hooks

from tests.test_claude_code_e2e import PLAN as NOTES_PLAN

REPO = Path(__file__).resolve().parents[1]
SESSION = "5f0c2d3e-0000-4000-8000-000000000001"
OTHER = "5f0c2d3e-0000-4000-8000-000000000002"

PLAN = NOTES_PLAN  # the plan the end-to-end tests use, run here through the hooks
# ... with a step after both agents, so that a session stopping after its first report
# still has work ready, which the Stop hook must not let it leave behind
PLAN_WITH_A_LAST_STEP = NOTES_PLAN + textwrap.dedent("""
    ## Phase 3: Check both notes

    - **Depends on:** 2a, 2b

    **Run:**
    ```bash
    cat notes/a.md notes/b.md > notes/both.md
    ```
    """)


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("CLAUDE")
           and name not in ("ORCHESTRATE_STATE_DIR", "ORCHESTRATE_CONFIG")}
    env["PYTHONPATH"] = str(REPO / "lib")
    env.update(extra)
    return env


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "my project"
    root.mkdir()
    (root / "plan.md").write_text(PLAN, encoding="utf-8")
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "plan"], cwd=root, check=True)
    return root


def wf(project: Path, *args: str, session: str | None = SESSION) -> dict:
    extra = {"CLAUDE_CODE_SESSION_ID": session} if session else {}
    done = subprocess.run([sys.executable, "-m", "orchestrator", "wf", *args, "--json"],
                          cwd=project, env=_env(**extra), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def hook(event: str, payload: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "orchestrator", "hook", event],
                          cwd=cwd or REPO, env=_env(), input=json.dumps(payload),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (event, done.stdout, done.stderr)
    return done


def stop_input(project: Path, session: str = SESSION, active: bool = False) -> dict:
    return {"session_id": session, "transcript_path": "/nonexistent.jsonl",
            "cwd": str(project), "hook_event_name": "Stop", "stop_hook_active": active,
            "last_assistant_message": "stopping here", "background_tasks": []}


def started(project: Path, session: str | None = SESSION) -> dict:
    answer = wf(project, "start", "--plan", "plan.md", session=session)
    assert answer["run"] == "plan"
    return answer


def agents_in_flight(project: Path) -> list[str]:
    """Start the run, do its command step, fetch the two agent actions."""
    started(project)
    (command,) = wf(project, "next", "plan")["actions"]
    assert wf(project, "exec", "plan", command["id"])["outcome"] == "completed"
    actions = wf(project, "next", "plan")["actions"]
    return [action["id"] for action in actions]


def test_the_run_records_the_session_that_started_it(project):
    started(project)
    state = json.loads((project / ".claude/orchestrate/runs/plan/state.json").read_text())
    assert state["session_id"] == SESSION


def test_stop_blocks_while_actions_are_in_flight(project):
    assert agents_in_flight(project) == ["2a@1", "2b@1"]
    done = hook("stop", stop_input(project))
    answer = json.loads(done.stdout)
    assert answer["decision"] == "block"
    reason = answer["reason"]
    assert "run plan" in reason and "2a@1, 2b@1" in reason
    assert "1 of 3 steps done" in reason
    assert "`orchestrate wf next plan --json`" in reason
    assert "orchestrate wf report plan ID --json" in reason


def test_stop_blocks_while_ready_actions_are_not_fetched(project):
    started(project)
    reason = json.loads(hook("stop", stop_input(project)).stdout)["reason"]
    assert "Ready to start: 1." in reason and "orchestrate wf next plan --json" in reason


def test_stop_from_a_subfolder_finds_the_project(project):
    started(project)
    (project / "sub").mkdir()
    payload = dict(stop_input(project), cwd=str(project / "sub"))
    assert json.loads(hook("stop", payload).stdout)["decision"] == "block"


def test_stop_allows_when_the_hook_is_active_already(project):
    agents_in_flight(project)
    done = hook("stop", stop_input(project, active=True))
    assert done.stdout == "" and done.stderr == ""


def test_stop_allows_in_a_project_without_runs(project):
    done = hook("stop", stop_input(project))
    assert done.stdout == ""
    assert not (project / ".claude").exists()  # nothing written


def test_stop_allows_another_sessions_stop(project):
    agents_in_flight(project)
    assert hook("stop", stop_input(project, session=OTHER)).stdout == ""


def test_stop_allows_a_run_started_outside_claude_code(project):
    started(project, session=None)
    assert hook("stop", stop_input(project)).stdout == ""


def test_stop_allows_once_the_run_is_done(project):
    ids = agents_in_flight(project)
    for name in ("a", "b"):
        (project / "notes" / f"{name}.md").write_text(f"# {name}\n")
    for action in ids:
        assert wf(project, "report", "plan", action)["outcome"] == "completed"
    (done,) = wf(project, "next", "plan")["actions"]
    assert done["type"] == "done"
    assert hook("stop", stop_input(project)).stdout == ""


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"cwd": 3}'])
def test_stop_says_nothing_on_odd_input(project, text):
    started(project)
    done = subprocess.run([sys.executable, "-m", "orchestrator", "hook", "stop"],
                          cwd=project, env=_env(), input=text, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "")


def test_session_start_after_compact_tells_where_the_run_stopped(project):
    agents_in_flight(project)
    payload = {"session_id": OTHER, "cwd": str(project), "hook_event_name": "SessionStart",
               "source": "compact"}
    text = hook("session-start", payload).stdout
    assert "plan (running, 1 of 3 steps done)" in text
    assert "handed out and not reported: 2a@1, 2b@1" in text
    assert "Next: `orchestrate wf next plan --json`" in text


def test_session_start_says_nothing_without_an_unfinished_run(project):
    payload = {"session_id": SESSION, "cwd": str(project), "source": "startup"}
    assert hook("session-start", payload).stdout == ""


def test_record_notes_the_writes_of_the_agents_in_flight(project):
    agents_in_flight(project)
    target = str(project / "notes" / "a.md")
    hook("record", {"session_id": SESSION, "cwd": str(project),
                    "hook_event_name": "PostToolUse", "tool_name": "Write",
                    "tool_input": {"file_path": target, "content": "# a\n"},
                    "agent_id": "agent-1", "agent_type": "implementer"})
    hook("record", {"session_id": OTHER, "cwd": str(project),  # not this run's session
                    "hook_event_name": "PostToolUse", "tool_name": "Write",
                    "tool_input": {"file_path": str(project / "elsewhere.md")}})
    run_dir = project / ".claude/orchestrate/runs/plan"
    (entry,) = [json.loads(line) for line in (run_dir / hooks.WRITES).read_text().splitlines()]
    assert entry["files"] == [target] and entry["tool"] == "Write"
    assert entry["agent_type"] == "implementer" and entry["in_flight"] == ["2a@1", "2b@1"]
    assert hooks.writes_seen(run_dir, "2a@1") == [target]
    assert hooks.writes_seen(run_dir, "1@1") == []


def test_record_reads_a_finished_subagents_transcript(project, tmp_path):
    agents_in_flight(project)
    target = str(project / "notes" / "b.md")
    transcript = tmp_path / "agent.jsonl"
    lines = [{"type": "assistant", "message": {"content": [
        {"type": "tool_use", "name": "Write", "input": {"file_path": target}}]}},
        {"type": "user", "message": {"content": "ok"}}]
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines) + "{torn")
    hook("record", {"session_id": SESSION, "cwd": str(project),
                    "hook_event_name": "SubagentStop", "agent_id": "agent-2",
                    "agent_type": "implementer", "agent_transcript_path": str(transcript)})
    run_dir = project / ".claude/orchestrate/runs/plan"
    (entry,) = [json.loads(line) for line in (run_dir / hooks.WRITES).read_text().splitlines()]
    assert entry["event"] == "subagent_stop" and entry["files"] == [target]


def test_record_refuses_a_planted_link_and_stays_bounded(project, tmp_path):
    agents_in_flight(project)
    run_dir = project / ".claude/orchestrate/runs/plan"
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (run_dir / hooks.WRITES).symlink_to(victim)
    payload = {"session_id": SESSION, "cwd": str(project), "hook_event_name": "PostToolUse",
               "tool_name": "Edit", "tool_input": {"file_path": str(project / "x")}}
    hook("record", payload)
    assert victim.read_text() == "mine\n"
    (run_dir / hooks.WRITES).unlink()
    (run_dir / hooks.WRITES).write_bytes(b"x" * (hooks.MAX_WRITES_BYTES - 10) + b"\n")
    hook("record", payload)
    assert (run_dir / hooks.WRITES).stat().st_size == hooks.MAX_WRITES_BYTES - 9


def test_hooks_json_calls_the_hook_script_for_each_event():
    config = json.loads((REPO / "hooks" / "hooks.json").read_text())["hooks"]
    commands = {event: [h["command"] for group in groups for h in group["hooks"]]
                for event, groups in config.items()}
    assert commands == {
        "Stop": ['"${CLAUDE_PLUGIN_ROOT}/hooks/orchestrate-hook.sh" stop'],
        "SessionStart": ['"${CLAUDE_PLUGIN_ROOT}/hooks/orchestrate-hook.sh" session-start'],
        "PostToolUse": ['"${CLAUDE_PLUGIN_ROOT}/hooks/orchestrate-hook.sh" record'],
        "SubagentStop": ['"${CLAUDE_PLUGIN_ROOT}/hooks/orchestrate-hook.sh" record'],
    }
    assert config["SessionStart"][0]["matcher"] == "startup|resume|compact"
    assert config["PostToolUse"][0]["matcher"] == "Write|Edit"
    assert os.access(REPO / "hooks" / "orchestrate-hook.sh", os.X_OK)


def test_the_hook_script_finds_orchestrate_and_passes_the_input_on(project, tmp_path):
    agents_in_flight(project)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "orchestrate").write_text(textwrap.dedent(f"""\
        #!/bin/sh
        PYTHONPATH={REPO / 'lib'} exec {sys.executable} -m orchestrator "$@"
        """))
    (fake_bin / "orchestrate").chmod(0o755)
    env = _env(PATH=f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
    done = subprocess.run([str(REPO / "hooks" / "orchestrate-hook.sh"), "stop"], cwd=project,
                          env=env, input=json.dumps(stop_input(project)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)["decision"] == "block"
    env["PATH"] = "/usr/bin:/bin"  # no orchestrate anywhere: silence, exit 0
    env["HOME"] = str(tmp_path)
    done = subprocess.run([str(REPO / "hooks" / "orchestrate-hook.sh"), "stop"], cwd=project,
                          env=env, input=json.dumps(stop_input(project)),
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "")


@pytest.mark.slow
def test_the_stop_hook_keeps_a_session_going_until_the_run_is_done(tmp_path):
    """In the real Claude Code: the main model ends its turn after its first report, the
    Stop hook blocks with the next command, and the same session finishes the run."""
    from tests import claude_code
    from tests.model_server import Scenario, ScriptedModel
    from tests.test_claude_code_e2e import ClaudeProject, step_statuses, succeeded

    binary = claude_code.install()
    if binary is None:
        pytest.skip(f"Claude Code {claude_code.VERSION} is not available: "
                    f"{claude_code.last_failure}")
    project = ClaudeProject(binary, tmp_path)
    project.write("plan.md", PLAN_WITH_A_LAST_STEP)
    project.write(".claude/settings.json", json.dumps({"hooks": {"Stop": [{"hooks": [
        {"type": "command", "command": "orchestrate hook stop"}]}]}}))
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "the Stop hook")

    result, server = project.claude("/run-plan plan.md",
                                    ScriptedModel(Scenario(quit_after_first_report=True)))
    final = succeeded(result)
    assert "run completed: 4 of 4 steps done" in final["result"]
    assert {status for status, _ in step_statuses(project).values()} == {"completed"}
    assert (project.root / "notes" / "both.md").exists()
    # The model did stop once, and what made it go on was the hook's feedback.
    turns = [turn.content[0].get("text", "") for turn in server.assistant_turns()]
    assert any("stopping here" in text for text in turns)
    nudged = [use for use in server.tool_uses()
              if use["input"].get("description") == "Go on as the Stop hook says"]
    assert [use["input"]["command"] for use in nudged] == ["orchestrate wf next plan --json"]


def test_a_report_keeps_what_the_hooks_saw_as_a_note_never_as_the_verdict(project):
    agents_in_flight(project)
    target = project / "notes" / "a.md"
    hook("record", {"session_id": SESSION, "cwd": str(project),
                    "hook_event_name": "PostToolUse", "tool_name": "Write",
                    "tool_input": {"file_path": str(target)}})
    # the hook saw a Write, but nothing is on disk: the verdict is the disk's
    assert wf(project, "report", "plan", "2a@1", "--note", "done")["outcome"] == "retry"
    events = [json.loads(line) for line in
              (project / ".claude/orchestrate/runs/plan/journal.jsonl").read_text().splitlines()]
    [finished] = [e for e in events if e["type"] == "step_finished" and e["step"] == "2a"]
    assert finished["note"] == f"done; the hooks saw the agent write: {target}"


@pytest.mark.slow
def test_the_plugins_own_hooks_hold_a_session_loaded_with_plugin_dir(tmp_path):
    """The same, with no settings of the project's own: `--plugin-dir` loads the plugin's
    hooks/hooks.json, and its Stop hook holds the session."""
    from tests import claude_code
    from tests.model_server import Scenario, ScriptedModel
    from tests.test_claude_code_e2e import ClaudeProject, step_statuses, succeeded

    binary = claude_code.install()
    if binary is None:
        pytest.skip(f"Claude Code {claude_code.VERSION} is not available: "
                    f"{claude_code.last_failure}")
    project = ClaudeProject(binary, tmp_path)
    project.write("plan.md", PLAN_WITH_A_LAST_STEP)
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "a step after the agents")
    result, server = project.claude("/run-plan plan.md",
                                    ScriptedModel(Scenario(quit_after_first_report=True)),
                                    args=["--plugin-dir", str(REPO)])
    final = succeeded(result)
    assert "run completed: 4 of 4 steps done" in final["result"], final["result"]
    assert {status for status, _ in step_statuses(project).values()} == {"completed"}
    nudged = [use for use in server.tool_uses()
              if use["input"].get("description") == "Go on as the Stop hook says"]
    assert nudged


def test_the_hook_script_bounds_a_call_that_hangs(tmp_path):
    """An orchestrate that never answers is killed by the script's own timeout, and the
    hook still exits 0 (a hook must never break or hang the session)."""
    slow = tmp_path / "orchestrate"
    slow.write_text("#!/bin/sh\nexec sleep 600\n")
    slow.chmod(0o755)
    env = _env(ORCHESTRATE_BIN=str(slow), ORCHESTRATE_HOOK_TIMEOUT="1")
    done = subprocess.run([str(REPO / "hooks" / "orchestrate-hook.sh"), "stop"], cwd=tmp_path,
                          env=env, input="{}", capture_output=True, text=True,
                          timeout=60)  # the stand-in sleeps 600 s: only the script's ends it
    assert done.returncode == 0 and done.stdout == ""
