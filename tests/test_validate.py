"""Every validation failure: exit 2, one `PLAN:LINE: message` line on stderr, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CYCLE = """\
## Phase 1: Start
- **Depends on:** none
## Phase 2: B
- **Depends on:** Phase 4
## Phase 3: C
- **Depends on:** Phase 2
## Phase 4: D
- **Depends on:** Phase 3
"""

CASES = {
    "unknown dependency": (
        "## Phase 1: A\n- **Depends on:** none\n## Phase 2: B\n- **Depends on:** Phase 7\n",
        4,
        "phase 2 depends on unknown phase 7 (known: 1, 2)",
    ),
    "cycle": (CYCLE, 4, "cycle: 2 -> 3 -> 4 -> 2"),
    "duplicate id": (
        "## Phase 1: A\n- **Depends on:** none\n\n## Phase 1: Again\n- **Depends on:** none\n",
        4,
        "duplicate phase id 1 (first defined at line 1)",
    ),
    "self dependency": (
        "## Phase 1: A\n- **Depends on:** none\n## Phase 2: B\n- **Depends on:** 1, 2\n",
        4,
        "phase 2 depends on itself",
    ),
    "no phases": ("# Just a title\n\nSome prose, no phases.\n", 1, "no phases found"),
    "empty file": ("", 1, "no phases found"),
    "dependent parallel group": (
        "## Phase 1: A\n- **Depends on:** none\n## Phase 2: B\n- **Depends on:** 1\n"
        "## Phase 3: C\n- **Depends on:** 2\n\n## Parallelization\n\n- Group A: Phase 1, Phase 3\n",
        10,
        "parallel group A: phase 3 depends on phase 1, so they cannot run in parallel",
    ),
    "only deferred phases": (
        "## Backlog\n### Phase 1: A\n", 1,
        "no phases found (expected headings such as '## Phase 1: Title' or "
        "'### BLOQUE 0: Title'); deferred phases are not run: 1",
    ),
    "unknown parallel group member": (
        "## Phase 1: A\n- **Depends on:** none\n\n## Parallel groups\n\n- Group X: Phase 1, 9\n",
        6,
        "parallel group X names unknown phase 9",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "waves", "graph"])
def test_validation_failure(cli, write_plan, case, command):
    text, line, message = CASES[case]
    path = write_plan(text)
    result = cli("plan", command, path)
    assert result.code == 2
    assert any(row.startswith(f"{path}:{line}: {message}") for row in result.err.splitlines())
    assert "Traceback" not in result.err
    assert result.out == ""


def test_cycle_message_lists_ids_in_cycle_order(cli, write_plan):
    result = cli("plan", "validate", write_plan(CYCLE))
    assert result.err.splitlines() == [f"{write_plan(CYCLE)}:4: cycle: 2 -> 3 -> 4 -> 2"]


def test_every_error_is_reported_at_once(cli, write_plan):
    text = "## Phase 1: A\n- **Depends on:** 1\n## Phase 1: B\n- **Depends on:** 9\n"
    result = cli("plan", "validate", write_plan(text))
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 3
    assert "depends on itself" in lines[0]
    assert "duplicate phase id 1" in lines[1]
    assert "unknown phase 9" in lines[2]


def test_missing_file(cli, tmp_path):
    path = str(tmp_path / "nope.md")
    result = cli("plan", "validate", path)
    assert (result.code, result.err) == (2, f"{path}:0: no such file\n")


def test_directory_instead_of_file(cli, tmp_path):
    result = cli("plan", "validate", str(tmp_path))
    assert result.code == 2
    assert result.err == f"{tmp_path}:0: is a directory, not a plan file\n"


def test_path_through_a_file(cli, write_plan):
    path = write_plan("## Phase 1: A\n") + "/inside.md"
    result = cli("plan", "validate", path)
    assert result.code == 2
    assert result.err.startswith(f"{path}:0: cannot read: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(cli, write_plan):
    path = write_plan("## Phase 1: A\n")
    os.chmod(path, 0)
    result = cli("plan", "validate", path)
    assert (result.code, result.err) == (2, f"{path}:0: permission denied\n")


def test_binary_file_names_the_line_of_the_first_nul(cli, write_plan):
    path = write_plan(b"## Phase 1: A\nok\n\x89PNG\x00\x00\x01")
    result = cli("plan", "validate", path)
    assert result.code == 2
    assert result.err == f"{path}:3: binary file (NUL byte), not a Markdown plan\n"


def test_huge_file_is_refused(cli, write_plan):
    path = write_plan(b"## Phase 1: A\n" + b"x" * (9 * 1024 * 1024))
    result = cli("plan", "validate", path)
    assert result.code == 2
    assert "file is too large for a plan" in result.err


def test_json_of_an_invalid_plan_lists_errors_and_exits_2(cli, write_plan):
    path = write_plan(CYCLE)
    result = cli("plan", "validate", path, "--json")
    assert result.code == 2
    data = result.json()
    assert data["valid"] is False
    assert data["errors"] == [
        {"line": 4, "message": "cycle: 2 -> 3 -> 4 -> 2", "severity": "error"}
    ]
    assert [p["id"] for p in data["phases"]] == ["1", "2", "3", "4"]
    assert result.err.splitlines() == [f"{path}:4: cycle: 2 -> 3 -> 4 -> 2"]


def test_warnings_exit_zero(cli, write_plan):
    text = """\
