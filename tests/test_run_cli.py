"""`orchestrate run`, `status` and `runs` end to end, in-process, with real processes."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from tests.run_helpers import REPO, journal, pid_alive, run_dir, shell_phase, statuses, write


@pytest.fixture
def project(tmp_path, monkeypatch):
    folder = tmp_path / "project dir"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    monkeypatch.delenv("ORCHESTRATE_CONFIG", raising=False)
    return folder


def test_quickstart_example_runs_to_completion(cli, project):
    shutil.copytree(REPO / "examples" / "quickstart", project, dirs_exist_ok=True)
    result = cli("run", "plan.md")
    assert result.code == 0, result.out + result.err
    assert "PROGRESS: 2a started (attempt 1)" in result.out
    assert "# Word report" in (project / "out" / "report.md").read_text()
    assert set(statuses(project, "plan").values()) == {"completed"}
    folder = run_dir(project, "plan")
    assert "gantt" in (folder / "summary.md").read_text()
    assert "[quality gate] step 3 checks:" in (folder / "run.log").read_text()
    assert "Step 2a" in (folder / "debug-log.md").read_text()
    log = (folder / "steps").glob("3.1.log")
    assert "grep -q" in next(log).read_text()


def test_parallel_branches_overlap_in_time(cli, project):
    plan = shell_phase("1", "sleep 0.5", "none") + shell_phase("2", "sleep 0.5", "none")
    write(project / "par.md", plan)
    assert cli("run", "par.md", "--jobs", "2").code == 0
    events = {(e["type"], e.get("step")): e["at"] for e in journal(project, "par")}
    assert events[("step_started", "2")] < events[("step_finished", "1")]


def test_failure_blocks_dependents_and_independent_steps_complete(cli, project):
    plan = (shell_phase("1", "echo broken >&2; exit 3")
            + shell_phase("2", "touch two", "Phase 1")
            + shell_phase("3", "touch three", "Phase 2")
            + shell_phase("4", "touch four"))
    write(project / "fail.md", plan)
    result = cli("run", "fail.md")
    assert result.code == 1
    assert statuses(project, "fail") == {"1": "failed", "2": "blocked", "3": "blocked",
                                         "4": "completed"}
    assert (project / "four").exists() and not (project / "two").exists()
    status = cli("status", "fail", "--json").json()
    step = status["steps"][0]
    assert step["error"] == "Run block at plan line 7 exited with status 3: broken"
    assert "continue with: orchestrate run --resume fail" in result.out


def test_timeout_kills_the_whole_group_and_blocks_dependents(cli, project):
    script = "sleep 1000 &\necho $! > background.pid\nsleep 1000"
    plan = (shell_phase("1", script, timeout="1s")
            + shell_phase("2", "touch two", "Phase 1")
            + shell_phase("3", "touch three"))
    write(project / "slow.md", plan)
    began = time.monotonic()
    result = cli("run", "slow.md")
    assert result.code == 1
    assert time.monotonic() - began < 10
    assert statuses(project, "slow") == {"1": "timeout", "2": "blocked", "3": "completed"}
    background = int((project / "background.pid").read_text())
    deadline = time.monotonic() + 3
    while pid_alive(background) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(background)
    status = cli("status", "slow", "--json").json()
    assert status["steps"][0]["error"].startswith("timed out after 1 s")


def test_background_processes_do_not_outlive_a_successful_step(cli, project):
    write(project / "bg.md", shell_phase("1", "sleep 1000 &\necho $! > bg.pid"))
    assert cli("run", "bg.md").code == 0
    pid = int((project / "bg.pid").read_text())
    deadline = time.monotonic() + 3
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)


def test_secrets_printed_by_a_step_leave_no_trace(cli, project):
    anthropic = "sk-ant-api03-" + "Ab3" * 30
    github = "ghp_" + "Z9y" * 12
    script = f"echo 'key={anthropic}'\necho 'token {github}' >&2\nexit 1"
    write(project / "leak.md", shell_phase("1", script))
    result = cli("run", "leak.md")
    assert result.code == 1
    assert anthropic not in result.out + result.err
    written = [p for p in project.rglob("*") if p.is_file() and p.name != "leak.md"]
    assert any(p.name == "1.1.log" for p in written)
    for path in written:
        data = path.read_bytes()
        assert anthropic.encode() not in data, path
        assert github.encode() not in data, path
        assert b"Ab3Ab3Ab3Ab3" not in data, path
    assert "[REDACTED:anthropic-key]" in (run_dir(project, "leak") / "steps" / "1.1.log")\
        .read_text()


def test_an_unfinished_run_is_not_started_over_silently(cli, project):
    write(project / "p.md", shell_phase("1", "echo x >> ran.txt; exit 1"))
    assert cli("run", "p.md").code == 1
    again = cli("run", "p.md")
    assert again.code == 2
    assert "an unfinished run of p.md exists: p (failed, 0 of 1 steps completed)" in again.err
    assert "orchestrate run --resume p" in again.err and "--fresh" in again.err
    assert (project / "ran.txt").read_text() == "x\n"
    fresh = cli("run", "p.md", "--fresh")
    assert fresh.code == 1
    assert "started over" in fresh.out
    assert [e["type"] for e in journal(project, "p")][0] == "run_started"
    assert len([e for e in journal(project, "p") if e["type"] == "run_started"]) == 1


def test_a_completed_run_is_simply_run_again(cli, project):
    write(project / "ok.md", shell_phase("1", "echo x >> ran.txt"))
    assert cli("run", "ok.md").code == 0
    assert cli("run", "ok.md").code == 0
    assert (project / "ran.txt").read_text() == "x\nx\n"


def test_resume_skips_completed_steps_and_reruns_changed_phases(cli, project):
    plan = (shell_phase("1", "echo 1 >> ran.txt")
            + shell_phase("2", "echo 2 >> ran.txt; test -e fixed", "Phase 1")
            + shell_phase("3", "echo 3 >> ran.txt", "Phase 2"))
    write(project / "r.md", plan)
    assert cli("run", "r.md").code == 1
    (project / "fixed").touch()
    resumed = cli("run", "--resume", "r")
    assert resumed.code == 0, resumed.out + resumed.err
    assert "skipping completed 1; retrying 2; pending 3" in resumed.out
    assert (project / "ran.txt").read_text().split() == ["1", "2", "2", "3"]
    # Edit phase 1 after it completed: a resume names it and runs it again.
    write(project / "r.md", plan.replace("echo 1 >>", "echo one >>"))
    # The run is complete, so resume is the way to re-run changed phases in place.
    again = cli("--resume", "r")
    assert again.code == 0
    assert "changed since the run began (will run again): 1" in again.out
    # 2 and 3 depend on it, so they run again after it
    assert (project / "ran.txt").read_text().split()[-3:] == ["one", "2", "3"]
    assert statuses(project, "r") == {"1": "completed", "2": "completed", "3": "completed"}


def test_resume_of_an_unknown_run_lists_the_known_ones(cli, project):
    write(project / "k.md", shell_phase("1", "true"))
    cli("run", "k.md")
    result = cli("run", "--resume", "nope")
    assert result.code == 2
    assert "no run named nope" in result.err and "k" in result.err


def test_dry_run_prints_the_schedule_and_writes_nothing(cli, project):
    shutil.copytree(REPO / "examples" / "quickstart", project, dirs_exist_ok=True)
    before = sorted(p.name for p in project.rglob("*"))
    result = cli("run", "plan.md", "--dry-run", "--jobs", "2")
    assert result.code == 0
    assert "nothing is run" in result.out
    assert "2a  command" in result.out
    assert sorted(p.name for p in project.rglob("*")) == before
    data = cli("run", "plan.md", "--dry-run", "--json").json()
    assert data["schema"] == "orchestrate/dry-run@1"
    assert [s["id"] for s in data["steps"]] == ["1", "2a", "2b", "3", "4"]


def test_an_agent_step_without_the_agent_cli_fails_at_once_with_advice(cli, project):
    write(project / ".claude" / "orchestrate" / "config.json",
          '{"claude_command": "/nonexistent/claude"}')
    write(project / "a.md", "## Phase 1: Write code\n- **Depends on:** none\n"
                            "- **Files:** `x.py`\n")
    result = cli("run", "a.md")
    assert result.code == 1
    step = cli("status", "a", "--json").json()["steps"][0]
    assert step["status"] == "failed" and step["attempts"] == 1
    assert step["error"] == ("agent command not found: /nonexistent/claude (install Claude "
                             "Code, or set --agent-cmd)")


def test_status_and_runs(cli, project):
    write(project / "one.md", shell_phase("1", "true"))
    write(project / "two.md", shell_phase("1", "false"))
    cli("run", "one.md")
    cli("run", "two.md")
    status = cli("status", "one", "--json").json()
    assert status["schema"] == "orchestrate/status@1"
    assert status["status"] == "completed"
    assert set(status["steps"][0]) >= {"id", "status", "attempts", "started_at", "finished_at",
                                       "duration_s", "error"}
    assert cli("status").code == 0  # the latest run
    text = cli("status", "two").out
    assert "failed" in text
    listed = cli("runs", "--json").json()
    assert {run["name"] for run in listed["runs"]} == {"one", "two"}
    only_failed = cli("runs", "--state", "failed").out
    assert "two" in only_failed and "one " not in only_failed


def test_run_json_is_one_object(cli, project):
    write(project / "j.md", shell_phase("1", "true"))
    result = cli("run", "j.md", "--json")
    data = json.loads(result.out)
    assert data["schema"] == "orchestrate/run@1"
    assert data["exit_code"] == 0 and data["status"] == "completed"


def test_debug_log_goes_to_docs_implementation_from_its_template(cli, project):
    write(project / "docs" / "implementation" / "TEMPLATE-debug-log.md",
          "# [Feature] debug log\n\nAgent: [Agent]\nStarted: YYYY-MM-DD HH:MM\n\n## Timeline\n")
    write(project / "feature-x.md", shell_phase("1", "true") + shell_phase("2", "false"))
    cli("run", "feature-x.md")
    log = (project / "docs" / "implementation" / "feature-x-debug-log.md").read_text()
    assert log.startswith("# feature-x debug log")
    assert "YYYY" not in log and "[Agent]" not in log
    assert "Step 1" in log and "## Summary" in log


def test_state_dir_override(cli, project, tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_STATE_DIR", str(tmp_path / "elsewhere"))
    write(project / "s.md", shell_phase("1", "true"))
    assert cli("run", "s.md").code == 0
    assert (tmp_path / "elsewhere" / "runs" / "s" / "journal.jsonl").exists()
    assert not (project / ".claude").exists()


def test_usage_errors(cli, project):
    assert cli("run").code == 2
    write(project / "u.md", shell_phase("1", "true"))
    assert cli("run", "u.md", "--resume", "u").code == 2
    assert cli("run", "u.md", "--jobs", "0").code == 2
    assert cli("run", "missing.md").code == 2
    os.chmod(project, 0o755)


def test_an_unexpected_error_in_the_loop_is_journalled_and_the_run_resumable(
        cli, project, monkeypatch, capsys):
    from orchestrator.drivers import headless as loop

    write(project / "boom.md", shell_phase("1", "true") + shell_phase("2", "true", "1"))
    original = loop.HeadlessRunner._advance
    calls = {"n": 0}

    def failing_advance(self):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated bug")
        return original(self)

    monkeypatch.setattr(loop.HeadlessRunner, "_advance", failing_advance)
    with pytest.raises(RuntimeError):
        cli("run", "boom.md")
    capsys.readouterr()  # the raising call left its progress lines behind
    last = journal(project, "boom")[-1]
    assert last["type"] == "run_interrupted"
    assert last["reason"] == "RuntimeError: simulated bug"
    status = cli("status", "boom", "--json")
    assert status.code == 0, status.err
    assert status.json()["status"] == "interrupted"
    assert cli("run", "--resume", "boom").code == 0


def test_a_config_file_that_is_not_utf8_is_a_clean_error(cli, project):
    (project / ".claude" / "orchestrate").mkdir(parents=True)
    (project / ".claude" / "orchestrate" / "config.json").write_bytes(b'{"jobs": "\xff"}')
    write(project / "c.md", shell_phase("1", "true"))
    result = cli("run", "c.md")
    assert result.code == 2
    assert "config.json: not UTF-8 text" in result.err


def test_a_state_dir_that_is_a_file_is_a_clean_error(cli, project, tmp_path, monkeypatch):
    blocker = tmp_path / "not a folder"
    blocker.write_text("x")
    monkeypatch.setenv("ORCHESTRATE_STATE_DIR", str(blocker))
    write(project / "s.md", shell_phase("1", "true"))
    result = cli("run", "s.md")
    assert result.code == 2
    assert result.err.startswith("orchestrate: ") and "Not a directory" in result.err
    assert "Traceback" not in result.err


def test_a_resumed_run_continues_its_debug_log_or_starts_one_if_it_is_gone(cli, project):
    write(project / "dl.md", shell_phase("1", "test -e ok"))
    assert cli("run", "dl.md").code == 1
    log = run_dir(project, "dl") / "debug-log.md"
    (project / "ok").touch()
    assert cli("run", "--resume", "dl").code == 0
    text = log.read_text()
    assert text.count("## Timeline") == 1 and "Resumed" in text
    log.unlink()
    (project / "dl.md").write_text((project / "dl.md").read_text().replace("ok", "ok2"))
    (project / "ok2").touch()
    assert cli("run", "--resume", "dl").code == 0
    assert log.read_text().startswith("# dl: debug log")


def test_a_process_that_leaves_its_group_with_setsid_does_not_outlive_its_step(cli, project):
    script = ("setsid bash -c 'echo $$ > daemon.pid; exec sleep 1000' < /dev/null "
              "> /dev/null 2>&1 &\n"
              "for _ in $(seq 100); do test -s daemon.pid && break; sleep 0.05; done")
    write(project / "daemon.md", shell_phase("1", script))
    assert cli("run", "daemon.md").code == 0
    pid = int((project / "daemon.pid").read_text())
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "the setsid process outlived its step"
