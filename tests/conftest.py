"""Shared fixtures: plan files in tmp_path and the CLI run in-process."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from orchestrator.cli.main import main

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.install_fixtures"]  # home, make_env: for the install.sh tests
SHARED = Path(os.environ.get("ORCHESTRATE_SHARED_DIR", REPO.parent / "shared"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end tests that install or time things")


@pytest.fixture
def write_plan(tmp_path):
    """Write dedented Markdown (str) or raw bytes to a plan file and return its path."""

    def write(content, name: str = "plan.md") -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return str(path)

    return write


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code = code
        self.out = out
        self.err = err

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(capsys):
    """Run `orchestrate ARGS...` in-process; return exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test, so rendered times are predictable."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "formats").is_dir():
        pytest.skip(f"shared/ not found at {SHARED} (set ORCHESTRATE_SHARED_DIR)")
    return SHARED


# --- every test in a house of its own ------------------------------------------------------

# Test infrastructure that may come from outside (docs/testing.md); every other variable
# with these prefixes is the user's or the machine's and is removed.
_KEPT = {"ORCHESTRATE_TEST_CACHE", "ORCHESTRATE_SHARED_DIR", "ORCHESTRATE_REAL_CLAUDE_PATH",
         "ORCHESTRATE_TEST_VENV"}
_DROPPED_PREFIXES = ("ORCHESTRATE_", "CLAUDE", "ANTHROPIC_", "XDG_")
_DROPPED = {"PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONHOME", "PYTHONUSERBASE", "BASH_ENV",
            "ENV", "CDPATH", "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_GLOBAL", "TMUX"}
_SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_TOOLS = ("bash", "git", "node", "npm", "bats", "jq", "shellcheck", "make")
_FOREIGN = ("orchestrate", "claude")  # installed copies that must never answer for ours
_REAL_HOME = Path(os.path.expanduser("~")).resolve()
_VENV_BIN = Path(sys.executable).parent


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (OSError, ValueError):
        return False
    return True


def hermetic_path() -> str:
    """The test PATH: the test venv's bin, then the folders of the tools the tests need and
    the system's, leaving out any folder in the real HOME (where `./install.sh` links
    `orchestrate`) and any holding an `orchestrate` or `claude` of its own."""
    import shutil

    original = os.environ.get("PATH", "")
    folders = [str(_VENV_BIN)]
    tool_dirs = [os.path.dirname(found) for tool in _TOOLS
                 if (found := shutil.which(tool, path=original))]
    for folder in [*tool_dirs, *_SYSTEM_DIRS]:
        where = Path(folder)
        if folder in folders or not where.is_dir() or _inside(where, _REAL_HOME):
            continue
        if any((where / name).exists() for name in _FOREIGN):
            continue
        folders.append(folder)
    return os.pathsep.join(folders)


_PATH = hermetic_path()


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path_factory, monkeypatch):
    """Each test gets its own HOME, XDG folders, CLAUDE_CONFIG_DIR and PATH, and none of
    the user's ORCHESTRATE_*/CLAUDE*/ANTHROPIC_* settings: nothing installed for real
    (agents in ~/.claude, an `orchestrate` in ~/.local/bin) can change a result."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if (name.startswith(_DROPPED_PREFIXES) and name not in _KEPT) or name in _DROPPED:
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("PATH", _PATH)
    # The terminal's settings are the user's too: rich reads them (TERM=dumb turns off
    # colour and live display), so every test sees the same ordinary terminal.
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    return home
