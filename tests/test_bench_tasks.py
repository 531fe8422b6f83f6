"""bench/tasks.py runs and reports its figures; its budget is for `--check`, run on
purpose: a timing figure never gates the test suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_task_benchmark_runs_every_task_to_done_and_prints_its_figures(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "tasks.py"), "--tasks", "3"],
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "TMPDIR": str(tmp_path)})
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"ended DONE\s+3 of 3$", proc.stdout, re.M)
    # ten task transitions each: a plan round rejected, one approved, one phase, the gate
    assert re.search(r"task transitions\s+30, \d+ events journalled$", proc.stdout, re.M)
    wall = float(re.search(r"wall\s+(\d+\.\d+) s", proc.stdout).group(1))
    steps = float(re.search(r"inside the steps .*?(\d+\.\d+) s", proc.stdout).group(1))
    per = float(re.search(r"engine per transition\s+(\d+\.\d+) ms", proc.stdout).group(1))
    assert 0 < steps < wall and per > 0