## Phase 1: Design
- **Type:** design
- **Depends on:** none

## Phase 2: Code
- **Depends on:** Phase 1
"""
    path = write_plan(text)
    result = cli("plan", "validate", path)
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{path}:1: warning: design phase 1 names no Files: there are no artifacts to check it by",
        f"{path}:5: warning: phase 2 has nothing to verify (no Files, Checkpoint/Verify, Run or "
        "Blast radius); only a change on disk will count as evidence",
    ]
    assert "valid plan, 2 phases in 2 waves, 2 warnings" in result.out


def test_debug_shows_the_traceback(write_plan):
    from orchestrator.cli.main import main
    from orchestrator.errors import PlanInvalid

    with pytest.raises(PlanInvalid):
        main(["plan", "validate", write_plan(CYCLE), "--debug"])


def test_files_outside_the_project_are_a_warning(cli, write_plan):
    path = write_plan("## Phase 1: A\n- **Depends on:** none\n"
                      "- **Files:** `../elsewhere.py`, `/etc/hostname`, `src/ok.py`\n")
    result = cli("plan", "validate", path)
    assert result.code == 0
    assert (f"{path}:1: warning: phase 1 names files outside the project (../elsewhere.py, "
            "/etc/hostname); evidence there says little about this project's work") \
        in result.err.splitlines()


def test_absurd_estimates_never_become_infinity_in_json(cli, write_plan):
    path = write_plan("## Phase 1: A\n- **Depends on:** none\n- **Files:** `a`\n"
                      "- **Estimated Hours:** " + "9" * 400 + "\n")
    data = cli("plan", "waves", path, "--json").json()
    assert data["phases"][0]["estimated_hours"] is None


DEFERRED_PLAN = """\
## Phase 1: Core
- **Depends on:** none
- **Files:** `core.py`

## Phase 2: Plugins [DEFERRED]
- **Depends on:** 1

## Out of Scope

### Phase 3: Cloud sync
"""


def test_deferred_phases_are_listed_in_json_and_text(cli, write_plan):
    path = write_plan(DEFERRED_PLAN)
    data = cli("plan", "validate", path, "--json").json()
    assert [phase["id"] for phase in data["phases"]] == ["1"]
    assert data["deferred"] == [{"id": "2", "title": "Plugins", "line": 5},
                                {"id": "3", "title": "Cloud sync", "line": 10}]
    assert data["waves"] == [["1"]]
    text = cli("plan", "validate", path)
    assert text.code == 0
    assert text.out.splitlines() == [f"{path}: valid plan, 1 phase in 1 wave",
                                     "Deferred, not run: 2 (line 5), 3 (line 10)"]


def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "plan.md"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", "validate", str(fifo)],
        capture_output=True, text=True, timeout=30,
        env=dict(os.environ, PYTHONPATH=str(REPO / "lib")),
    )
    assert proc.returncode == 2
    assert proc.stderr == f"{fifo}:0: is a named pipe (FIFO), not a regular file\n"


def test_a_device_is_refused(cli):
    result = cli("plan", "validate", os.devnull)
    assert (result.code, result.err) == (2, f"{os.devnull}:0: is a character device, "
                                            "not a regular file\n")


def test_a_symlink_to_a_plan_is_read(cli, write_plan, tmp_path):
    link = tmp_path / "link.md"
    link.symlink_to(write_plan("## Phase 1: A\n- **Files:** `a.py`\n"))
    assert cli("plan", "validate", str(link)).code == 0
