"""The user's branch and a run's work: what may move it while steps work, and bringing the
run's integration branch into it at the end.

A step's stray commit is told from another run landing by a record in the git directory
of the commits runs brought in. Landing fast-forwards the user's checkout (after a merge
commit made without touching the tree when their branch moved on); when it cannot, the
work stays on the integration branch and what to do is said in words. A new run of the
same name never builds on an earlier run's integration branch: it is set aside first.
The git work under it is in store/worktrees.py.
"""

from __future__ import annotations

import time
from pathlib import Path

from orchestrator.store import safefs
from orchestrator.store.worktrees import (
    Worktree,
    branch_tip,
    integration_branch,
    is_ancestor,
    merge_of,
    rev_parse,
    run_git,
)

__all__ = ["stray_commits", "landed", "land", "set_aside_integration"]

LANDED_FILE = "orchestrate-landed"  # in the git dir: commits runs brought into a branch
LANDED_KEPT = 200
LAND_TRIES = 5


def set_aside_integration(root: Path, run: str) -> str | None:
    """Before a new run of this name: an earlier run's integration branch (one that failed,
    was started over, or could not land) is not the new run's base. Dropped when your
    branch has its work already, else renamed ``<branch>-<commit>``; a note saying so."""
    branch = integration_branch(run)
    tip = branch_tip(root, branch)
    if tip is None:
        return None
    if is_ancestor(root, tip, rev_parse(root)):
        run_git(root, "update-ref", "-d", f"refs/heads/{branch}", tip)
        return None
    aside = f"{branch}-{tip[:8]}"
    run_git(root, "branch", "-M", branch, aside)
    return (f"isolation: an earlier run's {branch} holds work your branch does not have; "
            f"it is kept as {aside} and this run starts from your HEAD")


def stray_commits(root: Path, worktree: Worktree, user_head: str) -> str | None:
    """Why the step's work is not where it belongs, or None: its worktree must still be
    on its own branch, and the user's tree must not have moved while it ran."""
    on = run_git(worktree.path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if on.returncode != 0 or on.stdout.strip() != worktree.branch:
        where = on.stdout.strip() or "a detached HEAD"
        return (f"the agent left its worktree on {where}, not on its branch "
                f"{worktree.branch}")
    head = rev_parse(root)
    if head != user_head and head not in landed(root):  # another run landing is no stray
        return "a commit was made in the main working tree while the step ran"
    return None


def _landed_file(root: Path) -> Path:
    common = Path(run_git(root, "rev-parse", "--git-common-dir").stdout.strip())
    return (root / common if not common.is_absolute() else common) / LANDED_FILE


def landed(root: Path) -> set[str]:
    """The commits runs have brought into the user's branch (the latest ones)."""
    try:
        return set(_landed_file(root).read_text(encoding="ascii").split()[-LANDED_KEPT:])
    except (OSError, UnicodeDecodeError):
        return set()


def _note_landed(root: Path, commit: str) -> None:
    """One line appended (runs landing at once each add theirs), trimmed now and then."""
    path = _landed_file(root)
    with open(path, "a", encoding="ascii") as out:
        out.write(commit + "\n")
    lines = path.read_text(encoding="ascii").split()
    if len(lines) > 4 * LANDED_KEPT:
        safefs.write_atomic(path, ("\n".join(lines[-LANDED_KEPT:]) + "\n").encode("ascii"),
                            0o644)


def land(root: Path, run: str, user_head: str) -> str:
    """Bring the run's integration branch into the user's branch at the run's end: a
    fast-forward of the user's checkout when nothing moved there; when the branch moved on
    (another run landed, or a commit was made), a merge commit, made without touching the
    tree and then fast-forwarded into it; else the branch is kept for the user to merge.
    What happened, in words."""
    branch = integration_branch(run)
    ref = f"refs/heads/{branch}"
    head, tip = rev_parse(root), rev_parse(root, ref)
    if tip == user_head:
        run_git(root, "update-ref", "-d", ref)
        return "nothing to merge: no step changed the tree"
    how = "fast-forwarded into the current branch"
    if head != user_head:
        if not is_ancestor(root, user_head, head):
            return f"the user's branch moved away during the run: the work is kept on {branch}"
        merged = merge_of(root, head, tip, f"orchestrate: merge run {run}")
        if merged.kind == "conflict":
            return (f"the current branch moved on during the run and conflicts with the "
                    f"run's work in {', '.join(merged.conflicts[:10])}: the work is kept on "
                    f"{branch}")
        tip, how = merged.commit, "merged into the current branch, which had moved on"
    for _ in range(LAND_TRIES):  # another run landing at the same moment holds the index
        done = run_git(root, "merge", "--ff-only", "--quiet", tip, check=False)
        if done.returncode == 0 or "index.lock" not in done.stderr:
            break
        time.sleep(0.2)
    if done.returncode != 0:
        if tip != rev_parse(root, ref):  # the merge made above: keep it on the branch
            run_git(root, "update-ref", ref, tip)
        return _not_landed(branch, done.stderr or done.stdout)
    _note_landed(root, rev_parse(root))
    run_git(root, "update-ref", "-d", ref)
    return f"the run's work was {how} from {branch}"


def _not_landed(branch: str, said: str) -> str:
    """Why the fast-forward of the user's checkout failed, and what to do, in words."""
    files = [line.strip() for line in said.splitlines() if line.startswith("\t")]
    merge = f"`git merge --ff-only {branch}`"
    if files:
        shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10
                                         else "")
        if "untracked working tree files" in said:
            return (f"the work is kept on {branch}, not brought into your branch: it adds "
                    f"{shown}, which you have as untracked files; move them away (or "
                    f"`git stash -u`), then run {merge}")
        return (f"the work is kept on {branch}, not brought into your branch: it changes "
                f"{shown}, which you changed too and have not committed; commit or stash "
                f"that, then run {merge}")
    first = next((line.strip() for line in said.splitlines() if line.strip()), "git failed")
    return (f"the work is kept on {branch}, not brought into your branch ({first[:200]}); "
            f"merge it with {merge}")
