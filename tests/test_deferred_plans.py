"""Plans that mix finished, deferred and pending phases, as public plans do: a dependency on a
deferred phase is a warning, a phase marked complete is skipped whatever it depends on, and a
pending phase that needs a deferred one is blocked by it while the rest of the plan runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator.plan.readers import parse_plan_text

from tests.wf_helpers import Wf

REPO = Path(__file__).resolve().parents[1]

# Shaped like the public plan of the issue: 1-3 and 5 done, 4 deferred, 5 needing 1-4.
PUBLIC_PLAN = """# Implementation Plan: Search service

**Status**: Phase 4 deferred; the rest complete

## Overview

The plan grew over several weeks; phase 4 waits for the vendor.

## Implementation Phases

### Phase 1: Index schema [COMPLETE]
**Objective**: Define the index schema.
dependencies: []

Files: `src/schema.py`

### Phase 2: Ingestion [COMPLETE]
**Objective**: Feed documents in.
dependencies: [1]

### Phase 3: Query API [COMPLETE]
**Objective**: Answer queries.
dependencies: [2]

### Phase 4: Vendor ranking [DEFERRED]
**Objective**: Rank with the vendor's model once the contract is signed.
dependencies: [3]

### Phase 5: Launch [COMPLETE]
**Objective**: Ship it.
dependencies: [1, 2, 3, 4]
"""

MIXED_PLAN = """# Plan: mixed

## Phase 1: Base ✅
- **Depends on:** none
- **Files:** `base.txt`

## Phase 2: Ranking (Deferred)
- **Depends on:** Phase 1

## Phase 3: Report
- **Depends on:** Phase 1

**Run:**
```bash
echo report > report.txt
```

## Phase 4: Ranked report
- **Depends on:** Phase 2, Phase 3

**Run:**
```bash
echo ranked > ranked.txt
```

## Phase 5: Ranked summary
- **Depends on:** Phase 4

**Run:**
```bash
echo summary > ranked-summary.txt
```

## Phase 6: Notes [DONE]
- **Depends on:** Phase 2

## Phase 7: Index
- **Depends on:** Phase 3, Phase 6

