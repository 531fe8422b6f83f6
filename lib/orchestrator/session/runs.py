"""Opening, starting and resuming a run over a store: what every driver shares.

The headless driver (`orchestrate run`) holds the run's lock for the whole run; the `wf`
driver holds it for one call at a time. Both start and resume runs with these functions,
so a run is the same run whichever driver moves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config import Config, load_config
from orchestrator.engine import decide
from orchestrator.engine.recorder import Recorder
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import plan_hash, step_specs
from orchestrator.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PAUSED,
    OrchestrateError,
)
from orchestrator.plan import parse_plan
from orchestrator.plan.model import Phase, Plan
from orchestrator.plan.source import read_plan_text
from orchestrator.redact import Redactor
from orchestrator.session.reports import ErrorReports, RunReports
from orchestrator.store import FileRunStore, RunNotFound, list_runs, paths
from orchestrator.store.naming import plan_key, run_name_for_plan
from orchestrator.store.snapshot import write_atomic

__all__ = ["RunResult", "start_run", "resume_run", "EXIT_CODES", "UnfinishedRun",
           "Project", "open_project", "begin_run", "reopen_run", "load_phases",
           "open_store", "exclusions"]

EXIT_CODES = {"completed": EXIT_OK, "failed": EXIT_FAILED, "awaiting_human": EXIT_PAUSED,
              "interrupted": EXIT_INTERRUPTED}
PLAN_COPY, PHASES = "plan.md", "phases.json"


class UnfinishedRun(OrchestrateError):
    """An unfinished run of the same plan is stored; the user must choose."""

    def __init__(self, message: str, state: RunState):
        super().__init__(message)
        self.state = state


@dataclass(slots=True)
class RunResult:
    state: RunState
    run_dir: Path | None
    notes: list[str] = field(default_factory=list)
    debug_log: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.state.status, EXIT_FAILED)


@dataclass(slots=True)
class Project:
    """Where a run's project is and where its runs are kept."""

    root: Path
    runs_dir: Path

    @property
    def state_root(self) -> Path:
        return paths.state_root(self.root)

    @property
    def errors_dir(self) -> Path:
        return paths.errors_dir(self.state_root)


def open_project(cwd: Path | None = None) -> Project:
    root, runs_dir = paths.project_runs_dir(cwd)
    return Project(root, runs_dir)


def open_store(project: Project, name: str, redactor: Redactor) -> FileRunStore:
    """The store of an existing run; RunNotFound naming the known ones otherwise."""
    slug = paths.run_name(name)
    store = FileRunStore(project.runs_dir, slug, redactor=redactor)
    if not store.exists():
        raise RunNotFound(slug, [info.name for info in list_runs(project.runs_dir)])
    return store


def exclusions(project: Project, reports: RunReports | None, store=None) -> list[Path]:
    """What evidence snapshots ignore: the run's own files (its state, its debug log, and
    for /execute-plan the plan file it updates and the execution log)."""
    from orchestrator.workflows.execute_plan.checkpoints import enabled

    found = [project.state_root]
    if reports is not None and reports.debug_log_path is not None:
        found.append(reports.debug_log_path)
    settings = enabled(store.run_dir) if store is not None else None
    if settings:
        found += [Path(settings["plan"]), Path(settings["log"])]
    return found


def listen(recorder: Recorder, store, project: Project, state_name: str, plan_path: str,
           redactor, config: Config, extra=()) -> RunReports:
    """Attach the run's reports (debug log, run log, error reports), the growth of a
    workflow run, and ``extra``."""
    from orchestrator.workflows.execute_plan.checkpoints import ExecutionLog, PlanCheckpoints
    from orchestrator.workflows.orchestrate.growth import WorkflowGrowth

    reports = RunReports(store, project.root, state_name, plan_path, redactor)
    recorder.listeners += [reports, ErrorReports(project.errors_dir, redactor, recorder),
                           WorkflowGrowth(recorder, store, config, project.root),
                           PlanCheckpoints(store), ExecutionLog(store), *extra]
    return reports


