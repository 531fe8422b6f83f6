"""Shared fixtures: plan files in tmp_path and the CLI run in-process."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from orchestrator.cli.main import main

REPO = Path(__file__).resolve().parents[1]
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
