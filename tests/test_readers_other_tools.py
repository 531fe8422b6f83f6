"""Plans written by other tools: spec-kit tasks.md and superpowers (writing-plans) plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator.plan import parse_plan

ROOT = Path(__file__).resolve().parents[1]

SPEC_KIT = """\
# Tasks: Invoice export

**Input**: Design documents from `specs/012-invoice-export/`
**Prerequisites**: plan.md (required), spec.md, data-model.md

Tasks are grouped by user story so that each story can be built and shipped on its own.
Tests are included because the spec asks for them.

## Format: `[ID] [P?] [Story] Description`

- **[P]**: Can run in parallel (different files, no dependencies)
- **[Story]**: Which user story the task belongs to

## Phase 1: Setup (Shared Infrastructure)

**Purpose**: Project skeleton for the exporter

- [ ] T001 Create the package layout in billing/export/__init__.py
- [ ] T002 [P] Add the `reportlab` dependency to pyproject.toml
- [ ] T003 [P] Configure ruff for the new package in ruff.toml

---

## Phase 2: Foundational (Blocking Prerequisites)

**Purpose**: The invoice model every story reads

**⚠️ CRITICAL**: No user story work can begin until this phase is complete

- [ ] T004 Define the Invoice dataclass in billing/export/model.py
- [ ] T005 [P] Add money formatting helpers in billing/export/money.py
- [ ] T006 Load invoices from the database in billing/export/repository.py

**Checkpoint**: Foundation ready - user story implementation can now begin in parallel

---

## Phase 3: User Story 1 - Export one invoice as PDF (Priority: P1) 🎯 MVP

**Goal**: An accountant downloads a single invoice as a PDF

**Independent Test**: Export invoice 42 and open the PDF

### Tests for User Story 1

- [ ] T007 [P] [US1] Contract test for GET /invoices/{id}.pdf in tests/contract/test_pdf.py
- [ ] T008 [P] [US1] Layout test in tests/unit/test_pdf_layout.py

### Implementation for User Story 1

- [ ] T009 [US1] Render the PDF in billing/export/pdf.py
- [ ] T010 [US1] Wire the endpoint in billing/api/routes.py

**Checkpoint**: User Story 1 works on its own

---

## Phase 4: User Story 2 - Export a month as CSV (Priority: P2)

**Goal**: Finance exports every invoice of a month for the ledger

- [ ] T011 [P] [US2] CSV writer in billing/export/csv_writer.py
- [ ] T012 [US2] Month query in billing/export/repository.py and
  a `--month` flag in billing/cli.py

---

## Phase 5: User Story 3 - Email the export (Priority: P3)

- [x] T013 [US3] Spike: check the mail relay accepts attachments
- [ ] T014 [US3] Send the export by mail in billing/export/mailer.py

---

## Phase 6: Polish & Cross-Cutting Concerns

- [ ] T015 [P] Document the exporter in docs/export.md
- [ ] T016 Run the quickstart.md validation

---

## Dependencies & Execution Order

### Phase Dependencies

- **Setup (Phase 1)**: No dependencies - can start immediately
- **Foundational (Phase 2)**: Depends on Setup completion - BLOCKS all user stories
- **User Stories (Phase 3+)**: All depend on Foundational phase completion
- **Polish (Final Phase)**: Depends on all desired user stories being complete

### Phase 7: not a phase, this heading sits in the order section

- [ ] T099 Not a task either

### Parallel Opportunities

- All tasks marked [P] within a phase can run in parallel

## Implementation Strategy

Ship User Story 1 first, demo it, then add the others one at a time.
"""

SUPERPOWERS = """\
# Rate Limiter Implementation Plan

> **For Claude:** REQUIRED SUB-SKILL: Use superpowers:executing-plans to implement this plan
> task-by-task.

**Goal:** Limit each API key to 100 requests a minute.

**Architecture:** A token bucket per key, kept in Redis, checked by a middleware.

**Tech Stack:** Python 3.12, FastAPI, redis-py

---

### Task 1: Token bucket

**Files:**
- Create: `src/limits/bucket.py`
- Test: `tests/limits/test_bucket.py`

- [ ] **Step 1: Write the failing test**

```python
def test_bucket_refuses_the_101st_request():
    bucket = Bucket(capacity=100, refill_per_s=100 / 60)
    assert all(bucket.take() for _ in range(100))
    assert not bucket.take()
```

- [ ] **Step 2: Run test to verify it fails**

Run: `pytest tests/limits/test_bucket.py -v`
Expected: FAIL with "NameError: name 'Bucket' is not defined"

