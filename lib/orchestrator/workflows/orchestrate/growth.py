"""An `/orchestrate` run: starting it from a description, growing it as steps finish, and
the engine's own closing steps (the summary, the pull request).

The run is an ordinary run of the engine whose steps come from engine/workflow.py instead
of a plan file; ``WorkflowGrowth`` is a recorder listener, so whichever driver moves the run
(`wf`, or `orchestrate run --resume`) it grows the same way: the plan's phases once the plan
validates, a debug round when the tests fail, the docs and summary once they pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.engine import orchestrate_workflow as workflow
from orchestrator.engine.state import RunState
from orchestrator.engine.steps import step_specs
from orchestrator.plan.model import Phase, Plan
from orchestrator.store import safefs
from orchestrator.store.snapshot import write_atomic

__all__ = ["WORKFLOW_FILE", "FORMAT", "load_workflow", "save_workflow", "workflow_plan",
           "specs_for", "add_phases", "WorkflowGrowth"]

WORKFLOW_FILE = "workflow.json"
FORMAT = "workflow"  # the run's plan_format: its steps come from a workflow, not a plan file


def save_workflow(run_dir: Path, wf: workflow.Workflow) -> None:
    write_atomic(Path(run_dir) / WORKFLOW_FILE,
                 json.dumps(wf.to_dict(), separators=(",", ":")).encode())


def load_workflow(run_dir: Path) -> workflow.Workflow | None:
    try:
        return workflow.Workflow.from_dict(json.loads((Path(run_dir) / WORKFLOW_FILE).read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def workflow_plan(path: str, wf: workflow.Workflow, phases: list[Phase]) -> Plan:
    return Plan(path=path, format=FORMAT, title=wf.description, phases=phases)


def specs_for(phases: list[Phase], config) -> list[dict]:
    specs = step_specs(Plan("", FORMAT, None, phases), config.command_attempts,
                       config.agent_attempts, config.default_timeout_s)
    for spec in specs:
        spec["soft"] = workflow.is_soft(spec["id"])
    return specs


def add_phases(recorder, store, config, phases: list[Phase]) -> None:
    """Keep the new phases with the run's others, then journal their steps."""
    from orchestrator.session.runs import PHASES, load_phases

    known = load_phases(store)
    known.update({phase.id: phase for phase in phases})
    data = json.dumps(store.redactor.redact_data(
        {"phases": [phase.to_dict() for phase in known.values()]}), separators=(",", ":"))
    write_atomic(store.run_dir / PHASES, data.encode("utf-8"))
    recorder.record("steps_added", steps=specs_for(phases, config))


class WorkflowGrowth:
    """A recorder listener: the steps a finished step or an answer adds to the run."""

    def __init__(self, recorder, store, config, project_root: Path):
        self.recorder = recorder
        self.store = store
        self.config = config
        self.root = project_root

    def __call__(self, event: dict, state: RunState) -> None:
        if state.plan_format != FORMAT:
            return
        wf = load_workflow(self.store.run_dir)
        if wf is None:
            return
        if event["type"] == "step_finished":
            step = state.steps[event["step"]]
            if step.status in ("pending", "running"):
                return  # a retry: the step is not over
            plan = self._plan(wf) if step.id == "plan" else None
            phases, ask = workflow.after_finish(wf, step.id, step.status, plan,
                                                set(state.steps))
        elif event["type"] == "ask_answered":
            phases = workflow.answer_ask(wf, event["id"], event["choice"], event.get("text"),
                                         list(state.steps))
            ask = None
        else:
            return
        if phases:
            add_phases(self.recorder, self.store, self.config, phases)
        if ask is not None:
            self.recorder.record("ask_opened", **ask)

    def _plan(self, wf: workflow.Workflow) -> Plan | None:
        from orchestrator.errors import OrchestrateError
        from orchestrator.plan import load_plan

        try:
            plan, _ = load_plan(str(self.root / wf.plan_path), "implementation-plan")
        except OrchestrateError:
            return None
        return plan


