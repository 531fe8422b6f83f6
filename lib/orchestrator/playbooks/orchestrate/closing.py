"""The `/orchestrate` workflow's closing steps: the workflow summary with its
cross-references, and the pull request (its body, then `gh pr create` when gh can)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine import workflow
from orchestrator.engine.state import RunState
from orchestrator.store import safefs

__all__ = ["create_pr", "write_summary"]


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


def write_summary(root: Path, store, state: RunState, wf: workflow.Workflow) -> Path:
    """summaries/NNN_workflow_summary.md, and the cross-references appended (once) to the
    plan and the reports."""
    from orchestrator.render.workflow_summary import (
        CROSS_REFERENCES,
        cross_references,
        workflow_summary,
    )

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


def create_pr(root: Path, store, state: RunState, wf: workflow.Workflow) -> tuple[str, int]:
    """Write the PR body, then run `gh pr create` when gh is installed and logged in;
    otherwise say so and give the exact command. An isolated run's PR is its integration
    branch, pushed first (the user's branch is not touched). Returns (what happened, exit
    code)."""
    import shlex
    import shutil
    import subprocess

    from orchestrator.render.workflow_summary import pr_body

    body = root / wf.topic_dir / "summaries" / f"{wf.number:03d}_pr_body.md"
    safefs.write_atomic(body, store.redactor.redact(
        pr_body(state, wf, wf.summary_path, _tests(root, state, wf))).encode(), mode=0o644,
        create_dirs=True)
    title = wf.description.splitlines()[0][:70] if wf.description.strip() else wf.slug
    argv = ["gh", "pr", "create", "--title", title, "--body-file", str(body)]
    push = None
    if state.isolate:
        from orchestrator.store.worktrees import integration_branch

        branch = integration_branch(state.name)
        argv += ["--head", branch]
        push = ["git", "push", "--set-upstream", "origin", branch]
    command = " && ".join(" ".join(shlex.quote(word) for word in words)
                          for words in (push, argv) if words)
    if shutil.which("gh") is None:
        return f"gh is not installed; to open the pull request run: {command}", 0
    try:
        auth = subprocess.run(["gh", "auth", "status"], cwd=root, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=60)
    except subprocess.TimeoutExpired:
        return f"gh auth status took over 60 s; to open the pull request run: {command}", 1
    if auth.returncode != 0:
        return f"gh is not logged in (gh auth login); then run: {command}", 0
    if push:
        import os

        try:  # never a prompt for credentials: a push that cannot go on fails
            pushed = subprocess.run(push, cwd=root, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=300,
                                    env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
        except subprocess.TimeoutExpired:
            return f"git push took over 300 s; the work is on {branch}; run: {command}", 1
        if pushed.returncode != 0:
            return (f"git push failed: {pushed.stderr.strip()[-500:]}; the work is on "
                    f"{branch}; to open the pull request run: {command}"), 1
    try:
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
    except subprocess.TimeoutExpired:
        return f"gh pr create took over 300 s; run: {command}", 1
    if done.returncode != 0:
        return f"gh pr create failed: {done.stderr.strip()[-500:]}", 1
    return f"pull request: {done.stdout.strip()}", 0
