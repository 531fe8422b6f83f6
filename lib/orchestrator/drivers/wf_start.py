"""Starting a run for the `wf` protocol: of a plan file (`/execute-plan`, with its
pre-flight: uncommitted changes and failing tests are questions), or of the `/orchestrate`
workflow for a feature description (with its dry-run preview), or finding the stored run
to resume. The calls that move a run afterwards are in drivers/wf.py.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from orchestrator.config import detect_test_command, load_config
from orchestrator.drivers.wf import LOCK_WAIT_S, ActionError, _next_command
from orchestrator.engine.state import RunState
from orchestrator.playbooks.execute_plan import day_log, opening, records
from orchestrator.redact import Redactor
from orchestrator.session import runs as session
from orchestrator.store import FileRunStore
from orchestrator.store.bounds import clip_text
from orchestrator.store.naming import run_name_for_plan

__all__ = ["start", "start_workflow", "resume_workflow", "DIRTY_ASK", "TESTS_FAILING_ASK"]

DIRTY_ASK, TESTS_FAILING_ASK = opening.DIRTY_ASK, opening.TESTS_FAILING_ASK


def start(plan_path: str, *, jobs: int | None = None, max_cost: float | None = None,
          sequential: bool = False, fresh: bool = False, plan_format: str | None = None,
          plan_records: bool = True, cwd: Path | None = None) -> dict:
    """Create the run of ``plan_path`` for the `wf` driver; an unfinished run of the same
    plan is reported under ``resumable``, not overwritten."""
    from orchestrator.plan import parse_plan
    from orchestrator.plan.source import read_plan_text

    plan_text = read_plan_text(plan_path)
    plan, warnings = parse_plan(plan_text, plan_path, plan_format)
    project = session.open_project(cwd)
    config = load_config(project.root).with_overrides(
        jobs=1 if sequential else jobs, max_cost_usd=max_cost)
    redactor = Redactor()
    name = run_name_for_plan(project.runs_dir, plan_path)
    store = FileRunStore(project.runs_dir, name, redactor=redactor)
    notes = [str(w) for w in warnings][:5]
    isolate = _isolate(project, config)  # refused before anything is written
    with store.lock(wait_s=LOCK_WAIT_S):
        try:
            recorder, reports = session.begin_run(
                store, project, plan, plan_path, plan_text, config, redactor, fresh=fresh,
                notes=notes, driver="wf", extra={**_session(), **isolate})
        except session.UnfinishedRun as unfinished:
            return _resumable(unfinished.state, f"orchestrate wf start --plan "
                                                f"{shlex.quote(plan_path)} --fresh --json")
        if plan_records:
            writable, why_not = records.writable_plan(project.root, plan_path)
            if why_not:
                notes.append(f"the plan's Execution Checkpoints are not written: {why_not} "
                             "(the file it points at is left alone)")
            records.enable(store.run_dir, str(writable) if writable else None,
                            day_log.execution_log_path(project.root))
            first = plan.phases[0].type if plan.phases else None
            ask = opening.opening_ask(project.root, config, first, store.run_dir)
            if ask is not None:
                recorder.record("ask_opened", id=ask["id"], question=clip_text(
                    ask["question"], 300), options=ask["options"])
        recorder.flush()
        store.close()
    answer = {"schema": "orchestrate/wf-start@1", "run": name, "steps": len(plan.phases),
              "next": _next_command(name)}
    if notes:
        answer["notes"] = [clip_text(note, 200) for note in notes]
    return answer


def _isolate(project, config) -> dict:
    """``isolate: true``: each step of the run in a git worktree of its own."""
    if not config.isolate:
        return {}
    from orchestrator.drivers.run import _check_isolable

    _check_isolable(project.root)
    return {"isolate": True}


def _session() -> dict:
    """The Claude Code session starting the run (its hooks know the run by it), if any."""
    session_id = os.environ.get("CLAUDE_CODE_SESSION_ID", "").strip()
    return {"session_id": clip_text(session_id, 200)} if session_id else {}


def start_workflow(description: str, *, create_pr: bool = False, dry_run: bool = False,
                   sequential: bool = False, jobs: int | None = None,
                   max_cost: float | None = None, fresh: bool = False,
                   cwd: Path | None = None) -> dict:
    """Start an `/orchestrate` run for ``description`` (a topic folder under specs/ and
    the workflow's first steps); with ``dry_run``, the preview only, nothing written. An
    unfinished run of the same description is offered for resuming, not replaced."""
    from orchestrator.engine import workflow
    from orchestrator.playbooks.orchestrate import growth
    from orchestrator.playbooks.orchestrate.analysis import analyze
    from orchestrator.playbooks.orchestrate.location import allocate_topic

    if not description.strip():
        raise ActionError("the feature description is empty")
    # Before anything is derived from it (folder and run names, workflow.json, prompts, the
    # PR's title and body): a key pasted into a description is never kept or passed on.
    description = Redactor().redact(description)
    project = session.open_project(cwd)
    config = load_config(project.root).with_overrides(
        jobs=1 if sequential else jobs, max_cost_usd=max_cost)
    unfinished = None if fresh or dry_run else _unfinished_workflow(project, description)
    if unfinished is not None:
        return _resumable(unfinished, "the same `wf start` with --fresh")
    isolate = {} if dry_run else _isolate(project, config)  # refused before anything is made
    facts = analyze(description)
    topic = allocate_topic(project.root, description, dry_run=dry_run)
    wf = workflow.Workflow(
        description=clip_text(description, 2000), number=int(topic.number), slug=topic.slug,
        topic_dir=str(topic.path.relative_to(project.root)), workflow_type=facts.workflow_type,
        complexity=facts.score, complexity_band=facts.complexity,
        thinking_mode=facts.thinking_mode,
        topics=list(facts.research_topics), create_pr=create_pr,
        test_command=detect_test_command(project.root, config), cli=_self_command(),
        docs_file=_docs_file(project.root))
    phases = workflow.initial_phases(wf)
    if dry_run:
        return _preview(project, wf, phases)
    redactor = Redactor()
    name = session.paths.run_name(f"{topic.number}_{topic.slug}")
    store = FileRunStore(project.runs_dir, name, redactor=redactor)
    plan = growth.workflow_plan(str(project.root / wf.topic_dir), wf, phases)
    with store.lock(wait_s=LOCK_WAIT_S):
        recorder, _ = session.begin_run(store, project, plan, plan.path, None, config,
                                        redactor, fresh=False, notes=[], driver="wf",
                                        extra={**_session(), **isolate})
        growth.save_workflow(store.run_dir, wf)
        recorder.flush()
        store.close()
    return {"schema": "orchestrate/wf-start@1", "run": name, "steps": len(phases),
            "topic_dir": str(topic.path), "next": _next_command(name)}


def resume_workflow(name: str | None = None, *, cwd: Path | None = None) -> dict:
    """`/orchestrate --resume [NAME]`: the stored run to go on with (the latest unfinished
    /orchestrate run without NAME), as a wf-start answer whose `next` continues it."""
    from orchestrator.playbooks.orchestrate.growth import FORMAT
    from orchestrator.store import list_runs

    project = session.open_project(cwd)
    if name is None:
        for info in list_runs(project.runs_dir):  # most recently updated first
            state = FileRunStore(project.runs_dir, info.name).load().state
            if state.plan_format == FORMAT and state.status != "completed":
                name = info.name
                break
        else:
            raise ActionError(f"no unfinished /orchestrate run under {project.runs_dir}")
    store = session.open_store(project, name, Redactor())
    return _resumable(store.load().state, "start the description again with --fresh")


def _resumable(state: RunState, fresh: str) -> dict:
    """The wf-start answer for a stored run to go on with (``fresh``: how to start over)."""
    return {"schema": "orchestrate/wf-start@1", "run": state.name, "steps": len(state.steps),
            "resumable": {"status": state.status, "completed": state.counts()["completed"],
                          "resume": _next_command(state.name), "fresh": fresh},
            "next": _next_command(state.name)}


def _docs_file(root: Path) -> str:
    """The project's main document, which the docs step updates at least."""
    for name in ("README.md", "README.rst", "README.txt", "README", "docs/index.md"):
        if (root / name).is_file():
            return name
    return "README.md"


def _self_command() -> str:
    """How the engine's own steps call this orchestrate: the interpreter running it now,
    so that they work wherever the console script is (or is not) on PATH."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m orchestrator"


def _unfinished_workflow(project: session.Project, description: str) -> RunState | None:
    """An unfinished `/orchestrate` run of the same description, if there is one."""
    from orchestrator.playbooks.orchestrate.growth import FORMAT, load_workflow
    from orchestrator.store import list_runs

    wanted = clip_text(description, 2000)
    for info in list_runs(project.runs_dir):
        if info.status == "completed":
            continue
        wf = load_workflow(project.runs_dir / info.name)
        if wf is not None and wf.description == wanted:
            store = FileRunStore(project.runs_dir, info.name, redactor=Redactor())
            state = store.load().state
            if state.plan_format == FORMAT:
                return state
    return None


def _preview(project: session.Project, wf, phases) -> dict:
    """What `/orchestrate --dry-run` shows; nothing is written anywhere."""
    minutes = {"agent": 5, "command": 1}
    steps = [{"id": phase.id, "agent": phase.owner, "files": list(phase.files)[:4]}
             for phase in phases]
    estimate = sum(minutes["agent"] if phase.owner else minutes["command"]
                   for phase in phases)
    return {"schema": "orchestrate/wf-dry-run@1", "description": wf.description,
            "workflow_type": wf.workflow_type, "complexity": wf.complexity,
            "complexity_band": wf.complexity_band,
            "thinking_mode": wf.thinking_mode, "research_topics": wf.topics,
            "topic_dir": str(project.root / wf.topic_dir),
            "artifacts": {"reports": str(project.root / wf.topic_dir / "reports"),
                          "plan": str(project.root / wf.plan_path),
                          "summary": str(project.root / wf.summary_path)},
            "steps": steps,
            "then": ["the plan's phases (code-writer)", "tests", "up to 3 debug rounds",
                     "docs (doc-writer)", "summary"] + (["pull request"] if wf.create_pr
                                                        else []),
            "test_command": wf.test_command,
            "estimated_minutes": estimate + 15}
