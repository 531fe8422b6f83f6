"""bench/overhead.py: 200 no-op shell steps through the real runner, the cost per step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PER_STEP = re.compile(r"^    per step\s+(\d+\.\d+) ms", re.M)
RUNS = re.compile(r"^  jobs (\d+): (\w+), (\d+)/(\d+) completed$", re.M)
JOURNAL = re.compile(r"^    journal\s+(\d+\.\d+) KiB, (\d+) events", re.M)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench() -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "overhead.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    print(proc.stdout, proc.stderr)
    return proc


def test_both_runs_complete_every_step(bench):
    assert RUNS.findall(bench.stdout) == [("1", "completed", "200", "200"),
                                          ("4", "completed", "200", "200")]
    per_step = [float(ms) for ms in PER_STEP.findall(bench.stdout)]
    assert len(per_step) == 2 and all(ms > 0 for ms in per_step)
    # run_started, step_started and step_finished per step, run_finished
    assert [int(events) for _, events in JOURNAL.findall(bench.stdout)] == [402, 402]


def test_per_step_overhead_within_budget(bench):
    assert bench.returncode == 0, bench.stdout + bench.stderr