- [ ] **Step 3: Write minimal implementation**

```python
class Bucket:
    def __init__(self, capacity, refill_per_s):
        self.tokens = capacity
```

- [ ] **Step 4: Commit**

```bash
git add src/limits/bucket.py tests/limits/test_bucket.py
git commit -m "feat: token bucket"
```

### Task 2: Middleware

The middleware answers 429 once a key's bucket is empty.

**Files:**
- Modify: `src/app/main.py:12-30`
- Create: `src/limits/middleware.py`
- Test: `tests/limits/test_middleware.py`

- [ ] **Step 1: Write the failing test**

```python
def test_429_after_limit(client):
    for _ in range(100):
        client.get("/ping", headers={"X-Key": "k"})
    assert client.get("/ping", headers={"X-Key": "k"}).status_code == 429
```

- [ ] **Step 2: Run it to see it fail**

Run:
```bash
pytest tests/limits/test_middleware.py -v
```
Expected: FAIL, 200 != 429

- [ ] **Step 3: Implement and run the suite**

Run:
```bash
pytest tests/limits -q
```
Expected: PASS

### Task 3: Configuration

**Files:**
- Modify: `src/app/settings.py:40`

- [ ] **Step 1: Read the limit from `RATE_LIMIT_PER_MIN`**
"""


def _ids(plan):
    return [p.id for p in plan.phases]


def _deps(plan):
    return {p.id: p.depends_on for p in plan.phases}


def _waves(tmp_path: Path, name: str, text: str, *extra: str) -> dict:
    plan = tmp_path / name
    plan.write_text(text, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", "waves", str(plan), "--json", *extra],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- spec-kit ---------------------------------------------------------------------------------

def test_spec_kit_is_detected_and_tasks_are_steps():
    plan, warnings = parse_plan(SPEC_KIT, "tasks.md")
    assert plan.format == "spec-kit"
    assert plan.title == "Tasks: Invoice export"
    # T013 is done ([x]); T099 sits in the Dependencies section: neither is a step
    assert _ids(plan) == [f"T{n:03}" for n in range(1, 17) if n != 13]
    assert [w.message for w in warnings] == ["tasks already done ([x]) are not steps: T013"]


def test_spec_kit_titles_and_files():
    plan, _ = parse_plan(SPEC_KIT, "tasks.md")
    t002 = plan.phase("T002")
    assert t002.title == "Add the reportlab dependency to pyproject.toml"
    assert t002.files == ["pyproject.toml"]
    assert plan.phase("T007").title == (
        "Contract test for GET /invoices/{id}.pdf in tests/contract/test_pdf.py")
    assert plan.phase("T007").files == ["tests/contract/test_pdf.py"]  # not the route
    # a wrapped task line is one task; both paths are its files
    t012 = plan.phase("T012")
    assert t012.files == ["billing/export/repository.py", "billing/cli.py"]
    assert t012.title.endswith("a --month flag in billing/cli.py")
    assert plan.phase("T016").files == ["quickstart.md"]


def test_spec_kit_dependencies():
    deps = _deps(parse_plan(SPEC_KIT, "tasks.md")[0])
    # Setup: T001 first, [P] tasks beside it
    assert deps["T001"] == [] and deps["T002"] == [] and deps["T003"] == []
    # Foundational after all of Setup; T005 [P] runs beside T004
    assert deps["T004"] == ["T001", "T002", "T003"]
    assert deps["T005"] == ["T001", "T002", "T003"]
    assert deps["T006"] == ["T004", "T005"]
    # every story follows Foundational only: the stories are independent
    assert deps["T007"] == deps["T008"] == deps["T011"] == deps["T014"] == ["T006"]
    # a sub-heading is a sequential point: implementation after the story's tests
    assert deps["T009"] == ["T007", "T008"]
    assert deps["T010"] == ["T009"]
    assert deps["T012"] == ["T011"]
    # Polish after every story's last tasks
    assert deps["T015"] == ["T010", "T012", "T014"]
    assert deps["T016"] == ["T015"]  # in order after the [P] task written before it


def test_spec_kit_checkpoint_prose_is_for_the_agent():
    plan, _ = parse_plan(SPEC_KIT, "tasks.md")
    assert all(not p.scripts and not p.verify and not p.run for p in plan.phases)
    assert plan.phase("T006").procedures == [
        "Foundation ready - user story implementation can now begin in parallel"]
    assert "An accountant downloads a single invoice as a PDF" in plan.phase("T009").objective


def test_spec_kit_checkpoint_script_runs_after_the_whole_phase():
    text = """\
