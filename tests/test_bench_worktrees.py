"""bench/worktrees.py runs and reports; its budget is for `--check`, run on purpose."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_worktree_benchmark_merges_every_step_and_leaves_none(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "worktrees.py"), "--steps",
                           "4", "--files", "20"], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "TMPDIR": str(tmp_path)})
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert "merges: 1 fast-forward, 3 merge commits; worktrees left: 0" in proc.stdout
    assert re.search(r"shared tree\s+\d+\.\d+ s, completed, 12 files", proc.stdout)
    assert re.search(r"--isolate\s+\d+\.\d+ s, completed, 12 files", proc.stdout)
    for name in ("create", "commit", "merge", "remove"):
        assert float(re.search(rf"{name}\s+(\d+\.\d+) ms per step", proc.stdout).group(1)) > 0
