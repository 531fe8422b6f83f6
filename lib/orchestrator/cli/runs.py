"""CLI handlers of `run`, `status` and `runs`: call the core, render its result.

Imports happen inside the handlers so that `orchestrate --version` stays fast.
"""

from __future__ import annotations

import sys

from orchestrator.cli.output import Result
from orchestrator.errors import UsageError

RUN_SCHEMA = "orchestrate/run@1"


def _cmd_run(args) -> int:
    if args.resume and args.plan:
        raise UsageError("run: give either PLAN or --resume NAME, not both")
    if not args.resume and not args.plan:
        raise UsageError("run: a PLAN to run, or --resume NAME, is required")
    if args.dry_run:
        return _dry_run(args)
    import signal

    from orchestrator.drivers import run as run_driver
    from orchestrator.errors import EXIT_INTERRUPTED
    from orchestrator.render.progress import make_progress

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    from orchestrator.redact import redact

    progress = make_progress(sys.stdout, args.json, redact=redact)
    try:
        if args.resume:
            result = run_driver.resume_run(args.resume, jobs=args.jobs, progress=progress,
                                           max_cost=args.max_cost, agent_cmd=args.agent_cmd)
        else:
            result = run_driver.start_run(args.plan, plan_format=args.format,
                                          jobs=args.jobs, fresh=args.fresh, progress=progress,
                                          max_cost=args.max_cost, agent_cmd=args.agent_cmd,
                                          isolate=args.isolate)
    except KeyboardInterrupt:
        print("orchestrate: interrupted; the run is saved. Continue it with "
              "`orchestrate run --resume NAME` (see `orchestrate runs`)", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    from orchestrator.render.status_text import status_dict

    data = status_dict(result.state)
    data.update(schema=RUN_SCHEMA, exit_code=result.exit_code,
                run_dir=str(result.run_dir) if result.run_dir else None,
                debug_log=str(result.debug_log) if result.debug_log else None,
                notes=result.notes)
    return Result(data, _closing_text(result), code=result.exit_code)


def _closing_text(result) -> str:
    """What follows the final table (the progress printed that) for a person."""
    from orchestrator.render.status_text import how_to_go_on

    state = result.state
    lines = []
    if result.debug_log:
        lines.append(f"debug log: {result.debug_log}")
    if state.pause_reason:
        lines.append(f"paused: {state.pause_reason}")
    return "".join(line + "\n" for line in lines) + how_to_go_on(state)


def _dry_run(args) -> Result:
    from pathlib import Path

    from orchestrator.config import load_config
    from orchestrator.plan import load_plan
    from orchestrator.render.dry_run import dry_run_schedule, dry_run_text
    from orchestrator.store import paths

    if args.resume:
        raise UsageError("run: --dry-run needs a PLAN, not --resume")
    plan, warnings = load_plan(args.plan, args.format)
    config = load_config(paths.project_root(Path.cwd())).with_overrides(jobs=args.jobs)
    schedule = dry_run_schedule(plan, config.jobs, config.default_timeout_s,
                                config.blast_radius_command)
    return Result(schedule, dry_run_text(schedule), [str(w) for w in warnings])


def _load_for_reading(name: str | None):
    from orchestrator.errors import OrchestrateError
    from orchestrator.store import FileRunStore, RunNotFound, list_runs, paths
    from orchestrator.store.liveness import as_seen

    _, runs_dir = paths.project_runs_dir()
    if name is None:
        infos = list_runs(runs_dir)
        if not infos:
            raise OrchestrateError(f"no runs are stored under {runs_dir}")
        name = max(infos, key=lambda info: info.updated_at).name
    store = FileRunStore(runs_dir, paths.run_name(name))
    if not store.exists():
        raise RunNotFound(name, [info.name for info in list_runs(runs_dir)])
    loaded = store.load(repair=False)
    loaded.state = as_seen(loaded.state, store.run_dir)
    return loaded


def _cmd_status(args) -> Result:
    from orchestrator.render.status_text import how_to_go_on, status_dict, status_text

    loaded = _load_for_reading(args.name)
    state = loaded.state
    text = status_text(state)
    after = how_to_go_on(state)
    if after:
        text += "\n" + after
    return Result(status_dict(state), text,
                  [f"orchestrate: {warning}" for warning in loaded.warnings])


def _cmd_runs(args) -> Result:
    from orchestrator.render.status_text import runs_dict, runs_text
    from orchestrator.store import list_runs, paths

    _, runs_dir = paths.project_runs_dir()
    warnings: list[str] = []
    infos = [info for info in list_runs(runs_dir, warnings)
             if args.state is None or info.status == args.state]
    return Result(runs_dict(infos), runs_text(infos),
                  [f"orchestrate: {warning}" for warning in warnings])
