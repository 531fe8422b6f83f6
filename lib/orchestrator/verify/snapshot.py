"""Did the working tree change during a step? Snapshots before and after, and their diff.

An agent's word that it "edited the files" is a note, not a verdict: the engine snapshots the
project before the step starts and after it ends, and ``diff_snapshots`` says what changed.

In a git work tree a snapshot is HEAD plus a content fingerprint of every path ``git status``
reports, so editing an already-modified file again still counts, and commits made during the
step are found with ``git diff``. Outside git it is a walk of the tree recording
(size, mtime_ns, inode) per file. Paths the run itself writes (its state folder, the debug
log) are passed as ``exclude`` and ignored, with everything under them.

A walk stops after MAX_WALK_FILES files (in sorted order) and marks the snapshot partial:
changes within the part both walks covered are reported exactly, the rest is unknown, so
``Changes.complete`` is False and ``Changes.any`` is True (a step is not failed for a change
that could not be seen).

Example::

    before = take_snapshot(root, exclude=[state_dir])
    ...  # the agent works
    changes = diff_snapshots(before, take_snapshot(root, exclude=[state_dir]))
    if not changes.any: ...
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import OrchestrateError

__all__ = ["Changes", "EvidenceError", "Snapshot", "diff_snapshots", "take_snapshot",
           "parse_status", "MAX_WALK_FILES", "SKIPPED_DIRS"]

MAX_WALK_FILES = 200_000  # a walk stops here and marks the snapshot partial
SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})  # walk mode only
LARGE_FILE_BYTES = 64 * 1024 * 1024  # bigger files are fingerprinted by stat, not hashed
GIT_TIMEOUT_S = 120

DELETED = "<deleted>"
CLEAN = "<clean>"  # git mode: a path status does not name has HEAD's content
DIRECTORY = "<directory>"  # a submodule or nested repository that git status names

# Variables that would point git at another repository than the one at the root.
_REPO_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
             "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_PREFIX")


class EvidenceError(OrchestrateError):
    """A snapshot could not be taken: git failed in a work tree, or the root is unusable."""

    def __init__(self, message: str, command: list[str] | None = None, detail: str = ""):
        self.command = command
        self.detail = detail
        super().__init__(f"{message}: {detail}" if detail else message)


@dataclass(slots=True)
class Snapshot:
    """The state of the tree under ``root`` at one instant."""

    root: str  # absolute path, as given
    mode: str  # "git" or "walk"
    entries: dict[str, object]  # path relative to root (POSIX) -> fingerprint
    head: str | None = None  # git mode: HEAD's commit id, None on an unborn branch
    git_root: str | None = None  # git mode: the work tree's top level
    prefix: str = ""  # git mode: root relative to git_root, "" or ending in "/"
    excluded: tuple[str, ...] = ()  # relative to root; "" excludes everything
    partial: bool = False  # walk mode: stopped at MAX_WALK_FILES
    horizon: tuple[str, ...] | None = None  # partial walk: the last path recorded

    def to_dict(self) -> dict:
        """JSON-ready data; ``from_dict`` gives back an equal Snapshot."""
        return {"root": self.root, "mode": self.mode,
                "entries": {path: list(value) if isinstance(value, tuple) else value
                            for path, value in self.entries.items()},
                "head": self.head, "git_root": self.git_root, "prefix": self.prefix,
                "excluded": list(self.excluded), "partial": self.partial,
                "horizon": list(self.horizon) if self.horizon is not None else None}

    @classmethod
    def from_dict(cls, data: dict) -> Snapshot:
        """A Snapshot from ``to_dict`` data (fingerprints that were tuples are again)."""
        entries = {str(path): tuple(value) if isinstance(value, list) else value
                   for path, value in data["entries"].items()}
        horizon = data.get("horizon")
        return cls(root=data["root"], mode=data["mode"], entries=entries,
                   head=data.get("head"), git_root=data.get("git_root"),
                   prefix=data.get("prefix", ""), excluded=tuple(data.get("excluded", ())),
                   partial=bool(data.get("partial", False)),
                   horizon=tuple(horizon) if horizon is not None else None)


@dataclass(slots=True)
class Changes:
    """What differs between two snapshots of the same root.

    ``complete`` is False when the snapshots cannot be compared exactly (a walk cut short at
    MAX_WALK_FILES, or the tree became or stopped being a git work tree): ``changed`` then
    holds what was seen, and ``any`` is True because absence of change cannot be proved.
    """

    changed: list[str] = field(default_factory=list)  # relative to root, sorted, POSIX
    head_before: str | None = None
    head_after: str | None = None
    committed: bool = False  # HEAD reaches commits it did not reach before
    complete: bool = True

    @property
    def any(self) -> bool:
        return bool(self.changed) or not self.complete

    def touching(self, paths: Iterable[str | os.PathLike]) -> list[str]:
        """The changed paths equal to or under any of ``paths`` (relative to the root)."""
        wanted = [_normal(os.fspath(p)) for p in paths]
        return [c for c in self.changed if any(_under(c, w) for w in wanted)]

    def to_dict(self) -> dict:
        return {"changed": list(self.changed), "head_before": self.head_before,
                "head_after": self.head_after, "committed": self.committed,
                "complete": self.complete}


def _normal(path: str) -> str:
    """A relative path as the snapshots spell it: POSIX, no "./", "" for the root."""
    path = posixpath.normpath(path.replace(os.sep, "/"))
    return "" if path == "." else path


def _under(path: str, base: str) -> bool:
    return base == "" or path == base or path.startswith(base + "/")


def _excluded(path: str, excluded: Iterable[str]) -> bool:
    return any(_under(path, e) for e in excluded)


def _relative_excludes(root: str, exclude: Iterable[str | os.PathLike]) -> tuple[str, ...]:
    """Exclusions relative to root; absolute ones are tried as given, then resolved.
    Paths outside the root are dropped: they cannot show up in its snapshots."""
    real_root = os.path.realpath(root)
    result = []
    for item in exclude:
        path = os.fspath(item)
        if not os.path.isabs(path):
            rel = os.path.normpath(path)
        else:
            rel = os.path.relpath(os.path.normpath(path), root)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                rel = os.path.relpath(os.path.realpath(path), real_root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            continue
        rel = _normal(rel)
        if rel not in result:
            result.append(rel)
    return tuple(result)


def take_snapshot(root: Path, exclude: Iterable[str | os.PathLike] = ()) -> Snapshot:
    """Snapshot the tree under ``root``: git mode in a work tree, walk mode elsewhere."""
    root_abs = os.path.abspath(os.fspath(root))
    if not os.path.isdir(root_abs):
        raise EvidenceError(f"cannot snapshot {root_abs}", detail="not a directory")
    excluded = _relative_excludes(root_abs, exclude)
    location = _git_location(root_abs)
    if location is None:
        return _walk_snapshot(root_abs, excluded)
    git_root, prefix = location
    return _git_snapshot(root_abs, git_root, prefix, excluded)


def diff_snapshots(before: Snapshot, after: Snapshot) -> Changes:
    """What changed between ``before`` and ``after``, two snapshots of the same root."""
    if before.root != after.root:
        raise ValueError(f"snapshots of different roots: {before.root} and {after.root}")
    excluded = tuple(dict.fromkeys(before.excluded + after.excluded))
    changes = Changes(head_before=before.head, head_after=after.head)
    if before.mode != after.mode or before.git_root != after.git_root:
        # The tree became (or stopped being) a git work tree: fingerprints are not comparable.
        paths = set(before.entries) | set(after.entries)
        changes.changed = sorted(p for p in paths if not _excluded(p, excluded))
        changes.complete = False
        return changes
    absent = CLEAN if before.mode == "git" else DELETED
    changed = {path for path in before.entries.keys() | after.entries.keys()
               if before.entries.get(path, absent) != after.entries.get(path, absent)
               and _covered(path, before) and _covered(path, after)}
    if before.partial or after.partial:
        changes.complete = False
    if before.mode == "git" and before.head != after.head:
        git_root = before.git_root or before.root
        changes.committed = _reaches_new_commits(git_root, before.head, after.head)
        for name in _committed_paths(before.root, git_root, before.head, after.head):
            if name.startswith(before.prefix):
                changed.add(name[len(before.prefix):])
    changes.changed = sorted(p for p in changed if not _excluded(p, excluded))
    return changes


def _covered(path: str, snapshot: Snapshot) -> bool:
    """Whether a partial walk got as far as ``path`` (walks go in sorted order)."""
    return snapshot.horizon is None or tuple(path.split("/")) <= snapshot.horizon


# Git mode

def _git(args: list[str], cwd: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never take index.lock: agents may be committing
    command = ["git", *args]
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise EvidenceError("git did not answer", command,
                            f"timed out after {GIT_TIMEOUT_S} s") from error
    if check and done.returncode != 0:
        detail = os.fsdecode(done.stderr).strip() or f"exit status {done.returncode}"
        raise EvidenceError(f"git failed in {cwd}", command, detail)
    return done


def _git_location(root: str) -> tuple[str, str] | None:
    """(top level, prefix of root within it), or None outside a work tree or without git."""
    try:
        done = _git(["rev-parse", "--show-toplevel", "--show-prefix"], root, check=False)
    except (OSError, EvidenceError):
        return None
    lines = os.fsdecode(done.stdout).split("\n")
    if done.returncode != 0 or len(lines) < 2 or not lines[0]:
        return None  # not a repository, a bare one, or inside .git
    return lines[0], lines[1]


def _head(cwd: str) -> str | None:
    done = _git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd, check=False)
    head = done.stdout.decode("ascii", "replace").strip()
    if done.returncode == 0 and head:
        return head
    if _git(["rev-parse", "--git-dir"], cwd, check=False).returncode != 0:
        raise EvidenceError(f"git failed in {cwd}", ["git", "rev-parse", "HEAD"],
                            os.fsdecode(done.stderr).strip())
    return None  # an unborn branch


def parse_status(output: bytes) -> list[str]:
    """The paths in ``git status --porcelain=v1 -z`` output, relative to the top level.

    Records are ``XY PATH\\0``; renames and copies add the original path as the next
    field. Both sides of a rename count (one was deleted); a copy's source did not change.
    """
    fields = output.split(b"\0")
    paths: list[str] = []
    i = 0
    while i < len(fields):
        record = fields[i]
        i += 1
        if len(record) < 4:
            continue  # the empty field after the last NUL
        code, path = record[:2], os.fsdecode(record[3:])
        paths.append(path.rstrip("/"))
        if b"R" in code or b"C" in code:
            if b"R" in code and i < len(fields):
                paths.append(os.fsdecode(fields[i]).rstrip("/"))
            i += 1
    return paths


def _fingerprint(path: str) -> object:
    """sha256 of a file's bytes, a symlink's target, DELETED, DIRECTORY; files above
    LARGE_FILE_BYTES and special files by (size, mtime_ns, inode) so as not to read them."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return "link:" + os.readlink(path)
        if stat.S_ISDIR(info.st_mode):
            return DIRECTORY
        if not stat.S_ISREG(info.st_mode) or info.st_size > LARGE_FILE_BYTES:
            return (info.st_size, info.st_mtime_ns, info.st_ino)
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except FileNotFoundError:
        return DELETED
    except NotADirectoryError:  # a parent directory was replaced by a file
        return DELETED
    except OSError as error:  # unreadable: its metadata is the best evidence there is
        try:
            info = os.lstat(path)
        except OSError:
            return f"<error {error.errno}>"
        return (info.st_size, info.st_mtime_ns, info.st_ino)


