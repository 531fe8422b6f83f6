"""`orchestrate workflow summary|pr`: find the run of the step this process runs for
(ORCHESTRATE_RUN) and hand it to the /orchestrate workflow's closing steps."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.playbooks.orchestrate import closing
from orchestrator.playbooks.orchestrate.growth import load_workflow
from orchestrator.redact import Redactor
from orchestrator.session import runs as session

__all__ = ["create_pr", "run_of_step", "write_summary"]


def run_of_step(cwd: Path | None = None):
    """The run and workflow of the step this process runs for (ORCHESTRATE_RUN), read
    without taking the lock the driver may hold."""
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


def write_summary(cwd: Path | None = None) -> Path:
    """Write the summary of the /orchestrate run this step belongs to."""
    project, store, state, wf = run_of_step(cwd)
    return closing.write_summary(project.root, store, state, wf)


def create_pr(cwd: Path | None = None) -> tuple[str, int]:
    """Open the pull request of the /orchestrate run this step belongs to."""
    project, store, state, wf = run_of_step(cwd)
    return closing.create_pr(project.root, store, state, wf)
