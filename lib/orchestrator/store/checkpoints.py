"""Named checkpoints: small JSON objects that scripts save, and load to resume.

The seeds' ``save_checkpoint``/``load_checkpoint`` keep state such as ``plan_path``,
``current_phase`` and ``completed_phases`` between the steps of a script. Each checkpoint
is one file, ``<state root>/checkpoints/<name>.json``, replaced atomically and redacted::

    {"schema": "orchestrate/checkpoint@1", "name": "auth", "updated_at": "...Z",
     "data": {"plan_path": "specs/plans/013_auth.md", "current_phase": 2}}

Names go through ``run_name``, so any text is one safe file name inside that folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.jsonio import JSONTooDeep, loads_bounded
from orchestrator.redact import Redactor
from orchestrator.store import paths, safefs
from orchestrator.store.snapshot import write_atomic

__all__ = ["SCHEMA", "CheckpointError", "CheckpointNotFound", "CheckpointCorrupt",
           "CheckpointInfo", "checkpoints_dir", "checkpoint_name", "save_checkpoint",
           "load_checkpoint", "list_checkpoints", "delete_checkpoint"]

SCHEMA = "orchestrate/checkpoint@1"
_SCHEMA_PREFIX = "orchestrate/checkpoint@"
MAX_BYTES = 8 << 20
LOCK = ".lock"


class CheckpointError(OrchestrateError):
    """Bad checkpoint input, such as data that is not a JSON object."""


class CheckpointNotFound(CheckpointError):
    """No checkpoint has this name; ``known`` lists the ones that exist."""

    def __init__(self, name: str, folder: Path, known: list[str], given: str | None = None):
        self.name = name
        self.folder = folder
        self.known = known
        asked = name if given in (None, name) else f"{name} (from {given!r})"
        if not known:
            tail = f"no checkpoints are stored under {folder}"
        else:
            shown = ", ".join(known[:20])
            more = f", and {len(known) - 20} more" if len(known) > 20 else ""
            tail = f"known checkpoints: {shown}{more}"
        super().__init__(f"no checkpoint named {asked}; {tail}")


class CheckpointCorrupt(CheckpointError):
    """A checkpoint file that cannot be read; it is left as it is."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}; file left untouched (remove it with "
                         f"`orchestrate checkpoint delete {self.path.stem}`)")


@dataclass(slots=True)
class CheckpointInfo:
    """One line of ``orchestrate checkpoint list``."""

    name: str
    updated_at: str
    keys: list[str]
    path: str

    def to_dict(self) -> dict:
        return asdict(self)


def checkpoints_dir(cwd: Path | None = None) -> Path:
    """``<state root>/checkpoints`` of the project containing ``cwd``."""
    return paths.state_root(paths.project_root(cwd)) / "checkpoints"


