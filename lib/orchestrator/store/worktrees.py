"""Git worktrees the engine owns: one per isolated agent step, merged back into the run's
integration branch.

Layout: the run's integration branch is ``orchestrate/<run>/integration``, created at the
user's HEAD;
a step's worktree is ``.claude/worktrees/<run>-<step>`` on ``orchestrate/<run>/<step>``,
created at the integration branch's commit, and checked with ``git rev-parse`` there
before anyone works in it. What a step is credited with is its exact diff from that base:
its commits and what it left uncommitted.

Merging never touches a working tree: ``git merge-tree --write-tree`` computes the merged
tree, ``git commit-tree`` makes the commit, and ``git update-ref`` moves the integration
branch only if it still points where it did (compare and swap). A process killed during a
merge leaves the branch before or after it, never half-merged. Needs git 2.38 or newer.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import OrchestrateError

__all__ = ["WORKTREES_DIR", "WorktreeError", "Worktree", "Merge", "Diff", "integration_branch",
           "start_integration", "create", "diff", "commit_all", "merge", "merge_of",
           "is_ancestor", "remove", "keep_branch", "existing", "listed", "prune",
           "prune_entry", "worktree_name_prefix", "rev_parse", "run_git", "contains",
           "branches", "branch_tip"]

WORKTREES_DIR = Path(".claude") / "worktrees"
BRANCH_ROOT = "orchestrate"
INTEGRATION = "integration"  # the run's branch beside its steps': orchestrate/<run>/integration
GIT_TIMEOUT_S = 120
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FALLBACK_IDENTITY = ["-c", "user.name=orchestrate", "-c", "user.email=orchestrate@localhost"]


class WorktreeError(OrchestrateError):
    """A git operation on the engine's worktrees that failed; the message says which."""


@dataclass(frozen=True, slots=True)
class Worktree:
    path: Path
    branch: str
    base: str  # the commit it was created at

    def to_dict(self) -> dict:
        return {"path": str(self.path), "branch": self.branch, "base": self.base}


@dataclass(slots=True)
class Diff:
    """What a step did since its base: its commits and every path they or the tree touch."""

    commits: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Merge:
    """How a step's branch went into the integration branch."""

    kind: str  # "fast-forward", "merge", "nothing" (no commits) or "conflict"
    commit: str | None = None  # the integration branch's commit after it
    conflicts: list[str] = field(default_factory=list)


_IDENTITY_ENV = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL")


def _env() -> dict[str, str]:
    """The environment without git's variables (a hook's GIT_DIR would aim every command
    at another repository), but for who the user says they are."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or k in _IDENTITY_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=_env(), capture_output=True,
                              text=True, timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise WorktreeError("git is not installed; isolation needs it") from None
    except subprocess.TimeoutExpired:
        raise WorktreeError(f"git {args[0]} took over {GIT_TIMEOUT_S} s in {cwd}") from None
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise WorktreeError(f"git {' '.join(args[:3])} failed in {cwd}: "
                            f"{said[-1] if said else f'exit {done.returncode}'}")
    return done


def _identity(cwd: Path) -> list[str]:
    """The engine's commits are the user's when git knows who they are (config or the
    GIT_* variables); else they are signed ``orchestrate``, so a repository with no
    identity configured can still be isolated."""
    known = all(run_git(cwd, "-c", "user.useConfigOnly=true", "var", which,
                     check=False).returncode == 0
                for which in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"))
    return [] if known else _FALLBACK_IDENTITY


def rev_parse(cwd: Path, ref: str = "HEAD") -> str:
    return run_git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").stdout.strip()


def branch_tip(root: Path, branch: str) -> str | None:
    """The commit of the local branch ``branch``, or None when there is no such branch."""
    found = run_git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def _slug(text: str) -> str:
    return _SAFE.sub("-", text).strip("-.")[:60] or "step"


def integration_branch(run: str) -> str:
    return f"{BRANCH_ROOT}/{_slug(run)}/{INTEGRATION}"


def _step_slug(step: str) -> str:
    slug = _slug(step)
    return slug + "-step" if slug == INTEGRATION else slug


def start_integration(root: Path, run: str) -> str:
    """The run's integration branch, created at the user's HEAD unless it exists; its
    commit."""
    branch = integration_branch(run)
    tip = branch_tip(root, branch)
    if tip is not None:
        return tip
    head = rev_parse(root)
    run_git(root, "update-ref", f"refs/heads/{branch}", head, "")  # "" : only if it is new
    return head


def _paths(root: Path, run: str, step: str) -> tuple[Path, str]:
    name = f"{_slug(run)}-{_step_slug(step)}"
    return root / WORKTREES_DIR / name, f"{BRANCH_ROOT}/{_slug(run)}/{_step_slug(step)}"


def create(root: Path, run: str, step: str, base: str) -> Worktree:
    """The step's worktree at ``base``, made now, or the one a killed run left (reused
    when it is that step's, on that base)."""
    path, branch = _paths(root, run, step)
    if path.exists():
        mine = any(Path(entry["path"]) == path and entry.get("branch") == branch
                   for entry in listed(root))
        if mine and run_git(path, "merge-base", "--is-ancestor", base, "HEAD",
                         check=False).returncode == 0:
            return Worktree(path, branch, base)
        _force_remove(root, path, branch)
    elif branch_tip(root, branch) is not None:
        run_git(root, "branch", "-D", branch)  # left by an abandoned attempt
    path.parent.mkdir(parents=True, exist_ok=True)
    _exclude(root)
    run_git(root, "worktree", "add", "--quiet", "-b", branch, str(path), base)
    there = rev_parse(path)
    if there != base:
        _force_remove(root, path, branch)
        raise WorktreeError(f"the worktree {path} is at {there[:12]}, not at the run's "
                            f"integration commit {base[:12]}")
    return Worktree(path, branch, base)