def _git_snapshot(root: str, git_root: str, prefix: str, excluded: tuple[str, ...]) -> Snapshot:
    head = _head(root)
    output = _git(["status", "--porcelain=v1", "-z", "--untracked-files=all",
                   "--ignore-submodules=none", "--", "."], root).stdout
    entries: dict[str, object] = {}
    if "" not in excluded:
        for name in parse_status(output):
            if not name.startswith(prefix):
                continue
            rel = name[len(prefix):]
            if rel and not _excluded(rel, excluded) and rel not in entries:
                entries[rel] = _fingerprint(os.path.join(git_root, name))
    return Snapshot(root=root, mode="git", entries=entries, head=head, git_root=git_root,
                    prefix=prefix, excluded=excluded)


def _reaches_new_commits(cwd: str, before: str | None, after: str | None) -> bool:
    """Whether HEAD now reaches a commit it did not reach: a commit or an amend, not a
    reset to an ancestor (checking out another branch counts too)."""
    if after is None:
        return False
    if before is None:
        return True
    done = _git(["rev-list", "-n", "1", after, "--not", before, "--"], cwd, check=False)
    return done.returncode != 0 or bool(done.stdout.strip())


def _committed_paths(root: str, git_root: str, before: str | None,
                     after: str | None) -> list[str]:
    """Paths (relative to the top level) that differ between two commits, under root."""
    empty = ""
    if before is None or after is None:
        done = _git(["hash-object", "-t", "tree", os.devnull], git_root)
        empty = done.stdout.decode("ascii").strip()
    output = _git(["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff",
                   before or empty, after or empty, "--", "."], root).stdout
    return [os.fsdecode(name) for name in output.split(b"\0") if name]