def checkpoint_name(text: str, redactor: Redactor | None = None) -> str:
    """The stored name for ``text``: redacted, then made one safe path component."""
    if not text.strip():
        raise CheckpointError("a checkpoint name must not be empty")
    return paths.run_name((redactor or Redactor()).redact(text))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _read(path: Path) -> dict | None:
    """The checkpoint stored at ``path``, None when there is none; CheckpointCorrupt when it
    cannot be read as one.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointCorrupt(path, f"cannot be read ({error.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise CheckpointCorrupt(path, f"is larger than {MAX_BYTES >> 20} MiB")
    try:
        record = loads_bounded(raw, str(path))
    except JSONTooDeep as error:
        raise CheckpointCorrupt(path, f"nests more than {error.max_depth} levels deep") \
            from None
    except ValueError:
        raise CheckpointCorrupt(path, "is not valid JSON") from None
    if not isinstance(record, dict):
        raise CheckpointCorrupt(path, "does not hold a JSON object")
    schema = record.get("schema")
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith(_SCHEMA_PREFIX):
            raise CheckpointCorrupt(path, f"has schema {schema}; this version of orchestrate "
                                          f"reads {SCHEMA}")
        raise CheckpointCorrupt(path, f'is not a checkpoint (no "schema": "{SCHEMA}")')
    if not isinstance(record.get("data"), dict):
        raise CheckpointCorrupt(path, 'has no "data" object')
    return record


def _known(folder: Path) -> list[str]:
    try:
        return sorted(entry.stem for entry in folder.glob("*.json")
                      if entry.is_file() and not entry.name.startswith("."))
    except OSError:
        return []


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold the folder's lock, so that concurrent merges do not lose each other's keys.
    Neither the folder nor the lock file is reached through a symbolic link (UnsafePath).
    """
    safefs.ensure_dir(folder)
    fd = safefs.open_file(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


MAX_DEPTH = 32  # workflow state is shallow; a limit keeps recursive code (redaction) safe


def _depth(value, limit: int = MAX_DEPTH + 1) -> int:
    """How deeply ``value`` nests lists and objects (counting stops past ``limit``)."""
    deepest = 0
    frontier = [(value, 0)]
    while frontier:
        item, level = frontier.pop()
        deepest = max(deepest, level)
        if level > limit:
            break
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        frontier.extend((child, level + 1) for child in children)
    return deepest


def save_checkpoint(name: str, updates: dict, replace: bool = False, *,
                    cwd: Path | None = None) -> dict:
    """Merge ``updates`` into the checkpoint's top-level keys (or, with ``replace``, make
    them its whole data) and return the checkpoint as stored. A file that cannot be read is
    never overwritten: CheckpointCorrupt.
    """
    if not isinstance(updates, dict):
        raise CheckpointError(f"checkpoint data must be a JSON object, not "
                              f"{type(updates).__name__}")
    if _depth(updates) > MAX_DEPTH:
        raise CheckpointError(f"checkpoint values may nest at most {MAX_DEPTH} levels deep")
    redactor = Redactor()
    slug = checkpoint_name(name, redactor)
    folder = checkpoints_dir(cwd)
    path = folder / f"{slug}.json"
    with _locked(folder):
        existing = _read(path)
        data = {} if replace or existing is None else dict(existing["data"])
        data.update(redactor.redact_data(updates))
        record = {"schema": SCHEMA, "name": slug, "updated_at": _now(), "data": data}
        try:
            text = json.dumps(record, indent=2, ensure_ascii=True, allow_nan=False)
        except ValueError as error:
            raise CheckpointError(f"checkpoint {slug}: {error} (JSON has no NaN or "
                                  f"Infinity)") from None
        write_atomic(path, (text + "\n").encode("ascii"))
    return record


def load_checkpoint(name: str, *, cwd: Path | None = None) -> dict:
    """The stored checkpoint (``schema``, ``name``, ``updated_at``, ``data``)."""
    slug = checkpoint_name(name)
    folder = checkpoints_dir(cwd)
    record = _read(folder / f"{slug}.json")
    if record is None:
        raise CheckpointNotFound(slug, folder, _known(folder), name)
    return record


def list_checkpoints(*, cwd: Path | None = None,
                     warnings: list[str] | None = None) -> list[CheckpointInfo]:
    """Every readable checkpoint, by name. Unreadable ones are skipped, and a line about
    each is added to ``warnings``.
    """
    folder = checkpoints_dir(cwd)
    infos = []
    for slug in _known(folder):
        path = folder / f"{slug}.json"
        try:
            record = _read(path)
        except CheckpointCorrupt as error:
            if warnings is not None:
                warnings.append(f"skipped {path}: {error.problem}")
            continue
        if record is not None:
            updated = record.get("updated_at")
            infos.append(CheckpointInfo(slug, updated if isinstance(updated, str) else "",
                                        list(record["data"]), str(path)))
    return infos


def delete_checkpoint(name: str, *, cwd: Path | None = None) -> Path:
    """Remove the checkpoint's file (readable or not) and return its path."""
    slug = checkpoint_name(name)
    folder = checkpoints_dir(cwd)
    path = folder / f"{slug}.json"
    if not folder.is_dir():
        raise CheckpointNotFound(slug, folder, [], name)
    with _locked(folder):
        safefs.probe(path, "delete")  # a planted link is refused, not removed
        try:
            path.unlink()
        except FileNotFoundError:
            raise CheckpointNotFound(slug, folder, _known(folder), name) from None
        except OSError as error:
            raise CheckpointError(f"{path}: cannot be removed ({error.strerror})") from None
    return path
