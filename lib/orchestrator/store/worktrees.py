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
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.store import safefs

__all__ = ["WORKTREES_DIR", "WorktreeError", "Worktree", "Merge", "Diff", "integration_branch",
           "start_integration", "create", "diff", "commit_all", "stray_commits", "merge",
           "remove", "keep_branch", "land", "existing", "listed", "prune", "prune_entry",
           "worktree_name_prefix", "rev_parse", "landed", "contains", "branches",
           "set_aside_integration", "branch_tip"]

WORKTREES_DIR = Path(".claude") / "worktrees"
BRANCH_ROOT = "orchestrate"
INTEGRATION = "integration"  # the run's branch beside its steps': orchestrate/<run>/integration
GIT_TIMEOUT_S = 120
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FALLBACK_IDENTITY = ["-c", "user.name=orchestrate", "-c", "user.email=orchestrate@localhost"]
LANDED_FILE = "orchestrate-landed"  # in the git dir: commits runs brought into a branch
LANDED_KEPT = 200
LAND_TRIES = 5


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


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
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
    known = all(_git(cwd, "-c", "user.useConfigOnly=true", "var", which,
                     check=False).returncode == 0
                for which in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"))
    return [] if known else _FALLBACK_IDENTITY


def rev_parse(cwd: Path, ref: str = "HEAD") -> str:
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").stdout.strip()


def branch_tip(root: Path, branch: str) -> str | None:
    """The commit of the local branch ``branch``, or None when there is no such branch."""
    found = _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
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
    _git(root, "update-ref", f"refs/heads/{branch}", head, "")  # "" : only if it is new
    return head


def set_aside_integration(root: Path, run: str) -> str | None:
    """Before a new run of this name: an earlier run's integration branch (one that failed,
    was started over, or could not land) is not the new run's base. Dropped when your
    branch has its work already, else renamed ``<branch>-<commit>``; a note saying so."""
    branch = integration_branch(run)
    tip = branch_tip(root, branch)
    if tip is None:
        return None
    if _is_ancestor(root, tip, rev_parse(root)):
        _git(root, "update-ref", "-d", f"refs/heads/{branch}", tip)
        return None
    aside = f"{branch}-{tip[:8]}"
    _git(root, "branch", "-M", branch, aside)
    return (f"isolation: an earlier run's {branch} holds work your branch does not have; "
            f"it is kept as {aside} and this run starts from your HEAD")


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
        if mine and _git(path, "merge-base", "--is-ancestor", base, "HEAD",
                         check=False).returncode == 0:
            return Worktree(path, branch, base)
        _force_remove(root, path, branch)
    elif branch_tip(root, branch) is not None:
        _git(root, "branch", "-D", branch)  # left by an abandoned attempt
    path.parent.mkdir(parents=True, exist_ok=True)
    _exclude(root)
    _git(root, "worktree", "add", "--quiet", "-b", branch, str(path), base)
    there = rev_parse(path)
    if there != base:
        _force_remove(root, path, branch)
        raise WorktreeError(f"the worktree {path} is at {there[:12]}, not at the run's "
                            f"integration commit {base[:12]}")
    return Worktree(path, branch, base)


def _exclude(root: Path) -> None:
    """Keep the worktrees out of the user's `git status` (and out of the main tree's
    evidence): a line in the repository's info/exclude, which is never committed."""
    common = Path(_git(root, "rev-parse", "--git-common-dir").stdout.strip())
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
    base = _git(root, "merge-base", f"refs/heads/{branch}",
                f"refs/heads/{integration_branch(run)}", check=False)
    if base.returncode != 0:
        return None
    return Worktree(path, branch, base.stdout.strip())


def diff(worktree: Worktree) -> Diff:
    """The step's exact change: commits since its base, and every path changed by them or
    left changed (or new, and not ignored) in its tree."""
    path, base = worktree.path, worktree.base
    commits = _git(path, "rev-list", "--reverse", f"{base}..HEAD").stdout.split()
    files = set(_git(path, "diff", "--name-only", "-z", base).stdout.split("\0"))
    files |= set(_git(path, "ls-files", "--others", "--exclude-standard", "-z").stdout
                 .split("\0"))
    return Diff(commits, sorted(f for f in files if f))


def commit_all(worktree: Worktree, message: str) -> str | None:
    """Commit what the agent left uncommitted in its worktree; the new commit, or None."""
    path = worktree.path
    _git(path, "add", "-A")
    if _git(path, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    _git(path, *_identity(path), "commit", "--quiet", "--no-verify", "-m", message)
    return rev_parse(path)


def stray_commits(root: Path, worktree: Worktree, user_head: str) -> str | None:
    """Why the step's work is not where it belongs, or None: its worktree must still be
    on its own branch, and the user's tree must not have moved while it ran."""
    on = _git(worktree.path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if on.returncode != 0 or on.stdout.strip() != worktree.branch:
        where = on.stdout.strip() or "a detached HEAD"
        return (f"the agent left its worktree on {where}, not on its branch "
                f"{worktree.branch}")
    head = rev_parse(root)
    if head != user_head and head not in landed(root):  # another run landing is no stray
        return "a commit was made in the main working tree while the step ran"
    return None


def merge(root: Path, run: str, worktree: Worktree, message: str) -> Merge:
    """Merge the step's branch into the run's integration branch, atomically."""
    target = f"refs/heads/{integration_branch(run)}"
    current = rev_parse(root, target)
    theirs = rev_parse(root, f"refs/heads/{worktree.branch}")
    merged = _merged(root, current, theirs, message)
    if merged.kind in ("fast-forward", "merge"):
        _git(root, "update-ref", target, merged.commit, current)
    return merged


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    return _git(root, "merge-base", "--is-ancestor", older, newer,
                check=False).returncode == 0


def _merged(root: Path, current: str, theirs: str, message: str) -> Merge:
    """How ``theirs`` goes onto ``current``: nothing, a fast-forward, a new merge commit
    (made, not yet pointed at by any branch), or a conflict naming its files."""
    if _is_ancestor(root, theirs, current):
        return Merge("nothing", current)
    if _is_ancestor(root, current, theirs):
        return Merge("fast-forward", theirs)
    tree = _git(root, "merge-tree", "--write-tree", "--name-only", "--no-messages",
                current, theirs, check=False)
    if tree.returncode == 1:
        lines = tree.stdout.splitlines()
        return Merge("conflict", current, sorted(set(line for line in lines[1:] if line)))
    if tree.returncode != 0:
        raise WorktreeError(f"git merge-tree failed in {root} (git 2.38 or newer is "
                            f"needed): {tree.stderr.strip()[:200]}")
    made = _git(root, *_identity(root), "commit-tree", tree.stdout.split()[0], "-p", current,
                "-p", theirs, "-m", message).stdout.strip()
    return Merge("merge", made)


def contains(root: Path, branch: str, ref: str) -> bool:
    """Whether ``ref`` (a branch or commit) is already in ``branch``."""
    try:
        return _is_ancestor(root, rev_parse(root, ref), rev_parse(root, f"refs/heads/{branch}"))
    except WorktreeError:
        return False


def _landed_file(root: Path) -> Path:
    common = Path(_git(root, "rev-parse", "--git-common-dir").stdout.strip())
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
        _git(root, "update-ref", "-d", ref)
        return "nothing to merge: no step changed the tree"
    how = "fast-forwarded into the current branch"
    if head != user_head:
        if not _is_ancestor(root, user_head, head):
            return f"the user's branch moved away during the run: the work is kept on {branch}"
        merged = _merged(root, head, tip, f"orchestrate: merge run {run}")
        if merged.kind == "conflict":
            return (f"the current branch moved on during the run and conflicts with the "
                    f"run's work in {', '.join(merged.conflicts[:10])}: the work is kept on "
                    f"{branch}")
        tip, how = merged.commit, "merged into the current branch, which had moved on"
    for _ in range(LAND_TRIES):  # another run landing at the same moment holds the index
        done = _git(root, "merge", "--ff-only", "--quiet", tip, check=False)
        if done.returncode == 0 or "index.lock" not in done.stderr:
            break
        time.sleep(0.2)
    if done.returncode != 0:
        if tip != rev_parse(root, ref):  # the merge made above: keep it on the branch
            _git(root, "update-ref", ref, tip)
        return _not_landed(branch, done.stderr or done.stdout)
    _note_landed(root, rev_parse(root))
    _git(root, "update-ref", "-d", ref)
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


def _force_remove(root: Path, path: Path, branch: str | None) -> None:
    _git(root, "worktree", "remove", "--force", "--force", str(path), check=False)
    if path.exists():  # not a registered worktree (or git refused): a folder of ours
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    _git(root, "worktree", "prune", check=False)
    if branch:
        _git(root, "branch", "-D", branch, check=False)


def keep_branch(root: Path, worktree: Worktree) -> str:
    """After a conflict: remove the worktree but keep its work on a branch of its own
    (``<branch>-conflict-<commit>``), so that a retry of the step loses nothing; its name."""
    head = rev_parse(worktree.path)
    kept = f"{worktree.branch}-conflict-{head[:8]}"
    _force_remove(root, worktree.path, None)
    _git(root, "branch", "-M", worktree.branch, kept)
    return kept


def remove(root: Path, worktree: Worktree, *, keep_branch: bool = False) -> None:
    """Remove the step's worktree, and its branch unless ``keep_branch`` (a conflict: the
    work stays on the branch)."""
    _force_remove(root, worktree.path, None if keep_branch else worktree.branch)


def listed(root: Path) -> list[dict]:
    """The engine's worktrees (those under .claude/worktrees/): path, branch, head."""
    out = _git(root, "worktree", "list", "--porcelain").stdout
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
    out = _git(root, "for-each-ref", "--format=%(refname)",
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