def _run_of_step(cwd: Path | None = None):
    """The run and workflow of the step this process runs for (ORCHESTRATE_RUN), read
    without taking the lock the driver may hold."""
    import os

    from orchestrator.errors import OrchestrateError
    from orchestrator.redact import Redactor
    from orchestrator.session import runs as session

    name = os.environ.get("ORCHESTRATE_RUN")
    if not name:
        raise OrchestrateError("ORCHESTRATE_RUN is not set: `orchestrate workflow` runs as "
                               "a step of an /orchestrate run")
    project = session.open_project(Path(os.environ.get("ORCHESTRATE_PROJECT_ROOT") or
                                        cwd or Path.cwd()))
    store = session.open_store(project, name, Redactor())
    wf = load_workflow(store.run_dir)
    if wf is None:
        raise OrchestrateError(f"run {name} is not an /orchestrate run")
    return project, store, store.load().state, wf


def _artifacts(root: Path, wf: workflow.Workflow) -> dict[str, list[str]]:
    found = {}
    for kind in ("reports", "plans", "debug", "outputs"):
        folder = root / wf.topic_dir / kind
        found[kind] = sorted(str(path.relative_to(root)) for path in folder.glob("*")
                             if path.is_file()) if folder.is_dir() else []
    return found


def _tests(root: Path, state: RunState, wf: workflow.Workflow) -> list[dict]:
    from orchestrator.render.workflow_summary import test_counts

    runs = []
    for step in state.steps.values():
        if not step.id.startswith("tests") or step.status == "pending":
            continue
        output = f"{wf.topic_dir}/outputs/{step.id.replace(':', '_')}.log"
        try:
            text = (root / output).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        runs.append({"step": step.id, "status": step.status, "output": output,
                     "counts": test_counts(text)})
    return runs


def write_summary(cwd: Path | None = None) -> Path:
    """summaries/NNN_workflow_summary.md, and the cross-references appended (once) to the
    plan and the reports."""
    from orchestrator.render.workflow_summary import (
        CROSS_REFERENCES,
        cross_references,
        workflow_summary,
    )

    project, store, state, wf = _run_of_step(cwd)
    root = project.root
    artifacts = _artifacts(root, wf)
    text = workflow_summary(state, wf, artifacts, _tests(root, state, wf))
    target = root / wf.summary_path
    safefs.write_atomic(target, store.redactor.redact(text).encode("utf-8"), mode=0o644,
                        create_dirs=True)
    section = cross_references(wf.summary_path, wf.plan_path)
    for path in [wf.plan_path, *artifacts["reports"], *artifacts["debug"]]:
        file = root / path
        try:
            content = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if CROSS_REFERENCES not in content:
            with file.open("a", encoding="utf-8") as out:
                out.write(section)
    return target


def create_pr(cwd: Path | None = None) -> tuple[str, int]:
    """Write the PR body, then run `gh pr create` when gh is installed and logged in;
    otherwise say so and give the exact command. Returns (what happened, exit code)."""
    import shlex
    import shutil
    import subprocess

    from orchestrator.render.workflow_summary import pr_body

    project, store, state, wf = _run_of_step(cwd)
    root = project.root
    body = root / wf.topic_dir / "summaries" / f"{wf.number:03d}_pr_body.md"
    safefs.write_atomic(body, store.redactor.redact(
        pr_body(state, wf, wf.summary_path, _tests(root, state, wf))).encode(), mode=0o644,
        create_dirs=True)
    title = wf.description.splitlines()[0][:70] if wf.description.strip() else wf.slug
    argv = ["gh", "pr", "create", "--title", title, "--body-file", str(body)]
    command = " ".join(shlex.quote(word) for word in argv)
    if shutil.which("gh") is None:
        return f"gh is not installed; to open the pull request run: {command}", 0
    auth = subprocess.run(["gh", "auth", "status"], cwd=root, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    if auth.returncode != 0:
        return f"gh is not logged in (gh auth login); then run: {command}", 0
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    if done.returncode != 0:
        return f"gh pr create failed: {done.stderr.strip()[-500:]}", 1
    return f"pull request: {done.stdout.strip()}", 0