def begin_run(store, project: Project, plan: Plan, plan_path: str, plan_text: str | None,
              config: Config, redactor, *, fresh: bool, notes: list[str],
              driver: str = "headless", listeners=(),
              extra: dict | None = None) -> tuple[Recorder, RunReports]:
    """Start a run of ``plan`` in ``store`` (whose lock the caller holds).

    An unfinished run of the same plan is refused with UnfinishedRun (unless ``fresh``);
    a completed one is replaced. ``extra``: more fields for the run_started event.
    """
    if store.exists():
        _replace_existing(store, store.name, plan_path, fresh, notes)
    recorder = Recorder(store)
    reports = listen(recorder, store, project, store.name, plan_path, redactor, config,
                     listeners)
    recorder.start(
        name=store.name, plan_path=plan_key(plan_path), plan_format=plan.format,
        plan_hash=plan_hash(plan), project_root=str(project.root), jobs=config.jobs,
        max_cost_usd=config.max_cost_usd, driver=driver, steps=_specs(plan, config),
        **(extra or {}),
    )
    _keep_plan_copy(store, plan_text, plan, redactor)
    return recorder, reports


def reopen_run(store, project: Project, config: Config, redactor, *, notes: list[str],
               driver: str = "headless", jobs: int | None = None,
               max_cost: float | None = None, lift_cap: bool = False, listeners=()):
    """Resume the run in ``store`` (whose lock the caller holds): read it back, follow
    the plan as it is now, journal ``run_resumed``. Returns (recorder, plan, reports)."""
    loaded = store.load(repair=True)
    notes += loaded.warnings
    state = loaded.state
    plan = _plan_for_resume(state, store, notes, redactor)
    changes = decide.resume_changes(state, _specs(plan, config))
    notes.append(_resume_summary(changes))
    recorder = Recorder(store, state)
    reports = listen(recorder, store, project, state.name, state.plan_path, redactor, config,
                     listeners)
    payload = {key: changes[key] for key in
               ("added", "removed", "changed", "stale", "updated", "reset", "order",
                "skipped", "retried", "pending")}
    payload["driver"] = driver
    if jobs is not None:
        payload["jobs"] = jobs
    if max_cost is not None or lift_cap:
        payload["max_cost_usd"] = None if lift_cap else max_cost
    recorder.record("run_resumed", **payload)
    return recorder, plan, reports


def _specs(plan: Plan, config: Config) -> list[dict]:
    """The step specs of a plan's phases (a workflow marks its soft steps)."""
    from orchestrator.workflows.orchestrate.growth import FORMAT, specs_for

    if plan.format == FORMAT:
        return specs_for(plan.phases, config)
    return step_specs(plan, config.command_attempts, config.agent_attempts,
                      config.default_timeout_s)


def load_phases(store) -> dict[str, Phase]:
    """The phases of the plan as of the run's latest start or resume, without parsing
    Markdown again (the `wf` driver reads them on every call)."""
    path = store.run_dir / PHASES
    try:
        data = json.loads(path.read_bytes())
        return {raw["id"]: Phase.from_dict(raw) for raw in data["phases"]}
    except (OSError, ValueError, KeyError, TypeError):
        plan, _ = parse_plan(read_plan_text(str(store.run_dir / PLAN_COPY)),
                             str(store.run_dir / PLAN_COPY))
        return {phase.id: phase for phase in plan.phases}


def _backend(config: Config):
    from orchestrator.agents.backend import make_backend

    return make_backend(config.agent_cmd, config.claude_command)


def _durations(plan: Plan) -> dict[str, float]:
    from orchestrator.plan.analysis import phase_durations

    return phase_durations(plan)[0]


def _drive(store, recorder: Recorder, plan: Plan, project: Project, config: Config, redactor,
           progress, notes: list[str], reports: RunReports, backend) -> RunResult:
    from orchestrator.drivers.headless import HeadlessRunner

    runner = HeadlessRunner(recorder=recorder, plan=plan, root=project.root, config=config,
                            store=store, redactor=redactor, durations=_durations(plan),
                            backend=backend, errors_dir=project.errors_dir,
                            exclude=exclusions(project, reports, store))
    try:
        runner.run(tick=progress.tick)
    finally:
        reports.close(recorder.state)
        progress.close(recorder.state)
    return RunResult(recorder.state, store.run_dir, notes, reports.debug_log_path)