# Walk mode

def _walk_snapshot(root: str, excluded: tuple[str, ...]) -> Snapshot:
    """(size, mtime_ns, inode) of every file, in sorted depth-first order so that a walk
    cut short at MAX_WALK_FILES covers a well-defined prefix of the tree."""
    entries: dict[str, object] = {}
    snapshot = Snapshot(root=root, mode="walk", entries=entries, excluded=excluded)
    if "" in excluded:
        return snapshot
    skip = set(excluded)
    stack = [(_sorted_entries(root), "")]
    last = ""
    while stack:
        iterator, base = stack[-1]
        entry = next(iterator, None)
        if entry is None:
            stack.pop()
            continue
        rel = base + entry.name
        if entry.name in SKIPPED_DIRS or rel in skip:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                stack.append((_sorted_entries(entry.path), rel + "/"))
                continue
            info = entry.stat(follow_symlinks=False)
        except OSError:  # gone since the directory was read, or unreadable
            continue
        if len(entries) >= MAX_WALK_FILES:
            snapshot.partial = True
            snapshot.horizon = tuple(last.split("/"))
            break
        entries[rel] = (info.st_size, info.st_mtime_ns, info.st_ino)
        last = rel
    return snapshot


def _sorted_entries(path: str):
    try:
        with os.scandir(path) as scan:
            return iter(sorted(scan, key=lambda entry: entry.name))
    except OSError:  # unreadable or gone: nothing to record
        return iter(())