**Run:**
```bash
echo index > index.txt
```
"""


def orchestrate(cwd: Path, *args: str, check_code: int | None = 0):
    done = subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    if check_code is not None:
        assert done.returncode == check_code, (args, done.stdout, done.stderr)
    return done


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    return root


def test_the_public_plan_validates_with_a_warning_and_its_dry_run_shows_it(project):
    (project / "plan.md").write_text(PUBLIC_PLAN)
    done = orchestrate(project, "plan", "validate", "plan.md")
    assert "phase 5 depends on phase 4, which is deferred (line 25) and never runs: phase 5 " \
           "is marked complete, so it is skipped" in done.stderr
    assert "plan.md:31: warning:" in done.stderr  # the dependency line of phase 5
    dry = orchestrate(project, "run", "plan.md", "--dry-run")
    assert "Skipped, marked complete in the plan: 1, 2, 3, 5." in dry.stdout
    assert "Deferred, never run: 4 (line 25)." in dry.stdout
    data = json.loads(orchestrate(project, "run", "plan.md", "--dry-run", "--json").stdout)
    assert {s["id"]: s["status"] for s in data["steps"]} == {
        "1": "skipped", "2": "skipped", "3": "skipped", "5": "skipped"}
    assert not list(project.glob(".claude"))  # a dry run writes nothing


def test_the_public_plan_runs_to_completed_with_every_phase_skipped(project):
    (project / "plan.md").write_text(PUBLIC_PLAN)
    done = orchestrate(project, "run", "plan.md")
    assert "plan: completed, 4/4 steps done" in done.stdout
    assert not (project / "src").exists()  # nothing ran: every phase was done already


@pytest.mark.parametrize(("heading", "marked"), [
    ("## Phase 1: Base [COMPLETE]", "complete"),
    ("## Phase 1: Base [Completed]", "complete"),
    ("## Phase 1: Base [DONE]", "complete"),
    ("## Phase 1: Base (Complete)", "complete"),
    ("## Phase 1: Base ✅", "complete"),
    ("## ✅ Phase 1: Base", "complete"),
    ("## Phase 1: Base ✅ Complete", "complete"),
    ("## Phase 1: Base - COMPLETE", "complete"),
    ("## Phase 1: Base\n- **Status:** ✅ Completed on 2026-03-01", "complete"),
    ("## Phase 1: Base\n**Status**: Done", "complete"),
    ("## Phase 1: Base [IN PROGRESS]", None),
    ("## Phase 1: Base\n- **Status:** Not started", None),
    ("## Phase 1: Done right", None),  # a title word, not a marker
    ("## Phase 1: Base\n- **Status:** Incomplete", None),
])
def test_markers_of_a_finished_phase_in_their_spellings(heading, marked):
    plan, _ = parse_plan_text(f"# P\n\n{heading}\n- **Depends on:** none\n\n"
                              "## Phase 2: Next\n- **Depends on:** 1\n", "p.md")
    first = plan.phases[0]
    assert (first.id, first.marked) == ("1", marked)
    assert first.title in ("Base", "Done right")


@pytest.mark.parametrize("heading", [
    "## Phase 2: Later [DEFERRED]",
    "## Phase 2: Later (Deferred)",
    "## Phase 2: Later (deferred to Q3)",
    "## Phase 2: Later\n- **Status:** Deferred until the vendor signs",
])
def test_markers_of_a_deferred_phase_in_their_spellings(heading):
    plan, _ = parse_plan_text(f"# P\n\n## Phase 1: Base\n- **Depends on:** none\n\n{heading}\n"
                              "- **Depends on:** 1\n\n## Phase 3: After\n- **Depends on:** 2\n",
                              "p.md")
    assert [p.id for p in plan.deferred] == ["2"]
    assert plan.ids == ["1", "3"]
    assert plan.waits_for(plan.phase("3")) == ["2"]
    assert plan.dependencies()["3"] == []


def test_a_mixed_plan_runs_what_it_can_and_says_what_the_deferral_blocks(project):
    (project / "plan.md").write_text(MIXED_PLAN)
    validate = orchestrate(project, "plan", "validate", "plan.md")
    assert "phase 4 is blocked by it and does not run" in validate.stderr
    assert "phase 6 is marked complete, so it is skipped" in validate.stderr
    dry = orchestrate(project, "run", "plan.md", "--dry-run").stdout
    assert "[blocked: needs phase 2 (line 7), which the plan defers]" in dry
    assert "[blocked: needs phase 4, which waits for a phase the plan defers]" in dry
    assert "Blocked by what the plan defers, not run: 4, 5." in dry
    assert "echo ranked" not in dry  # a blocked phase's commands are not listed as run

    run = orchestrate(project, "run", "plan.md")
    assert "plan: completed, 4/6 steps done (2 blocked by what the plan defers)" in run.stdout
    assert (project / "report.txt").exists() and (project / "index.txt").exists()
    assert not (project / "ranked.txt").exists()
    assert not (project / "ranked-summary.txt").exists()

    status = json.loads(orchestrate(project, "status", "plan", "--json").stdout)
    steps = {s["id"]: s for s in status["steps"]}
    assert {k: s["status"] for k, s in steps.items()} == {
        "1": "skipped", "3": "completed", "4": "blocked", "5": "blocked", "6": "skipped",
        "7": "completed"}
    assert steps["4"]["error"] == "needs phase 2 (line 7), which the plan defers"
    summary = (project / ".claude" / "orchestrate" / "runs" / "plan" / "summary.md").read_text()
    assert "| 4 | Ranked report | blocked |" in summary
    assert "needs phase 2 (line 7), which the plan defers" in summary

    again = orchestrate(project, "run", "--resume", "plan")  # nothing new to do
    assert "plan: completed, 4/6 steps done (2 blocked by what the plan defers)" in again.stdout
    assert (project / "report.txt").read_text() == "report\n"


def test_undeferring_a_phase_lets_what_waited_for_it_run_on_resume(project):
    (project / "plan.md").write_text(MIXED_PLAN)
    orchestrate(project, "run", "plan.md")
    (project / "plan.md").write_text(MIXED_PLAN.replace(
        "## Phase 2: Ranking (Deferred)\n- **Depends on:** Phase 1\n",
        "## Phase 2: Ranking\n- **Depends on:** Phase 1\n\n**Run:**\n```bash\n"
        "echo rank > rank.txt\n```\n"))
    orchestrate(project, "run", "--resume", "plan")
    for name in ("rank.txt", "ranked.txt", "ranked-summary.txt"):
        assert (project / name).exists(), name


def test_the_wf_driver_never_hands_out_a_blocked_step(project, tmp_path):
    (project / "plan.md").write_text(MIXED_PLAN)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.email=t@t", "-c", "user.name=t",
                    "commit", "-qm", "start", "--allow-empty"], check=True)
    wf = Wf(project, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    handed: list[str] = []
    for _ in range(20):
        actions = wf.call("next", answer["run"])["actions"]
        done = [a for a in actions if a["type"] == "done"]
        if done:
            break
        for action in actions:
            if action["type"] == "ask":
                wf.call("answer", answer["run"], action["id"], "continue")
            elif action["type"] == "command":
                handed.append(action["step"])
                wf.call("exec", answer["run"], action["id"])
    assert done[0]["status"] == "completed"
    assert "(2 blocked by what the plan defers)" in done[0]["message"]
    assert "after fixing them" not in done[0]["message"]
    assert sorted(handed) == ["3", "7"]
