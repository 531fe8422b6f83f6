"""bench/overhead.py runs and reports its figures. Its budgets are for `--check`, run on
purpose: a timing figure never gates the test suite."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SIZE = re.compile(r"^\s+(\d+) steps: (\w+), (\d+) completed, \d+\.\d+ s$", re.M)
PER_STEP = re.compile(r"^    per step\s+(\d+\.\d+) ms", re.M)
JOURNAL = re.compile(r"^    journal\s+\d+\.\d+ KiB, (\d+) events", re.M)
FLAT = re.compile(r"^  largest / smallest per-step time\s+(\d+\.\d+)x", re.M)
RATIO = re.compile(r"^  ratio\s+(\d+\.\d+)x", re.M)
DAG_EVENTS = re.compile(r"^  orchestrate run \(process\)\s+\d+\.\d+ ms, (\d+) events", re.M)
WF = re.compile(r"^wf: (\d+) agent steps in a chain .*, (\d+) reported$", re.M)
WF_PER_STEP = re.compile(r"^  per step\s+(\d+\.\d+) ms \(budget 250 ms\); headless", re.M)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench() -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "overhead.py"),
                           "--sizes", "20,60"], capture_output=True, text=True, timeout=600)
    print(proc.stdout, proc.stderr)
    return proc


def test_every_size_completes_every_step_with_every_event_journalled(bench):
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert SIZE.findall(bench.stdout) == [("20", "completed", "20"), ("60", "completed", "60")]
    # run_started, step_started and step_finished per step, run_finished
    assert [int(n) for n in JOURNAL.findall(bench.stdout)] == [42, 122]
    assert all(float(ms) > 0 for ms in PER_STEP.findall(bench.stdout))
    assert float(FLAT.search(bench.stdout).group(1)) >= 1.0


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_dag_is_reported_beside_make_as_a_ratio(bench):
    assert float(RATIO.search(bench.stdout).group(1)) > 0
    assert int(DAG_EVENTS.search(bench.stdout).group(1)) == 1002


def test_the_wf_path_is_reported_per_step_beside_the_headless_one(bench):
    assert WF.search(bench.stdout).groups() == ("20", "20")
    assert float(WF_PER_STEP.search(bench.stdout).group(1)) > 0