def start_run(plan_path: str, *, plan_format: str | None = None, jobs: int | None = None,
              fresh: bool = False, cwd: Path | None = None, progress,
              max_cost: float | None = None, agent_cmd: str | None = None) -> RunResult:
    """Start a new run of ``plan_path``; refuse when an unfinished one exists (unless fresh)."""
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
    lock = store.lock()
    with lock:
        if lock.notice:
            notes.append(lock.notice)
        recorder, reports = begin_run(store, project, plan, plan_path, plan_text, config,
                                      redactor, fresh=fresh, notes=notes,
                                      listeners=[progress.event])
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


def _replace_existing(store, name: str, plan_path: str, fresh: bool, notes: list[str]) -> None:
    if fresh:
        store.remove()
        notes.append(f"started over: the previous run {name} was removed (--fresh)")
        return
    loaded = store.load()
    state = loaded.state
    if state.status == "completed":
        store.remove()
        notes.append(f"the previous run {name} had completed; starting a new one")
        return
    counts = state.counts()
    raise UnfinishedRun(
        f"an unfinished run of {plan_path} exists: {name} ({state.status}, "
        f"{counts['completed']} of {len(state.steps)} steps completed). "
        f"Continue it with `orchestrate run --resume {name}`, or start over with "
        f"`orchestrate run {plan_path} --fresh`", state)


def _keep_plan_copy(store, plan_text: str | None, plan: Plan, redactor) -> None:
    """The plan as of the latest start or resume, for a resume after the file moved or
    vanished, and its phases as JSON for the drivers that read them on every call."""
    if store.run_dir is None:
        return
    if plan_text is not None:  # a workflow run has no plan file of its own
        write_atomic(store.run_dir / PLAN_COPY, redactor.redact(plan_text).encode("utf-8"))
    phases = {"phases": [phase.to_dict() for phase in plan.phases]}
    data = json.dumps(redactor.redact_data(phases), separators=(",", ":"))
    write_atomic(store.run_dir / PHASES, data.encode("utf-8"))


def _plan_for_resume(state: RunState, store, notes: list[str], redactor) -> Plan:
    """The plan file as it is now (its copy is refreshed), else the copy taken at the
    latest start or resume, saying so. A workflow run's steps are its own phases."""
    from orchestrator.workflows.orchestrate.growth import FORMAT

    if state.plan_format == FORMAT:
        return Plan(state.plan_path, FORMAT, None, list(load_phases(store).values()))
    path = Path(state.plan_path)
    if path.exists():
        text = read_plan_text(str(path))
        plan, warnings = parse_plan(text, str(path), state.plan_format)
        notes += [str(w) for w in warnings]
        _keep_plan_copy(store, text, plan, redactor)
        return plan
    copy = store.run_dir / PLAN_COPY if store.run_dir else None
    if copy is None or not copy.exists():
        raise OrchestrateError(f"the plan of run {state.name} is gone: {path} does not exist")
    notes.append(f"{path} no longer exists; using the copy of the plan taken at the run's "
                 f"latest start or resume ({copy})")
    plan, _ = parse_plan(read_plan_text(str(copy)), str(copy), state.plan_format)
    return plan


def _resume_summary(changes: dict) -> str:
    def ids(key: str) -> str:
        return ", ".join(changes[key]) if changes[key] else "none"

    text = (f"resuming: skipping completed {ids('skipped')}; retrying {ids('retried')}; "
            f"pending {ids('pending')}")
    if changes["changed"]:
        text += f"; changed since the run began (will run again): {ids('changed')}"
    if changes["stale"]:
        text += f"; depend on a changed phase (will run again): {ids('stale')}"
    if changes["added"]:
        text += "; new phases: " + ", ".join(spec["id"] for spec in changes["added"])
    if changes["removed"]:
        text += f"; phases no longer in the plan: {ids('removed')}"
    return text
