"""`orchestrate tasks run` and the review commands: each task of tasks.yaml runs as a run
of its own (its own lock and journal), several at once within ``--jobs``, each in a child
process that starts or resumes it and drives it headless; a person's approval or
rejection is answered through the same ``wf`` answer a slash command gives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.engine import lifecycle
from orchestrator.errors import OrchestrateError
from orchestrator.playbooks.tasks import growth, queue
from orchestrator.playbooks.tasks.taskfile import load_tasks
from orchestrator.session import runs as session
from orchestrator.store.paths import run_name

__all__ = ["run_name_of", "run_task", "run_tasks", "wf_start", "answer_review", "view_of",
           "write_run_log", "clean_state", "views", "RUN_LOG"]

RUN_LOG = "ORCHESTRATOR_RUN_LOG.md"
POLL_S = 0.05


def run_name_of(task_id: str) -> str:
    return run_name(f"task-{task_id}")


def views(cwd: Path | None = None, warnings: list[str] | None = None):
    project = session.open_project(cwd)
    return [shown for shown, _ in queue.task_runs(project.runs_dir, warnings)]


def view_of(task_id: str, cwd: Path | None = None) -> queue.TaskView:
    """The task ``task_id`` as its run says, or OrchestrateError when it never ran here."""
    return _view_of(session.open_project(cwd), task_id)


def _view_of(project, task_id: str) -> queue.TaskView:
    for shown, _ in queue.task_runs(project.runs_dir):
        if shown.id == task_id:
            return shown
    raise OrchestrateError(f"no task {task_id!r} has run here (see `orchestrate list-tasks`)")


def _task_of(tasks_path: str, task_id: str) -> lifecycle.Task:
    tasks = {task.id: task for task in load_tasks(tasks_path)}
    if task_id not in tasks:
        raise OrchestrateError(f"{tasks_path}: no task {task_id!r}")
    return tasks[task_id]


def _open(store, project, tasks_path: str, task: lifecycle.Task, config, redactor, *,
          driver: str, max_cost: float | None = None, listeners=()):
    """Start the task's run in ``store`` (whose lock the caller holds), or reopen it where
    it stopped: (recorder, plan, reports, notes), or None when there is nothing to move (the
    task is over, or waits for a person). A new run is isolated when the config says so
    (kept with the run: a resumed one stays as it began)."""
    from orchestrator.drivers.wf_start import _isolate, _self_command
    from orchestrator.playbooks.tasks.gate import gate_commands

    notes: list[str] = []
    if store.exists():
        state = store.load(repair=True).state
        current = lifecycle.task_state(state.lifecycle)
        if current in (lifecycle.DONE, lifecycle.FAILED) and state.status != "running":
            return None
        if state.ask is not None:
            return None  # waits for `orchestrate task ID --approve|--reject`
        if growth.load_task(store.run_dir) is None:
            growth.save_task(store.run_dir, task)
        recorder, plan, reports = session.reopen_run(
            store, project, config, redactor, notes=notes, max_cost=max_cost,
            driver=driver, listeners=listeners)
        if not recorder.state.lifecycle:
            growth.begin_task(recorder, growth.load_task(store.run_dir),
                              growth.routes_for(task, config))
        return recorder, plan, reports, notes
    task.gate = gate_commands(project.root, config)
    task.cli = _self_command()
    plan, routes = growth.task_plan(f"{tasks_path}#{task.id}", task, config)
    growth.save_task(store.run_dir, task)  # before the journal: growth reads it
    recorder, reports = session.begin_run(
        store, project, plan, plan.path, None, config, redactor, fresh=False, notes=notes,
        driver=driver, listeners=listeners, extra=_isolate(project, config))
    growth.begin_task(recorder, task, routes)
    return recorder, plan, reports, notes


def run_task(tasks_path: str, task_id: str, *, max_cost: float | None = None,
             agent_cmd: str | None = None, cwd: Path | None = None, progress=None,
             isolate: bool = False) -> str:
    """Start or resume one task's run and drive it until it stops; its task state.
    ``isolate`` (or the config's): a new run's code-changing steps in worktrees."""
    from orchestrator.config import load_config
    from orchestrator.drivers.run import _backend, _drive
    from orchestrator.redact import Redactor
    from orchestrator.render.progress import make_progress
    from orchestrator.store import FileRunStore

    task = _task_of(tasks_path, task_id)
    project = session.open_project(cwd)
    config = load_config(project.root).with_overrides(max_cost_usd=max_cost,
                                                      agent_cmd=agent_cmd,
                                                      isolate=isolate or None)
    backend = _backend(config)
    redactor = Redactor()
    progress = progress or make_progress(sys.stdout, False)
    store = FileRunStore(project.runs_dir, run_name_of(task_id), redactor=redactor)
    with store.lock():
        opened = _open(store, project, tasks_path, task, config, redactor, driver="headless",
                       max_cost=max_cost, listeners=[progress.event])
        if opened is None:
            return lifecycle.task_state(store.load().state.lifecycle)
        recorder, plan, reports, notes = opened
        _drive(store, recorder, plan, project, config, redactor, progress, notes, reports,
               backend)
        return lifecycle.task_state(recorder.state.lifecycle)


def wf_start(tasks_path: str, only: str | None = None, *, cwd: Path | None = None) -> dict:
    """`/tasks` inside Claude Code: the next task of ``tasks_path`` to move (``only``: that
    one), its run started or reopened for the `wf` driver. The answer's ``next`` goes on
    with it; without ``next``, every task is over or waits for a person, as ``message``
    says."""
    import shlex

    from orchestrator.config import load_config
    from orchestrator.drivers.wf import LOCK_WAIT_S, _next_command
    from orchestrator.redact import Redactor
    from orchestrator.store import FileRunStore

    tasks = load_tasks(tasks_path)
    if only is not None and only not in {task.id for task in tasks}:
        raise OrchestrateError(f"{tasks_path}: no task {only!r}")
    project = session.open_project(cwd)
    config = load_config(project.root)
    again = f"orchestrate wf start --tasks {shlex.quote(tasks_path)}" + \
        (f" --only {shlex.quote(only)}" if only else "") + " --json"
    waiting = []
    for task in tasks:
        if only is not None and task.id != only:
            continue
        redactor = Redactor()
        store = FileRunStore(project.runs_dir, run_name_of(task.id), redactor=redactor)
        with store.lock(wait_s=LOCK_WAIT_S):
            opened = _open(store, project, tasks_path, task, config, redactor, driver="wf")
            if opened is None:
                state = store.load().state
                if state.ask is not None:
                    waiting.append(task.id)
                continue
            recorder, _, reports, notes = opened
            recorder.flush()
            store.close()
        write_run_log(project)
        answer = {"schema": "orchestrate/wf-start@1", "run": store.name, "task": task.id,
                  "steps": len(recorder.state.steps), "next": _next_command(store.name),
                  "again": again}
        if notes:
            answer["notes"] = notes[:5]
        return answer
    write_run_log(project)
    shown = {view.id: view for view in views(project.root)}
    done = [t.id for t in tasks if t.id in shown and shown[t.id].state == lifecycle.DONE]
    failed = [t.id for t in tasks if t.id in shown and shown[t.id].state == lifecycle.FAILED]
    message = f"tasks: {len(done)} done, {len(failed)} failed, {len(waiting)} waiting for a " \
              f"person; run log: {project.root / RUN_LOG}"
    if waiting:
        message += "; " + "; ".join(f"approve with `orchestrate task {tid} --approve` or "
                                    f"reject with `orchestrate task {tid} --reject --reason "
                                    f"TEXT`" for tid in waiting[:3])
    return {"schema": "orchestrate/wf-start@1", "tasks": {"done": done, "failed": failed,
                                                          "waiting": waiting},
            "message": message}


def _spent(project) -> float:
    return sum(shown.cost_usd for shown, _ in queue.task_runs(project.runs_dir))


def run_tasks(tasks_path: str, *, jobs: int = 1, max_cost: float | None = None,
              agent_cmd: str | None = None, cwd: Path | None = None, say=print,
              isolate: bool = False) -> dict:
    """Run every task of ``tasks_path``, at most ``jobs`` at once; their final states."""
    tasks = load_tasks(tasks_path)  # a bad file: exit 2 before anything starts
    project = session.open_project(cwd)
    waiting = [task.id for task in tasks]
    running: dict[str, subprocess.Popen] = {}
    finished: dict[str, int] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                task_id = waiting.pop(0)
                left = None if max_cost is None else max(0.0, max_cost - _spent(project))
                running[task_id] = _spawn(tasks_path, task_id, left, agent_cmd, project.root,
                                          isolate)
                say(f"task {task_id}: started")
            for task_id, child in list(running.items()):
                if child.poll() is not None:
                    finished[task_id] = child.returncode
                    del running[task_id]
                    say(f"task {task_id}: {_state_line(project, task_id)}")
            time.sleep(POLL_S)
    finally:
        for child in running.values():
            child.terminate()
        for child in running.values():
            child.wait()
        write_run_log(project)
    shown = {view.id: view for view in views(project.root)}
    return {"tasks": [shown[t.id].to_dict() if t.id in shown else {"id": t.id, "state": "NEW"}
                      for t in tasks],
            "run_log": str(project.root / RUN_LOG), "exit_codes": finished}


def _state_line(project, task_id: str) -> str:
    try:
        shown = _view_of(project, task_id)
    except OrchestrateError:
        return "did not start"
    return shown.state + (f" ({shown.why})" if shown.why else "")


def _spawn(tasks_path, task_id, max_cost, agent_cmd, root: Path,
           isolate: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "orchestrator", "tasks", "run", str(tasks_path),
            "--only", task_id] + (["--isolate"] if isolate else [])
    if max_cost is not None:
        argv += ["--max-cost", f"{max_cost:.6f}"]
    if agent_cmd:
        argv += ["--agent-cmd", agent_cmd]
    return subprocess.Popen(argv, cwd=root, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, env=dict(os.environ))


def write_run_log(project) -> Path:
    """Render ORCHESTRATOR_RUN_LOG.md from every task's journal."""
    from orchestrator.render.task_log import render_run_log
    from orchestrator.store import safefs

    tasks = [(shown.to_dict(), events)
             for shown, _, events in queue.task_journals(project.runs_dir)]
    target = project.root / RUN_LOG
    safefs.write_atomic(target, render_run_log(tasks).encode("utf-8"), mode=0o644)
    return target


def answer_review(task_id: str, choice: str, reason: str | None = None,
                  cwd: Path | None = None) -> dict:
    """A person's verdict on a task waiting for one: approve continues it where it waited
    (the next `tasks run`, or `wf next` inside Claude Code); reject fails it with
    ``reason``."""
    from orchestrator.drivers import wf

    project = session.open_project(cwd)
    shown = _view_of(project, task_id)
    if shown.state != lifecycle.AWAITING_HUMAN:
        raise OrchestrateError(f"task {task_id} is not waiting for a review (it is "
                               f"{shown.state})")
    wf.answer(shown.run, lifecycle.HUMAN_ASK, choice, note=reason, cwd=project.root)
    if choice == "reject":
        wf.next_actions(shown.run, cwd=project.root)  # nothing is left to run: it closes
    write_run_log(project)
    return _view_of(project, task_id).to_dict()


def clean_state(cwd: Path | None = None) -> list[str]:
    """Remove every task's run; refused while any of them is locked."""
    from orchestrator.redact import Redactor
    from orchestrator.store import FileRunStore

    project = session.open_project(cwd)
    removed = []
    found = queue.task_runs(project.runs_dir)
    stores = [FileRunStore(project.runs_dir, shown.run, redactor=Redactor())
              for shown, _ in found]
    for store in stores:  # all or nothing: check every lock first
        held = store.locked_elsewhere()
        if held is not None:
            raise OrchestrateError(f"refusing to clean: {held}")
    for store in stores:
        with store.lock(wait_s=0):
            store.remove()
        removed.append(store.name)
    log = project.root / RUN_LOG
    if log.is_file() and not log.is_symlink():
        log.unlink()
    return removed