def _exclude(root: Path) -> None:
    """Keep the worktrees out of the user's `git status` (and out of the main tree's
    evidence): a line in the repository's info/exclude, which is never committed."""
    common = Path(run_git(root, "rev-parse", "--git-common-dir").stdout.strip())
    exclude = (root / common if not common.is_absolute() else common) / "info" / "exclude"
    line = f"/{WORKTREES_DIR.as_posix()}/"
    try:
        text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    except OSError:
        return
    if line not in text.splitlines():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with open(exclude, "a", encoding="utf-8") as out:
            out.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")


def existing(root: Path, run: str, step: str) -> Worktree | None:
    """The step's worktree if it is there, its base where its branch left the
    integration branch."""
    path, branch = _paths(root, run, step)
    if not (path / ".git").exists():
        return None
    base = run_git(root, "merge-base", f"refs/heads/{branch}",
                f"refs/heads/{integration_branch(run)}", check=False)
    if base.returncode != 0:
        return None
    return Worktree(path, branch, base.stdout.strip())


def diff(worktree: Worktree) -> Diff:
    """The step's exact change: commits since its base, and every path changed by them or
    left changed (or new, and not ignored) in its tree."""
    path, base = worktree.path, worktree.base
    commits = run_git(path, "rev-list", "--reverse", f"{base}..HEAD").stdout.split()
    files = set(run_git(path, "diff", "--name-only", "-z", base).stdout.split("\0"))
    files |= set(run_git(path, "ls-files", "--others", "--exclude-standard", "-z").stdout
                 .split("\0"))
    return Diff(commits, sorted(f for f in files if f))


