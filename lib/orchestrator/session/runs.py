"""Opening, starting and resuming a run over a store: what every driver shares.

The headless driver (`orchestrate run`) holds the run's lock for the whole run; the `wf`
driver holds it for one call at a time. Both start and resume runs with these functions,
so a run is the same run whichever driver moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import Config
from orchestrator.engine import decide
from orchestrator.engine.recorder import Recorder
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import plan_hash, step_specs
from orchestrator.errors import (
    OrchestrateError,
)
from orchestrator.plan import parse_plan
from orchestrator.plan.model import Plan
from orchestrator.plan.source import read_plan_text
from orchestrator.redact import Redactor
from orchestrator.session.reports import ErrorReports, RunReports
from orchestrator.store import FileRunStore, RunNotFound, list_runs, paths
from orchestrator.store.naming import plan_key
from orchestrator.store.plan_copy import PLAN_COPY, load_phases, save_phases
from orchestrator.store.snapshot import write_atomic

__all__ = ["UnfinishedRun",
           "Project", "open_project", "begin_run", "reopen_run", "load_phases",
           "open_store", "exclusions"]



class UnfinishedRun(OrchestrateError):
    """An unfinished run of the same plan is stored; the user must choose."""

    def __init__(self, message: str, state: RunState):
        super().__init__(message)
        self.state = state


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
    from orchestrator.playbooks.execute_plan.records import enabled

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
    workflow run or a task's run, the answers to a merge conflict, and ``extra``."""
    from orchestrator.executors.isolation import ConflictAnswers
    from orchestrator.playbooks.execute_plan.checkpoints import PlanCheckpoints
    from orchestrator.playbooks.execute_plan.day_log import ExecutionLog
    from orchestrator.playbooks.orchestrate.growth import WorkflowGrowth
    from orchestrator.playbooks.tasks.growth import TaskGrowth

    reports = RunReports(store, project.root, state_name, plan_path, redactor)
    recorder.listeners += [reports, ErrorReports(project.errors_dir, redactor, recorder),
                           WorkflowGrowth(recorder, store, config, project.root),
                           TaskGrowth(recorder, store, config, project.root),
                           PlanCheckpoints(store), ExecutionLog(store),
                           ConflictAnswers(recorder, project.root), *extra]
    return reports


def open_isolation(root: Path, state: RunState, run_dir: Path, *, take_head: bool = False):
    """The worktrees of an isolated run (executors/isolation), or None. Both drivers open
    it here, so they isolate the same steps: a task's or a workflow's run only those its
    playbook says change or check the code. A workflow with a pull request offers its
    integration branch there instead of landing it."""
    if not state.isolate:
        return None
    from orchestrator.executors.isolation import Isolation
    from orchestrator.playbooks.orchestrate import growth as workflow_growth
    from orchestrator.playbooks.tasks import growth as task_growth

    scope, land = None, True
    if state.plan_format == task_growth.FORMAT:
        scope = task_growth.worktree_use
    elif state.plan_format == workflow_growth.FORMAT:
        wf = workflow_growth.load_workflow(run_dir)
        scope, land = workflow_growth.worktree_use, not (wf and wf.create_pr)
    return Isolation(root, state.name, run_dir, take_head=take_head, scope=scope, land=land)


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
    if (extra or {}).get("isolate"):
        from orchestrator.store.landing import set_aside_integration

        aside = set_aside_integration(project.root, store.name)
        if aside:
            notes.append(aside)
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
    """The step specs of a plan's phases (a workflow and a task mark their soft steps)."""
    from orchestrator.playbooks.orchestrate import growth
    from orchestrator.playbooks.tasks import growth as task_growth

    if plan.format == growth.FORMAT:
        return growth.specs_for(plan.phases, config)
    if plan.format == task_growth.FORMAT:
        return task_growth.specs_for(plan.phases, config)
    return step_specs(plan, config.command_attempts, config.agent_attempts,
                      config.default_timeout_s)


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
    save_phases(store, plan.phases, redactor)


def _plan_for_resume(state: RunState, store, notes: list[str], redactor) -> Plan:
    """The plan file as it is now (its copy is refreshed), else the copy taken at the
    latest start or resume, saying so. A workflow run's steps are its own phases."""
    from orchestrator.playbooks.orchestrate.growth import FORMAT
    from orchestrator.playbooks.tasks.growth import FORMAT as TASKS

    if state.plan_format in (FORMAT, TASKS):  # the engine wrote the steps: no plan file
        return Plan(state.plan_path, state.plan_format, None,
                    list(load_phases(store).values()))
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
