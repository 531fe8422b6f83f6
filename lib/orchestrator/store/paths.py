"""Where runs live on disk, and run names that are safe as one path component."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "project_root", "state_root", "runs_dir", "errors_dir", "run_name",
           "MAX_NAME"]

STATE_DIR_ENV = "ORCHESTRATE_STATE_DIR"
MAX_NAME = 64
_OTHER = re.compile(r"[^a-z0-9._-]+")
_REPEATS = re.compile(r"([._-])\1+")


def project_root(cwd: Path | None = None) -> Path:
    """The git top level containing ``cwd``, else ``cwd`` itself (resolved).

    Found as git finds it, by the nearest folder upwards holding a ``.git`` (a folder, or
    the file of a worktree or submodule), without starting git: every CLI call asks. Only
    when ``GIT_DIR`` or ``GIT_WORK_TREE`` say otherwise is git itself asked.
    """
    here = Path.cwd() if cwd is None else Path(cwd)
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return _git_top_level(here)
    try:
        start = here.resolve()
    except OSError:
        return here
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return start


def _git_top_level(here: Path) -> Path:
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=here,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):  # no git, or a cwd that is gone
        return here.resolve()
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else here.resolve()


def state_root(root: Path) -> Path:
    """``$ORCHESTRATE_STATE_DIR`` when set, else ``<root>/.claude/orchestrate``."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(root) / ".claude" / "orchestrate"


def runs_dir(state: Path) -> Path:
    return Path(state) / "runs"


def project_runs_dir(cwd: Path | None = None) -> tuple[Path, Path]:
    """The project root for ``cwd`` and the folder where its runs are stored."""
    root = project_root(cwd)
    return root, runs_dir(state_root(root))


def errors_dir(state: Path) -> Path:
    return Path(state) / "errors"


def run_name(text: str) -> str:
    """A run name from free text (usually a plan file's stem), safe as one path component.

    >>> run_name("phase-8.2"), run_name("My Plan!"), run_name("../..")
    ('phase-8.2', 'my-plan', 'run')
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    name = _REPEATS.sub(r"\1", _OTHER.sub("-", folded)).strip(".-")
    name = name[:MAX_NAME].rstrip(".-")
    return name or "run"
