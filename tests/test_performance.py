"""The benchmarks in bench/ run and print their figures; their budgets are enforced by
`--check` when run on purpose, never by the test suite (a busy machine is not a bug)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_version_imports_nothing_heavy():
    code = (
        "import sys; from orchestrator.cli.main import main; main(['--version']); "
        "print(' '.join(sorted(m for m in ('argparse', 'json', 'markdown_it', 'orchestrator.plan')"
        " if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(REPO / "lib")})
    assert proc.stdout.splitlines()[-1] == ""


def _bench(script: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(REPO / "bench" / script), *args],
                          capture_output=True, text=True, timeout=300)
    print(proc.stdout, proc.stderr)
    return proc


@pytest.mark.slow
def test_plan_scale_reports_a_thousand_phase_plan():
    proc = _bench("plan_scale.py", "--phases", "1000", "--runs", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "plan: 1000 phases" in proc.stdout
    assert "`plan waves --json` as a process" in proc.stdout


@pytest.mark.slow
def test_startup_reports_the_ratio_to_bare_python():
    proc = _bench("startup.py", "--runs", "5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^ratio\s+\d+\.\d+x", proc.stdout, re.M)
