"""Plans shaped like the ones people write, run for real: only fenced check blocks run, each
as one script; runs of different plans never replace each other; resume follows edits and
dependents; what the engine keeps of any output is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.run_helpers import journal, run_dir, runner_env, start_runner, statuses, write


@pytest.fixture
def project(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    monkeypatch.delenv("ORCHESTRATE_CONFIG", raising=False)
    return folder


# An implementation plan as a planning agent writes them: prose, inline commands in task
# lists, a "Verify:" line of prose, a Testing procedure for the implementer.
PROSE_PLAN = """
# Implementation Plan: config reload

## Implementation Phases

### Phase 1: Reload on SIGHUP
**Objective**: Re-read the config when the process gets SIGHUP.
dependencies: []

Tasks:
- [ ] Add a handler in `src/signals.c`
- [ ] Run: `make build` and check it links
- [ ] Verify: the output looks right

Verify: the output looks right

Testing:
```bash
cd ~/.config/app && app --foreground
chmod 000 ~/.config/app/config.toml
mv ~/.config/app{,.bak}
# press <leader>r and look at the status line
```

### Phase 2: Document it
dependencies: [1]

Testing:
- Open the man page and read the new section.
"""


def test_a_plan_of_prose_and_testing_procedures_runs_no_command(cli, project):
    plan = write(project / "plan.md", PROSE_PLAN)
    result = cli("run", str(plan), "--dry-run", "--json")
    assert result.code == 0, result.err
    schedule = result.json()
    assert [step["id"] for step in schedule["steps"]] == ["1", "2"]
    assert all(step["commands"] == [] for step in schedule["steps"])
    assert all(step["kind"] == "agent" for step in schedule["steps"])
    text = cli("run", str(plan), "--dry-run").out
    assert "Commands the engine would run: 0" in text
    assert "chmod" not in text and "make build" not in text
    assert not (project / ".claude").exists()


def test_dry_run_lists_every_command_with_its_phase_field_and_line(cli, project):
    plan = write(project / "plan.md", """
        # Plan: two kinds of block

        ## Phase 1: Build
        - **Depends on:** none

        **Run:**
        ```bash
        make build
        ```

        **Verify:**
        ```bash
        test -x build/app
        ./build/app --version
        ```

        ## Phase 2: Lint
        - **Depends on:** Phase 1
        - **Blast radius:** `lint::`

        **Checkpoint:**
        ```sh
        make lint
        ```
        """)
    write(project / ".claude" / "orchestrate" / "config.json",
          json.dumps({"blast_radius_command": "cargo test {pattern}"}))
    schedule = cli("run", str(plan), "--dry-run", "--json").json()
    commands = {step["id"]: step["commands"] for step in schedule["steps"]}
    assert commands["1"] == [
        {"field": "run", "line": 8, "script": "make build\n"},
        {"field": "verify", "line": 13, "script": "test -x build/app\n./build/app --version\n"},
    ]
    assert commands["2"] == [
        {"field": "verify", "line": 23, "script": "make lint\n"},
        {"field": "blast_radius", "line": None, "script": "cargo test lint::"},
    ]
    text = cli("run", str(plan), "--dry-run").out
    assert "run (phase 1, plan line 8):" in text
    assert "verify (phase 2, plan line 23):" in text
    assert "blast_radius (phase 2, from the config):" in text
    assert "Commands the engine would run: 4" in text


MULTILINE_VERIFY = """
# Plan: a verify block that is a script

## Phase 1: Make files
- **Depends on:** none

**Run:**
```bash
mkdir -p spec
for name in a b c; do
  echo "spec $name" > "spec/$name.txt"
done
```