## Phase 1: Setup

- [ ] T001 Create app/core.py
- [ ] T002 [P] Create app/extra.py

**Checkpoint**:

```bash
python -c "import app.core, app.extra"
```
"""
    plan, _ = parse_plan(text, "tasks.md")
    t002 = plan.phase("T002")
    assert t002.verify == ['python -c "import app.core, app.extra"']
    assert t002.depends_on == ["T001"]  # its script checks both tasks' work


def test_spec_kit_format_flag_and_override(tmp_path):
    plan, _ = parse_plan(SPEC_KIT, "tasks.md", "spec-kit")
    assert plan.format == "spec-kit"
    plan, _ = parse_plan(SPEC_KIT, "tasks.md", "implementation-plan")
    assert plan.format == "implementation-plan" and _ids(plan)[0] == "1"


def test_spec_kit_waves(tmp_path):
    report = _waves(tmp_path, "tasks.md", SPEC_KIT)
    assert report["format"] == "spec-kit"
    waves = report["waves"]
    assert waves[0] == ["T001", "T002", "T003"]  # Setup's [P] tasks together
    assert waves[1] == ["T004", "T005"]
    assert waves[2] == ["T006"]
    # the user stories start together, right after Foundational
    assert set(waves[3]) == {"T007", "T008", "T011", "T014"}
    assert waves[-2:] == [["T015"], ["T016"]]
    assert not any("T099" in wave for wave in waves)
    assert _waves(tmp_path, "tasks.md", SPEC_KIT, "--format", "spec-kit")["waves"] == waves


# --- superpowers ------------------------------------------------------------------------------

def test_superpowers_is_detected_and_tasks_run_in_order():
    plan, warnings = parse_plan(SUPERPOWERS, "plan.md")
    assert plan.format == "superpowers"
    assert plan.title == "Rate Limiter Implementation Plan"
    assert [(p.id, p.title) for p in plan.phases] == [
        ("1", "Token bucket"), ("2", "Middleware"), ("3", "Configuration")]
    assert _deps(plan) == {"1": [], "2": ["1"], "3": ["2"]}
    assert warnings == []  # Run: `pytest ...` lines are the format's own: no warning


def test_superpowers_files_drop_line_ranges():
    plan, _ = parse_plan(SUPERPOWERS, "plan.md")
    assert plan.phase("1").files == ["src/limits/bucket.py", "tests/limits/test_bucket.py"]
    assert plan.phase("2").files == ["src/app/main.py", "src/limits/middleware.py",
                                     "tests/limits/test_middleware.py"]
    assert plan.phase("3").files == ["src/app/settings.py"]


def test_superpowers_step_code_is_for_the_agent():
    plan, _ = parse_plan(SUPERPOWERS, "plan.md")
    first = plan.phase("1")
    assert first.scripts == [] and first.verify == [] and first.run == []
    joined = "\n".join(first.procedures)
    assert "def test_bucket_refuses_the_101st_request" in joined
    assert "class Bucket:" in joined
    assert 'git commit -m "feat: token bucket"' in joined  # the commit block is not run
    assert "Step 2: Run test to verify it fails" in joined
    assert "pytest tests/limits/test_bucket.py -v" in joined


def test_superpowers_run_block_is_a_check_unless_expected_to_fail():
    second = parse_plan(SUPERPOWERS, "plan.md")[0].phase("2")
    assert second.run == []  # the task is an agent's work, not a shell step
    assert second.verify == ["pytest tests/limits -q"]
    assert [s.field for s in second.scripts] == ["verify"]
    # "run it to see it fail" is part of the TDD cycle: the agent does it
    assert "pytest tests/limits/test_middleware.py -v" in "\n".join(second.procedures)
    assert second.objective == "The middleware answers 429 once a key's bucket is empty."


def test_superpowers_waves(tmp_path):
    report = _waves(tmp_path, "plan.md", SUPERPOWERS)
    assert report["format"] == "superpowers"
    assert report["waves"] == [["1"], ["2"], ["3"]]


# --- detection leaves the native formats alone --------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("## Phase 1: A\n- **Owner:** x\n- [ ] write the parser\n", "plan"),
    ("### BLOQUE 1: A\n**Objective:** x\n", "spec"),
    ("## Implementation Phases\n### Phase 1: A\n- **Tasks:**\n  - [ ] T1 do it\n",
     "implementation-plan"),
    ("## Phase 1: A\n### Task 1: no files field here\n", "plan"),
])
def test_native_formats_are_not_taken_for_other_tools(text, expected):
    assert parse_plan(text, "p.md")[0].format == expected
