"""`orchestrate run` and `--resume` as core functions: open the store, take the lock, load
the plan, wire up the reports and drive the loop. The CLI only renders what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.agents.backend import make_backend
from orchestrator.config import Config, load_config
from orchestrator.drivers.headless import HeadlessRunner
from orchestrator.drivers.reports import RunReports
from orchestrator.engine import decide
from orchestrator.engine.recorder import Recorder
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import plan_hash, step_specs
from orchestrator.errors import OrchestrateError
from orchestrator.plan import parse_plan
from orchestrator.plan.analysis import phase_durations
from orchestrator.plan.model import Plan
from orchestrator.plan.source import read_plan_text
from orchestrator.redact import Redactor
from orchestrator.store import FileRunStore, RunNotFound, list_runs, paths
from orchestrator.store.naming import plan_key, run_name_for_plan
from orchestrator.store.snapshot import write_atomic

__all__ = ["RunResult", "start_run", "resume_run", "EXIT_CODES", "UnfinishedRun"]

EXIT_CODES = {"completed": 0, "failed": 1, "awaiting_human": 3, "interrupted": 130}


class UnfinishedRun(OrchestrateError):
    """An unfinished run of the same plan is stored; the user must choose."""


@dataclass(slots=True)
class RunResult:
    state: RunState
    run_dir: Path | None
    notes: list[str] = field(default_factory=list)
    debug_log: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.state.status, 1)


def _durations(plan: Plan) -> dict[str, float]:
    return phase_durations(plan)[0]


def _drive(store, recorder: Recorder, plan: Plan, root: Path, config: Config, redactor,
           progress, notes: list[str], reports: RunReports, backend) -> RunResult:
    state_root = paths.state_root(root)
    exclude = [state_root]
    if reports.debug_log_path is not None:
        exclude.append(reports.debug_log_path)
    runner = HeadlessRunner(recorder=recorder, plan=plan, root=root, config=config,
                            store=store, redactor=redactor, durations=_durations(plan),
                            backend=backend,
                            errors_dir=paths.errors_dir(state_root), exclude=exclude)
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
    root, runs_dir = paths.project_runs_dir(cwd)
    config = load_config(root).with_overrides(jobs=jobs, max_cost_usd=max_cost,
                                              agent_cmd=agent_cmd)
    backend = make_backend(config.agent_cmd, config.claude_command)  # bad template: exit 2
    name = run_name_for_plan(runs_dir, plan_path)
    redactor = Redactor()
    store = FileRunStore(runs_dir, name, redactor=redactor)
    notes = [str(w) for w in warnings]
    lock = store.lock()
    with lock:
        if lock.notice:
            notes.append(lock.notice)
        if store.exists():
            _replace_existing(store, name, plan_path, fresh, notes)
        for note in notes:
            progress.note(note)
        recorder = Recorder(store)
        reports = RunReports(store, root, name, plan_path, redactor)
        recorder.listeners += [reports, progress.event]
        recorder.start(
            name=name, plan_path=plan_key(plan_path), plan_format=plan.format,
            plan_hash=plan_hash(plan), project_root=str(root), jobs=config.jobs,
            max_cost_usd=config.max_cost_usd,
            steps=step_specs(plan, config.command_attempts, config.agent_attempts,
                             config.default_timeout_s),
        )
        _keep_plan_copy(store, plan_text, redactor)
        return _drive(store, recorder, plan, root, config, redactor, progress, notes, reports,
                      backend)


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
        f"`orchestrate run {plan_path} --fresh`"
    )


def _keep_plan_copy(store, plan_text: str, redactor) -> None:
    """The plan as of the latest start or resume, for a resume after the file moved or
    vanished."""
    if store.run_dir is not None:
        write_atomic(store.run_dir / "plan.md", redactor.redact(plan_text).encode("utf-8"))


def _plan_for_resume(state: RunState, store, notes: list[str], redactor) -> Plan:
    """The plan file as it is now (its copy is refreshed), else the copy taken at the
    latest start or resume, saying so."""
    path = Path(state.plan_path)
    if path.exists():
        text = read_plan_text(str(path))
        plan, warnings = parse_plan(text, str(path), state.plan_format)
        notes += [str(w) for w in warnings]
        _keep_plan_copy(store, text, redactor)
        return plan
    copy = store.run_dir / "plan.md" if store.run_dir else None
    if copy is None or not copy.exists():
        raise OrchestrateError(f"the plan of run {state.name} is gone: {path} does not exist")
    notes.append(f"{path} no longer exists; using the copy of the plan taken at the run's "
                 f"latest start or resume ({copy})")
    plan, _ = parse_plan(read_plan_text(str(copy)), str(copy), state.plan_format)
    return plan


def resume_run(name: str, *, jobs: int | None = None, cwd: Path | None = None,
               progress, max_cost: float | None = None,
               agent_cmd: str | None = None) -> RunResult:
    """Continue a stored run: completed steps are skipped, the rest run again."""
    root, runs_dir = paths.project_runs_dir(cwd)
    slug = paths.run_name(name)
    redactor = Redactor()
    store = FileRunStore(runs_dir, slug, redactor=redactor)
    if not store.exists():
        raise RunNotFound(slug, [info.name for info in list_runs(runs_dir)])
    lock = store.lock()
    with lock:
        notes: list[str] = []
        if lock.notice:
            notes.append(lock.notice)
        loaded = store.load(repair=True)
        notes += loaded.warnings
        state = loaded.state
        plan = _plan_for_resume(state, store, notes, redactor)
        config = load_config(root).with_overrides(jobs=jobs, agent_cmd=agent_cmd)
        backend = make_backend(config.agent_cmd, config.claude_command)
        specs = step_specs(plan, config.command_attempts, config.agent_attempts,
                           config.default_timeout_s)
        changes = decide.resume_changes(state, specs)
        notes.append(_resume_summary(changes))
        for note in notes:
            progress.note(note)
        recorder = Recorder(store, state)
        reports = RunReports(store, root, state.name, state.plan_path, redactor)
        recorder.listeners += [reports, progress.event]
        payload = {key: changes[key] for key in
                   ("added", "removed", "changed", "stale", "updated", "reset", "order",
                    "skipped",
                    "retried", "pending")}
        if jobs is not None:
            payload["jobs"] = jobs
        if max_cost is not None:
            payload["max_cost_usd"] = max_cost
        recorder.record("run_resumed", **payload)
        return _drive(store, recorder, plan, root, config, redactor, progress, notes, reports,
                      backend)


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