**Verify:**
```bash
cd spec
expected=3
count=0
for f in *.txt; do
  grep -q spec "$f"
  count=$((count + 1))
done
test "$count" -eq "$expected"
cat > /dev/null
read -r line || echo "stdin is at end of file"
```
"""


def test_a_verify_block_with_cd_a_variable_and_a_loop_passes_as_one_script(cli, project):
    plan = write(project / "plan.md", MULTILINE_VERIFY)
    started = time.monotonic()
    result = cli("run", str(plan))
    assert result.code == 0, result.out + result.err
    assert time.monotonic() - started < 60  # reading stdin got EOF: nothing waited
    assert statuses(project, "plan") == {"1": "completed"}
    log = (run_dir(project, "plan") / "steps" / "1.1.log").read_text()
    assert "stdin is at end of file" in log


def test_a_failing_line_of_a_check_block_is_named_in_the_error(cli, project):
    plan = write(project / "plan.md", """
        # Plan: a check that fails half way

        ## Phase 1: Count
        - **Depends on:** none

        **Run:**
        ```bash
        echo one > items.txt
        ```

        **Verify:**
        ```bash
        total=0
        for item in one two; do
          grep -q "$item" items.txt
          total=$((total + 1))
        done
        ```
        """)
    result = cli("run", str(plan))
    assert result.code == 1
    [finished] = [e for e in journal(project, "plan") if e["type"] == "step_finished"]
    assert finished["outcome"] == "failed"
    assert "failed at plan line 15: grep -q \"$item\" items.txt" in finished["error"]
    assert "verify (plan line 13)" in finished["error"]


def test_a_check_that_waits_for_a_terminal_does_not_hang_the_run(cli, project):
    plan = write(project / "plan.md", """
        # Plan: interactive check

        ## Phase 1: Ask
        - **Depends on:** none
        - **Timeout:** 60s

        **Run:**
        ```bash
        if read -r -p "continue? " answer < /dev/tty; then echo "got $answer"; fi
        read -r answer || echo "no answer: stdin closed"
        ```
        """)
    started = time.monotonic()
    result = cli("run", str(plan))
    assert time.monotonic() - started < 50
    assert result.code == 0, result.out + result.err
    log = (run_dir(project, "plan") / "steps" / "1.1.log").read_text()
    assert "no answer: stdin closed" in log


def test_deferred_phases_are_listed_and_never_run(cli, project):
    plan = write(project / "plan.md", """
        # Plan: with a future

        ## Phase 1: Now
        - **Depends on:** none

        **Run:**
        ```bash
        echo now > now.txt
        ```

        ## Phase 2: Later [DEFERRED]
        - **Depends on:** Phase 1

        **Run:**
        ```bash
        echo later > later.txt
        ```

        ## Future Enhancements

        ### Phase 3: Someday
        - **Depends on:** Phase 1

        **Run:**
        ```bash
        echo someday > someday.txt
        ```
        """)
    schedule = cli("run", str(plan), "--dry-run", "--json").json()
    assert [step["id"] for step in schedule["steps"]] == ["1"]
    assert [d["id"] for d in schedule["deferred"]] == ["2", "3"]
    assert "Deferred, never run: 2 (line 11), 3 (line 21)" in cli(
        "run", str(plan), "--dry-run").out
    assert cli("run", str(plan)).code == 0
    assert (project / "now.txt").exists()
    assert not (project / "later.txt").exists() and not (project / "someday.txt").exists()


def _shell_plan(*phases: tuple[str, str, str]) -> str:
    out = ["# Plan", ""]
    for phase_id, depends, script in phases:
        out += [f"## Phase {phase_id}: Step {phase_id}", f"- **Depends on:** {depends}", "",
                "**Run:**", "```bash", script, "```", ""]
    return "\n".join(out)


def test_two_plans_with_the_same_stem_keep_two_runs(cli, project):
    first = write(project / "specs" / "a" / "tasks.md",
                  _shell_plan(("1", "none", "echo a >> a.log")))
    second = write(project / "specs" / "b" / "tasks.md",
                   _shell_plan(("1", "none", "exit 3")))
    assert cli("run", str(first)).code == 0
    assert cli("run", str(second)).code == 1
    names = sorted(run["name"] for run in cli("runs", "--json").json()["runs"])
    assert len(names) == 2 and names[0] == "tasks" and names[1].startswith("tasks-")
    plans = {run["name"]: run["plan"] for run in cli("runs", "--json").json()["runs"]}
    assert plans["tasks"] == str(first.resolve())
    assert plans[names[1]] == str(second.resolve())
    # b's failed run is b's: running b again is refused naming b's run, a's is untouched
    again = cli("run", str(second))
    assert again.code == 2 and f"--resume {names[1]}" in again.err
    assert statuses(project, "tasks") == {"1": "completed"}
    # a again: its own completed run is replaced by a new one, b's stays
    assert cli("run", str(first)).code == 0
    assert (project / "a.log").read_text() == "a\na\n"
    assert statuses(project, names[1]) == {"1": "failed"}


def test_two_non_ascii_stems_keep_two_runs(cli, project):
    japan = write(project / "日本.md", _shell_plan(("1", "none", "echo jp > jp.txt")))
    china = write(project / "中国.md", _shell_plan(("1", "none", "echo cn > cn.txt")))
    assert cli("run", str(japan)).code == 0
    assert cli("run", str(china)).code == 0
    runs = cli("runs", "--json").json()["runs"]
    assert len(runs) == 2
    assert {run["plan"] for run in runs} == {str(japan.resolve()), str(china.resolve())}
    assert len({run["name"] for run in runs}) == 2


def test_an_edited_phase_makes_its_dependents_run_again(cli, project):
    plan = project / "plan.md"
    phases = [("1", "none", "echo v1 > base.txt; echo 1 >> runs.log"),
              ("2", "Phase 1", "cp base.txt two.txt; echo 2 >> runs.log"),
              ("3", "Phase 2", "cp two.txt three.txt; echo 3 >> runs.log"),
              ("4", "none", "echo 4 >> runs.log")]
    write(plan, _shell_plan(*phases))
    assert cli("run", str(plan)).code == 0
    # a completed run is only resumed on purpose; edit phase 1, then resume
    phases[0] = ("1", "none", "echo v2 > base.txt; echo 1 >> runs.log")
    write(plan, _shell_plan(*phases))
    result = cli("run", "--resume", "plan")
    assert result.code == 0, result.out + result.err
    assert "depend on a changed phase (will run again): 2, 3" in result.out
    assert (project / "runs.log").read_text().split() == ["1", "4", "2", "3", "1", "2", "3"]
    assert (project / "three.txt").read_text() == "v2\n"


def test_resume_without_the_plan_file_uses_the_plan_of_the_latest_resume(cli, project):
    plan = project / "plan.md"
    write(plan, _shell_plan(("1", "none", "echo one >> log.txt"),
                            ("2", "Phase 1", "exit 1"),
                            ("gone", "Phase 1", "echo gone >> log.txt")))
    assert cli("run", str(plan)).code == 1
    # the second start of the story: phase 2 fixed, phase "gone" edited out
    write(plan, _shell_plan(("1", "none", "echo one >> log.txt"),
                            ("2", "Phase 1", "test -e stop-here && echo two >> log.txt")))
    assert cli("run", "--resume", "plan").code == 1  # stop-here missing: 2 fails again
    plan.unlink()
    (project / "stop-here").write_text("")
    result = cli("run", "--resume", "plan")
    assert result.code == 0, result.out + result.err
    assert "latest start or resume" in result.out + result.err
    assert (project / "log.txt").read_text().split() == ["one", "gone", "two"]
    assert set(statuses(project, "plan")) == {"1", "2"}  # "gone" did not come back


def test_status_and_runs_say_interrupted_after_the_runner_is_killed(cli, project):
    write(project / "plan.md", _shell_plan(("1", "none", "sleep 30")))
    runner = start_runner(project, "run", "plan.md")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = (run_dir(project, "plan") / "journal.jsonl")
            if events.exists() and b"step_started" in events.read_bytes():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the step never started")
        assert cli("status", "plan", "--json").json()["status"] == "running"
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.communicate()
    status = cli("status", "plan")
    assert "status: interrupted" in status.out
    assert "continue with: orchestrate run --resume plan" in status.out
    assert cli("status", "plan", "--json").json()["status"] == "interrupted"
    assert [run["status"] for run in cli("runs", "--json").json()["runs"]] == ["interrupted"]
    assert cli("runs", "--state", "interrupted", "--json").json()["runs"]


def test_a_huge_output_line_is_bounded_everywhere_but_the_step_log(project):
    write(project / "plan.md", _shell_plan(
        ("1", "none", "head -c 20000000 /dev/zero | tr '\\0' x >&2; echo; exit 1")))
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.md"],
                          cwd=project, env=runner_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    folder = run_dir(project, "plan")
    for name in ("journal.jsonl", "state.json", "debug-log.md", "run.log", "summary.md"):
        size = (folder / name).stat().st_size
        assert size < 64 * 1024, f"{name} is {size} bytes"
    for line in (folder / "journal.jsonl").read_text().splitlines():
        assert len(line) < 16 * 1024
    assert (folder / "steps" / "1.1.log").stat().st_size >= 20_000_000
    assert len(done.stdout) < 64 * 1024
    status = subprocess.run([sys.executable, "-m", "orchestrator", "status", "plan", "--json"],
                            cwd=project, env=runner_env(), capture_output=True, text=True,
                            timeout=60)
    assert status.returncode == 0 and len(status.stdout) < 16 * 1024
