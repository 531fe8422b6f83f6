"""bench/scheduler.py: dynamic scheduling within 5% of the lower bound, and ahead of waves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OVERALL = re.compile(r"^overall mean ratio: dynamic (\d+\.\d+), waves (\d+\.\d+) ", re.M)
ROW = re.compile(r"^\s+(\d+|all)\s+(\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)"
                 r"\s+(-?\d+\.\d+)%\s+(\d+)$", re.M)


def _bench(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "scheduler.py"), *args],
                          capture_output=True, text=True, timeout=120)
    print(proc.stdout, proc.stderr)
    return proc


def test_five_hundred_dags_within_budget_and_ahead_of_waves():
    proc = _bench("--dags", "500", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dynamic, waves = map(float, OVERALL.search(proc.stdout).groups())
    assert 1.0 <= dynamic <= 1.05
    assert dynamic < waves
    rows = {match[0]: match for match in ROW.findall(proc.stdout)}
    assert set(rows) >= {"2", "4", "8", "all"}
    for jobs in ("2", "4", "8"):
        _, count, dyn_mean, dyn_max, waves_mean, waves_max, saved, _ = rows[jobs]
        assert int(count) == 500
        assert 1.0 <= float(dyn_mean) <= float(dyn_max)
        assert float(dyn_mean) < float(waves_mean) <= float(waves_max)
        assert float(saved) > 0
    assert int(rows["all"][1]) == 1500


def test_same_seed_same_numbers():
    first, second = _bench("--dags", "30", "--seed", "11"), _bench("--dags", "30", "--seed", "11")
    assert first.returncode == second.returncode == 0
    # The last line is the elapsed time.
    assert first.stdout.splitlines()[:-1] == second.stdout.splitlines()[:-1]
    other = _bench("--dags", "30", "--seed", "12")
    assert other.stdout.splitlines()[:-1] != first.stdout.splitlines()[:-1]
