"""`orchestrate worktrees [--prune]`: the git worktrees the engine made for isolated steps
(under .claude/worktrees/), listed or removed with their branches."""

from __future__ import annotations

from orchestrator.cli.output import Result

__all__ = ["add_worktrees_parser"]


def add_worktrees_parser(commands, common) -> None:
    parser = commands.add_parser(
        "worktrees", parents=[common], help="list or clean the engine's git worktrees",
        description="List the git worktrees orchestrate made for the steps of isolated "
                    "runs (.claude/worktrees/<run>-<step>, on branches "
                    "orchestrate/<run>/<step>), and its branches that hold work not in "
                    "yours yet (a run's integration branch, a conflicting step's work). "
                    "--prune removes the worktrees and their branches, except those of runs "
                    "that are locked (running now); the branches with work are kept.")
    parser.add_argument("--prune", action="store_true", help="remove them")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (orchestrate/worktrees@1)")
    parser.set_defaults(handler=_cmd_worktrees)


def _cmd_worktrees(args) -> Result:
    from orchestrator.session import runs as session
    from orchestrator.store import worktrees

    project = session.open_project()
    found = worktrees.listed(project.root)
    if not args.prune:
        held = worktrees.branches(project.root)
        text = "".join(f"{entry['path']}  [{entry.get('branch', 'detached')}]\n"
                       for entry in found) or "No worktrees of orchestrate.\n"
        if held:
            text += ("Branches with work not in yours (merge or delete them with git):\n"
                     + "".join(f"  {name}\n" for name in held))
        return Result({"schema": "orchestrate/worktrees@1", "worktrees": found,
                       "branches": held}, text)
    busy = _locked_runs(project)
    kept = [e for e in found if any(_belongs(e, run) for run in busy)]
    removed = []
    for entry in found:
        if entry not in kept:
            removed += worktrees.prune_entry(project.root, entry)
    text = f"removed {len(removed)} worktree(s)" + (f"; kept {len(kept)} of running runs"
                                                    if kept else "") + "\n"
    return Result({"schema": "orchestrate/worktrees@1", "removed": removed,
                   "kept": [e["path"] for e in kept]}, text)


def _belongs(entry: dict, run: str) -> bool:
    from pathlib import Path

    from orchestrator.store.worktrees import worktree_name_prefix

    return Path(entry["path"]).name.startswith(worktree_name_prefix(run))


def _locked_runs(project) -> set[str]:
    from orchestrator.redact import Redactor
    from orchestrator.store import FileRunStore, run_names

    return {name for name in run_names(project.runs_dir)
            if FileRunStore(project.runs_dir, name, redactor=Redactor()).locked_elsewhere()}
