"""bench/context.py runs a whole /orchestrate workflow and reports what the driving model
read, per step; its budget is for `--check`, run on purpose."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_the_context_benchmark_reports_bytes_per_step_beside_seed_001():
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "context.py")],
                          capture_output=True, text=True, timeout=600)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^context: one /orchestrate workflow, \d+ steps, ended completed$",
                     proc.stdout, re.M)
    per_step = re.search(r"total\s+\d+ bytes, (\d+) bytes per step", proc.stdout)
    assert per_step and int(per_step.group(1)) > 0
    assert "seed 001's prompt" in proc.stdout
