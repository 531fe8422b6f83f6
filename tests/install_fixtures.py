"""Fixtures for the tests that run install.sh: a real Python on a minimal PATH, one pip
cache for the session, and environments with a fresh HOME (registered in conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Variables that would make the installer or pip look outside the fresh HOME.
_DROPPED_ENV = {
    "PYTHON",
    "PYTHONHOME",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PIP_USER",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_REQUIRE_VIRTUALENV",
    "ORCHESTRATE_TEST_VENV",
}


@pytest.fixture(scope="session")
def python_bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding `python3` for a real (non-venv) interpreter."""
    base = Path(getattr(sys, "_base_executable", "") or sys.executable)
    candidate = base.parent / "python3"
    if candidate.exists() and candidate.resolve() == base.resolve():
        return base.parent
    linked = tmp_path_factory.mktemp("pybin")
    (linked / "python3").symlink_to(base.resolve())
    return linked


@pytest.fixture(scope="session")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pip cache for all installs in the session, so each one is quicker."""
    return tmp_path_factory.mktemp("pip-cache")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def make_env(python_bin_dir: Path, pip_cache: Path):
    """Build an environment with a fresh HOME and a minimal PATH."""

    def build(home: Path, *, path_first: tuple[Path, ...] = (), **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env = {k: v for k, v in env.items() if not k.startswith("XDG_")}
        env["HOME"] = str(home)
        env["PATH"] = os.pathsep.join(
            [*map(str, path_first), str(python_bin_dir), "/usr/bin", "/bin"]
        )
        env["PIP_CACHE_DIR"] = str(pip_cache)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env.update(extra)
        return env

    return build