def commit_all(worktree: Worktree, message: str) -> str | None:
    """Commit what the agent left uncommitted in its worktree; the new commit, or None."""
    path = worktree.path
    run_git(path, "add", "-A")
    if run_git(path, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    run_git(path, *_identity(path), "commit", "--quiet", "--no-verify", "-m", message)
    return rev_parse(path)


def merge(root: Path, run: str, worktree: Worktree, message: str) -> Merge:
    """Merge the step's branch into the run's integration branch, atomically."""
    target = f"refs/heads/{integration_branch(run)}"
    current = rev_parse(root, target)
    theirs = rev_parse(root, f"refs/heads/{worktree.branch}")
    merged = merge_of(root, current, theirs, message)
    if merged.kind in ("fast-forward", "merge"):
        run_git(root, "update-ref", target, merged.commit, current)
    return merged


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    return run_git(root, "merge-base", "--is-ancestor", older, newer,
                check=False).returncode == 0


def merge_of(root: Path, current: str, theirs: str, message: str) -> Merge:
    """How ``theirs`` goes onto ``current``: nothing, a fast-forward, a new merge commit
    (made, not yet pointed at by any branch), or a conflict naming its files."""
    if is_ancestor(root, theirs, current):
        return Merge("nothing", current)
    if is_ancestor(root, current, theirs):
        return Merge("fast-forward", theirs)
    tree = run_git(root, "merge-tree", "--write-tree", "--name-only", "--no-messages",
                current, theirs, check=False)
    if tree.returncode == 1:
        lines = tree.stdout.splitlines()
        return Merge("conflict", current, sorted(set(line for line in lines[1:] if line)))
    if tree.returncode != 0:
        raise WorktreeError(f"git merge-tree failed in {root} (git 2.38 or newer is "
                            f"needed): {tree.stderr.strip()[:200]}")
    made = run_git(root, *_identity(root), "commit-tree", tree.stdout.split()[0], "-p", current,
                "-p", theirs, "-m", message).stdout.strip()
    return Merge("merge", made)


def contains(root: Path, branch: str, ref: str) -> bool:
    """Whether ``ref`` (a branch or commit) is already in ``branch``."""
    try:
        return is_ancestor(root, rev_parse(root, ref), rev_parse(root, f"refs/heads/{branch}"))
    except WorktreeError:
        return False


def _force_remove(root: Path, path: Path, branch: str | None) -> None:
    run_git(root, "worktree", "remove", "--force", "--force", str(path), check=False)
    if path.exists():  # not a registered worktree (or git refused): a folder of ours
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    run_git(root, "worktree", "prune", check=False)
    if branch:
        run_git(root, "branch", "-D", branch, check=False)


def keep_branch(root: Path, worktree: Worktree) -> str:
    """After a conflict: remove the worktree but keep its work on a branch of its own
    (``<branch>-conflict-<commit>``), so that a retry of the step loses nothing; its name."""
    head = rev_parse(worktree.path)
    kept = f"{worktree.branch}-conflict-{head[:8]}"
    _force_remove(root, worktree.path, None)
    run_git(root, "branch", "-M", worktree.branch, kept)
    return kept


def remove(root: Path, worktree: Worktree, *, keep_branch: bool = False) -> None:
    """Remove the step's worktree, and its branch unless ``keep_branch`` (a conflict: the
    work stays on the branch)."""
    _force_remove(root, worktree.path, None if keep_branch else worktree.branch)


def listed(root: Path) -> list[dict]:
    """The engine's worktrees (those under .claude/worktrees/): path, branch, head."""
    out = run_git(root, "worktree", "list", "--porcelain").stdout
    entries, entry = [], {}
    for line in out.splitlines() + [""]:
        if not line:
            if entry:
                entries.append(entry)
            entry = {}
            continue
        key, _, value = line.partition(" ")
        if key == "worktree":
            entry["path"] = value
        elif key == "HEAD":
            entry["head"] = value
        elif key == "branch":
            entry["branch"] = value.removeprefix("refs/heads/")
    base = (root / WORKTREES_DIR).resolve()
    return [e for e in entries if Path(e["path"]).resolve().parent == base]


def branches(root: Path) -> list[str]:
    """The engine's branches that no worktree has checked out: integration branches of
    runs not landed yet, and the work of conflicting steps kept aside."""
    out = run_git(root, "for-each-ref", "--format=%(refname)",
               f"refs/heads/{BRANCH_ROOT}/").stdout.split()
    busy = {entry.get("branch") for entry in listed(root)}
    names = [ref.removeprefix("refs/heads/") for ref in out]
    return [name for name in names if name not in busy]


def worktree_name_prefix(run: str) -> str:
    return _slug(run) + "-"


def prune_entry(root: Path, entry: dict) -> list[str]:
    """Remove one worktree ``listed`` gave, with its branch; [its path]."""
    _force_remove(root, Path(entry["path"]), entry.get("branch"))
    return [entry["path"]]


def prune(root: Path, runs: set[str] | None = None) -> list[str]:
    """Remove the engine's worktrees (those of ``runs`` only, when given), with their
    branches; the paths removed."""
    removed = []
    for entry in listed(root):
        name = Path(entry["path"]).name
        if runs is None or any(name.startswith(worktree_name_prefix(run)) for run in runs):
            removed += prune_entry(root, entry)
    return removed
