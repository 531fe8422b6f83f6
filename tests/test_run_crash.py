"""Crash safety with real processes: SIGKILL at random instants, locks, interruptions."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest

from tests.run_helpers import (
    group_alive,
    journal,
    run_dir,
    shell_phase,
    start_runner,
    statuses,
    write,
)


def wait_for(predicate, timeout_s: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def step_running(project: Path, name: str, step: str) -> bool:
    """The journal says ``step`` started and has not finished."""
    try:
        events = [e for e in journal(project, name) if e.get("step") == step]
    except (OSError, ValueError):
        return False
    return bool(events) and events[-1]["type"] == "step_started"


def step_started(project: Path, name: str, step: str) -> bool:
    try:
        return any(e["type"] == "step_started" and e.get("step") == step
                   for e in journal(project, name))
    except (OSError, ValueError):
        return False


def pgids(project: Path) -> list[int]:
    path = project / "pgids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def assert_no_step_process_left(project: Path) -> None:
    for pgid in pgids(project):
        assert wait_for(lambda pgid=pgid: not group_alive(pgid), 5), f"group {pgid} survived"


LONG_STEP = 'echo $$ >> pgids\nif [ -e release ]; then exit 0; fi\nsleep 60'


@pytest.mark.slow
def test_second_runner_is_refused_then_takes_over_after_the_holder_dies(tmp_path):
    project = tmp_path
    write(project / "held.md", shell_phase("1", LONG_STEP) + shell_phase("2", "true", "1"))
    holder = start_runner(project, "run", "held.md")
    try:
        assert wait_for(lambda: step_started(project, "held", "1"))
        for args in (["run", "--resume", "held"], ["run", "held.md"]):
            second = start_runner(project, *args)
            _, err = second.communicate(timeout=60)
            assert second.returncode == 2
            # refused while the holder still runs its long step: it did not wait for it
            assert holder.poll() is None and step_running(project, "held", "1")
            assert f"pid {holder.pid}" in err
        holder.kill()
        holder.wait(timeout=10)
        assert_no_step_process_left(project)
        (project / "release").touch()
        resumed = start_runner(project, "--resume", "held")
        out, err = resumed.communicate(timeout=60)
        assert resumed.returncode == 0, out + err
        assert f"from pid {holder.pid}" in out + err
        assert statuses(project, "held") == {"1": "completed", "2": "completed"}
    finally:
        holder.kill()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_the_steps_journals_and_exits_130(tmp_path, signum):
    project = tmp_path
    write(project / "int.md", shell_phase("1", LONG_STEP) + shell_phase("2", LONG_STEP))
    runner = start_runner(project, "run", "int.md")
    try:
        assert wait_for(lambda: step_started(project, "int", "2"))
        assert wait_for(lambda: len(pgids(project)) == 2)
        runner.send_signal(signum)
        out, err = runner.communicate(timeout=15)
        assert runner.returncode == 130, out + err
        assert "--resume" in err
        assert journal(project, "int")[-1]["type"] == "run_interrupted"
        state = json.loads((run_dir(project, "int") / "state.json").read_text())
        assert state["status"] == "interrupted"
        assert_no_step_process_left(project)
    finally:
        runner.kill()


CRASH_PLAN_SHAPE = {  # 12 steps, three parallel fans
    "1": [], "2a": ["1"], "2b": ["1"], "2c": ["1"], "3": ["2a", "2b"], "4": ["2c"],
    "5": ["3", "4"], "6a": ["5"], "6b": ["5"], "6c": ["5"], "7": ["6a", "6b"], "8": ["7", "6c"],
}


def crash_plan(rng: random.Random) -> str:
    text = "# Crash test plan\n\n"
    for step, deps in CRASH_PLAN_SHAPE.items():
        pause = f"{rng.uniform(0.05, 0.3):.2f}"
        script = (f"echo $$ >> pgids\necho {step} >> starts\nsleep {pause}\n"
                  f"mkdir -p done && echo {step} > done/{step}")
        text += shell_phase(step, script, ", ".join(deps) or "none")
    return text


def start_counts(project: Path) -> dict[str, int]:
    path = project / "starts"
    counts: dict[str, int] = {}
    for step in (path.read_text().split() if path.exists() else []):
        counts[step] = counts.get(step, 0) + 1
    return counts


def completed_in_journal(project: Path, name: str) -> set[str]:
    return {e["step"] for e in journal(project, name)
            if e["type"] == "step_finished" and e["outcome"] == "completed"}


@pytest.mark.slow
def test_sigkill_at_random_instants_then_resume(tmp_path):
    rng = random.Random(20261121)
    kills = 0
    cycle = 0
    reruns = 0
    while kills < 30:
        cycle += 1
        project = tmp_path / f"cycle {cycle}"
        name = "crash"
        write(project / "crash.md", crash_plan(rng))
        seen: list[tuple[set[str], dict[str, int]]] = []
        first = True
        while True:
            args = ["run", "--jobs", "3", "crash.md"] if first else ["--resume", name]
            runner = start_runner(project, *args)
            if first:  # kill only once the run exists, so that it can be resumed
                state_file = run_dir(project, name) / "state.json"
                assert wait_for(state_file.exists)
                first = False
            try:
                runner.wait(timeout=rng.uniform(0.1, 0.7))
            except Exception:  # still running: kill it at this random instant
                runner.kill()
                runner.wait(timeout=10)
                kills += 1
                state = json.loads((run_dir(project, name) / "state.json").read_text())
                assert state["name"] == name
                assert_no_step_process_left(project)
                seen.append((completed_in_journal(project, name), start_counts(project)))
                continue
            out, err = runner.communicate()
            assert runner.returncode == 0, out + err
            break
        assert set(statuses(project, name).values()) == {"completed"}
        final = start_counts(project)
        for step in CRASH_PLAN_SHAPE:
            assert (project / "done" / step).read_text().strip() == step
        for completed, counts in seen:
            for step in completed:
                assert final[step] == counts[step], f"step {step} ran again after completing"
        json.loads((run_dir(project, name) / "state.json").read_text())
        reruns += sum(final.values()) - len(CRASH_PLAN_SHAPE)
    print(f"{kills} SIGKILLs over {cycle} runs; {reruns} in-flight step starts ran again")
    assert kills >= 30
    assert reruns > 0, "no kill landed while a step was running"
