"""Topic folders: where one `/orchestrate` workflow keeps its artifacts.

A topic is ``specs/NNN_slug/`` in the project root, with one folder per kind of artifact
(``ARTIFACT_KINDS``). NNN is the next free number, three digits or more; the slug comes
from the feature description and is ``[a-z0-9_]``, so the text a user typed never becomes
a path of its own. Artifacts inside a kind's folder are numbered the same way:
``reports/001_existing_patterns.md``.

Every folder is made relative to a descriptor of its parent, reached without following a
symbolic link (``orchestrator.store.safefs``): a ``specs`` or topic folder that a cloned
repository planted as a link is refused, never written through.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.store import paths, safefs

__all__ = ["ARTIFACT_KINDS", "SPECS_DIR", "MAX_SLUG", "LOCK_NAME", "PROJECT_DIR_ENV",
           "LocationError", "Topic", "slugify", "project_dir", "allocate_topic",
           "get_or_create_topic", "next_artifact_path"]

ARTIFACT_KINDS = ("reports", "plans", "summaries", "debug", "scripts", "outputs")
SPECS_DIR = "specs"
MAX_SLUG = 50
LOCK_NAME = ".topics.lock"  # in specs/: held while a number is chosen and its folder made
PROJECT_DIR_ENV = "CLAUDE_PROJECT_DIR"

_WORD = re.compile(r"[a-z0-9]+")
_NUMBERED = re.compile(r"(\d{3,})_")
_TOPIC_NAME = re.compile(r"(\d{3,})_([a-z0-9][a-z0-9_]*)")
_MAX_TRIES = 1000


class LocationError(OrchestrateError):
    """A topic folder or artifact path that cannot be used."""


def slugify(text: str, fallback: str = "feature", limit: int = MAX_SLUG) -> str:
    """``text`` as lowercase ASCII words joined by ``_``: at most ``limit`` characters, cut
    at a word boundary when one fits, ``fallback`` when no word is left.

    >>> slugify("Add OAuth2 login (Google)"), slugify("Añadir caché"), slugify("$(rm -rf ~)")
    ('add_oauth2_login_google', 'anadir_cache', 'rm_rf')
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    slug = ""
    for found in _WORD.finditer(folded):
        word = found.group()
        joined = f"{slug}_{word}" if slug else word
        if len(joined) > limit:
            slug = slug or word[:limit]
            break
        slug = joined
    return slug or fallback


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic folder and its artifact folders (absolute paths)."""

    number: str  # "007": the folder's number as written in its name
    slug: str
    path: Path
    reports: Path
    plans: Path
    summaries: Path
    debug: Path
    scripts: Path
    outputs: Path

    @classmethod
    def at(cls, path) -> Topic:
        """The topic whose folder is ``path`` (``.../specs/NNN_slug``), existing or not.

        Links above ``specs`` are followed once (the user's choice of where the project
        lives); ``specs`` and the topic folder themselves are checked when they are opened.
        """
        absolute = Path(os.path.abspath(os.fspath(path)))
        named = _TOPIC_NAME.fullmatch(absolute.name)
        if not named or absolute.parent.name != SPECS_DIR:
            raise LocationError(f"{absolute}: not a topic folder (expected "
                                f"{SPECS_DIR}/NNN_slug, slug of a-z, 0-9 and _)")
        folder = absolute.parent.parent.resolve() / SPECS_DIR / absolute.name
        return cls(named.group(1), named.group(2), folder,
                   *(folder / kind for kind in ARTIFACT_KINDS))

    @property
    def artifact_dirs(self) -> dict[str, Path]:
        return {kind: getattr(self, kind) for kind in ARTIFACT_KINDS}

    def exists(self) -> bool:
        """Whether the topic folder is there (UnsafePath when it, or specs, is a link)."""
        status = safefs.probe(self.path)
        return status is not None

    def to_dict(self) -> dict:
        """The seed's location context; artifact folders end with a separator so that
        ``${ARTIFACT_REPORTS}NNN_name.md`` is a path."""
        return {"topic_path": str(self.path), "topic_number": self.number,
                "topic_name": self.slug,
                "artifact_paths": {kind: f"{folder}{os.sep}"
                                   for kind, folder in self.artifact_dirs.items()}}


def project_dir(cwd: Path | None = None) -> Path:
    """``$CLAUDE_PROJECT_DIR`` when set (Claude Code sets it), else the git top level of
    ``cwd`` (``orchestrator.store.paths.project_root``)."""
    named = os.environ.get(PROJECT_DIR_ENV)
    if not named:
        return paths.project_root(cwd)
    folder = Path(named).expanduser()
    if not folder.is_dir():
        raise LocationError(f"{PROJECT_DIR_ENV}={named!r} is not a directory")
    return folder.resolve()


def _next_number(names) -> int:
    numbers = [int(found.group(1)) for name in names if (found := _NUMBERED.match(name))]
    return max(numbers, default=0) + 1


def allocate_topic(root, description: str, *, dry_run: bool = False) -> Topic:
    """Make ``specs/NNN_slug/`` and its artifact folders in the project ``root``, NNN one
    past the highest number in ``specs/``; with ``dry_run``, only say what it would be.

    Allocations are serialised by an ``flock`` on ``specs/.topics.lock``, and the topic
    folder is made with ``mkdir``, which fails when it exists: two processes never get
    the same folder, nor (short of a writer that takes no lock) the same number.
    """
    return _allocate(root, description, dry_run=dry_run, reuse=False)[0]


def get_or_create_topic(root, description: str, *,
                        dry_run: bool = False) -> tuple[Topic, bool]:
    """The latest topic folder whose slug is the description's (its missing artifact
    folders made again), else a new one as ``allocate_topic`` makes it; and whether it is
    new. A workflow that asks twice for the same description gets one folder."""
    return _allocate(root, description, dry_run=dry_run, reuse=True)


def _allocate(root, description: str, *, dry_run: bool, reuse: bool) -> tuple[Topic, bool]:
    specs = Path(root).resolve() / SPECS_DIR
    slug = slugify(description)
    if dry_run:
        taken = [name for name, _ in safefs.list_dir(specs)]
        name = (reuse and _latest(taken, slug)) or f"{_next_number(taken):03d}_{slug}"
        return Topic.at(specs / name), False
    folder = safefs.open_dir(specs, create=True)
    try:
        lock = safefs.open_at(folder, LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644,
                              label=specs / LOCK_NAME)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            name = reuse and _latest(os.listdir(folder), slug)
            created = not name
            name = name or _claim_number(folder, slug, specs)
        finally:
            os.close(lock)  # also releases the flock
        _make_artifact_dirs(folder, name, specs / name)
    finally:
        os.close(folder)
    return Topic.at(specs / name), created


def _latest(names, slug: str) -> str | None:
    """The highest-numbered ``NNN_slug`` among ``names``."""
    numbered = [(int(found.group(1)), name) for name in names
                if (found := _TOPIC_NAME.fullmatch(name)) and found.group(2) == slug]
    return max(numbered)[1] if numbered else None


def _claim_number(folder: int, slug: str, specs: Path) -> str:
    """Make the folder ``NNN_slug`` in ``specs`` (a descriptor) and return its name."""
    number = _next_number(os.listdir(folder))
    for _ in range(_MAX_TRIES):
        name = f"{number:03d}_{slug}"
        try:
            os.mkdir(name, 0o777, dir_fd=folder)
        except FileExistsError:
            number = max(number + 1, _next_number(os.listdir(folder)))
            continue
        rivals = [other for other in os.listdir(folder) if other != name
                  and (found := _NUMBERED.match(other)) and int(found.group(1)) == number]
        if not rivals:
            return name
        os.rmdir(name, dir_fd=folder)  # a writer without the lock took this number too
        number += 1
    raise LocationError(f"{specs}: no free topic number after {_MAX_TRIES} tries")


def _make_artifact_dirs(folder: int, name: str, label: Path) -> None:
    topic = safefs.open_at(folder, name, os.O_RDONLY | os.O_DIRECTORY, label=label)
    try:
        for kind in ARTIFACT_KINDS:
            with contextlib.suppress(FileExistsError):
                os.mkdir(kind, 0o777, dir_fd=topic)
    finally:
        os.close(topic)


def next_artifact_path(topic, kind: str, name: str, *, dry_run: bool = False) -> Path:
    """The path of the next artifact of ``kind`` in ``topic`` (a Topic or its folder):
    ``<topic>/<kind>/NNN_<name>.md``, NNN one past the highest in that folder.

    The kind's folder is made when missing (not with ``dry_run``); the file itself is not:
    the agent that writes the artifact makes it, so calls made before it do so return the
    same number (with different names, different paths).
    """
    if kind not in ARTIFACT_KINDS:
        raise LocationError(f"unknown artifact kind {kind!r} (known: "
                            f"{', '.join(ARTIFACT_KINDS)})")
    if not isinstance(topic, Topic):
        topic = Topic.at(topic)
    stem = slugify(name[:-3] if name.lower().endswith(".md") else name, fallback="artifact")
    folder = topic.path / kind
    if dry_run:
        taken = [entry for entry, _ in safefs.list_dir(folder)]
    else:
        taken = _list_kind_dir(topic, kind)
    return folder / f"{_next_number(taken):03d}_{stem}.md"


def _list_kind_dir(topic: Topic, kind: str) -> list[str]:
    try:
        parent = safefs.open_dir(topic.path)
    except (FileNotFoundError, NotADirectoryError):
        raise LocationError(f"{topic.path}: no such topic folder (make one with "
                            f"`orchestrate topic new`)") from None
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(kind, 0o777, dir_fd=parent)
        folder = safefs.open_at(parent, kind, os.O_RDONLY | os.O_DIRECTORY,
                                label=topic.path / kind)
        try:
            return os.listdir(folder)
        finally:
            os.close(folder)
    finally:
        os.close(parent)
