"""`orchestrate run`: start or resume a run over the session layer and drive it to its end
with the headless runner, holding the run's lock the whole time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config import Config, load_config
from orchestrator.drivers.headless import HeadlessRunner
from orchestrator.engine.recorder import Recorder
from orchestrator.engine.state import RunState
from orchestrator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PAUSED
from orchestrator.plan import parse_plan
from orchestrator.plan.model import Plan
from orchestrator.plan.source import read_plan_text
from orchestrator.redact import Redactor
from orchestrator.session.reports import RunReports
from orchestrator.session.runs import (
    Project,
    begin_run,
    exclusions,
    open_isolation,
    open_project,
    open_store,
    reopen_run,
)
from orchestrator.store import FileRunStore
from orchestrator.store.naming import run_name_for_plan

__all__ = ["EXIT_CODES", "RunResult", "resume_run", "start_run"]

EXIT_CODES = {"completed": EXIT_OK, "failed": EXIT_FAILED, "awaiting_human": EXIT_PAUSED,
              "interrupted": EXIT_INTERRUPTED}


@dataclass(slots=True)
class RunResult:
    state: RunState
    run_dir: Path | None
    notes: list[str] = field(default_factory=list)
    debug_log: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.state.status, EXIT_FAILED)


def _backend(config: Config):
    from orchestrator.agents.backend import make_backend

    return make_backend(config.agent_cmd, config.claude_command)


def _durations(plan: Plan) -> dict[str, float]:
    from orchestrator.plan.analysis import phase_durations

    return phase_durations(plan)[0]


def _drive(store, recorder: Recorder, plan: Plan, project: Project, config: Config, redactor,
           progress, notes: list[str], reports: RunReports, backend) -> RunResult:
    isolation = open_isolation(project.root, recorder.state, store.run_dir, take_head=True)
    runner = HeadlessRunner(recorder=recorder, plan=plan, root=project.root, config=config,
                            store=store, redactor=redactor, durations=_durations(plan),
                            backend=backend, errors_dir=project.errors_dir,
                            exclude=exclusions(project, reports, store), isolation=isolation)
    try:
        runner.run(tick=progress.tick)
    finally:
        reports.close(recorder.state)
        progress.close(recorder.state)
    return RunResult(recorder.state, store.run_dir, notes, reports.debug_log_path)


def _check_isolable(root: Path) -> None:
    """Isolation needs a git repository with a commit to branch from."""
    from orchestrator.errors import OrchestrateError
    from orchestrator.store import worktrees

    try:
        worktrees.rev_parse(root)
    except worktrees.WorktreeError:
        raise OrchestrateError(f"isolation (--isolate, or isolate: true in the config) needs "
                               f"a git repository with at least one commit at {root}") from None


def start_run(plan_path: str, *, plan_format: str | None = None, jobs: int | None = None,
              fresh: bool = False, cwd: Path | None = None, progress,
              max_cost: float | None = None, agent_cmd: str | None = None,
              isolate: bool = False) -> RunResult:
    """Start a new run of ``plan_path``; refuse when an unfinished one exists (unless fresh).
    ``isolate`` (or the config's): each step in a git worktree of its own, for the whole
    run, resumes included."""
    plan_text = read_plan_text(plan_path)  # read once: what is parsed is what is kept
    plan, warnings = parse_plan(plan_text, plan_path, plan_format)
    project = open_project(cwd)
    config = load_config(project.root).with_overrides(jobs=jobs, max_cost_usd=max_cost,
                                                      agent_cmd=agent_cmd)
    backend = _backend(config)  # a bad template: exit 2 before anything is written
    redactor = Redactor()
    store = FileRunStore(project.runs_dir, run_name_for_plan(project.runs_dir, plan_path),
                         redactor=redactor)
    notes = [str(w) for w in warnings]
    extra = {"isolate": True} if isolate or config.isolate else None
    if extra:
        _check_isolable(project.root)  # refused before anything is written
    lock = store.lock()
    with lock:
        if lock.notice:
            notes.append(lock.notice)
        recorder, reports = begin_run(store, project, plan, plan_path, plan_text, config,
                                      redactor, fresh=fresh, notes=notes,
                                      listeners=[progress.event], extra=extra)
        for note in notes:
            progress.note(note)
        return _drive(store, recorder, plan, project, config, redactor, progress, notes,
                      reports, backend)


def resume_run(name: str, *, jobs: int | None = None, cwd: Path | None = None,
               progress, max_cost: float | None = None,
               agent_cmd: str | None = None) -> RunResult:
    """Continue a stored run: completed steps are skipped, the rest run again."""
    project = open_project(cwd)
    redactor = Redactor()
    store = open_store(project, name, redactor)
    lock = store.lock()
    with lock:
        notes: list[str] = []
        if lock.notice:
            notes.append(lock.notice)
        config = load_config(project.root).with_overrides(jobs=jobs, agent_cmd=agent_cmd)
        backend = _backend(config)
        recorder, plan, reports = reopen_run(store, project, config, redactor, notes=notes,
                                             jobs=jobs, max_cost=max_cost,
                                             listeners=[progress.event])
        for note in notes:
            progress.note(note)
        return _drive(store, recorder, plan, project, config, redactor, progress, notes,
                      reports, backend)
