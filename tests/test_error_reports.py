"""Error reports: written atomically and redacted, found again by plan and step, in order."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from orchestrator import store
from orchestrator.redact import Redactor
from orchestrator.store.error_reports import (
    ERROR_REPORT_SCHEMA,
    error_report_summary,
    find_error_reports,
    write_error_report,
)
from orchestrator.store.paths import errors_dir

MONDAY = datetime(2026, 2, 9, 10, 0, 0, tzinfo=timezone.utc)
TOKEN = "gho_" + "k" * 36
ANTHROPIC = "sk-ant-api03-" + "A1b2_C3-d4" * 9 + "AA"
REDACTOR = Redactor(env={"GITHUB_TOKEN": TOKEN})


def report(plan: str, step: str = "2", **changes) -> dict:
    values = {
        "plan": plan, "run": "phase-8-2", "step": step, "title": "Frontend",
        "attempts": 2, "agent": "rust-dev",
        "failures": ["Cannot find module 'some-dep'", "file src/ui.ts missing"],
        "checks": [{"name": "file src/ui.ts", "ok": False, "detail": "missing"},
                   {"name": "verify: npm test", "ok": False, "detail": "exit 1"}],
        "last_output": ["npm ERR! missing script: test"],
        "classification": {"category": "checks", "permanent": False},
    }
    values.update(changes)
    return values


@pytest.fixture
def folder(tmp_path):
    return errors_dir(tmp_path / "state")


@pytest.fixture
def plan(tmp_path):
    return str(tmp_path / "docs" / "specs" / "phase-8.2.md")


def test_write_then_find_round_trip(folder, plan):
    path = write_error_report(folder, report(plan), REDACTOR, now=MONDAY)
    assert path.parent == folder
    assert path.name == "20260209-100000-phase-8.2-step-2.json"
    found = find_error_reports(folder, plan, "2")
    assert found == [json.loads(path.read_text())]
    data = found[0]
    assert data["schema"] == ERROR_REPORT_SCHEMA == "orchestrate/error-report@1"
    assert data["timestamp"] == "2026-02-09T10:00:00Z"
    assert list(data) == ["schema", "timestamp", "plan", "run", "step", "title", "attempts",
                          "agent", "failures", "checks", "last_output", "classification"]
    assert (data["plan"], data["run"], data["step"], data["title"]) == \
        (plan, "phase-8-2", "2", "Frontend")
    assert (data["attempts"], data["agent"]) == (2, "rust-dev")
    assert data["failures"] == ["Cannot find module 'some-dep'", "file src/ui.ts missing"]
    assert data["checks"][1] == {"name": "verify: npm test", "ok": False, "detail": "exit 1"}
    assert data["last_output"] == ["npm ERR! missing script: test"]
    assert data["classification"] == {"category": "checks", "permanent": False}


def test_defaults_and_check_objects(folder, plan):
    class Check:
        def to_dict(self):
            return {"name": "file x", "ok": True, "detail": ""}

    minimal = {"plan": plan, "step": "FINAL", "checks": [Check(), "a bare string"]}
    path = write_error_report(folder, minimal, REDACTOR)
    data = json.loads(path.read_text())
    assert re.fullmatch(r"\d{8}-\d{6}-phase-8\.2-step-FINAL\.json", path.name)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["timestamp"])
    assert (data["run"], data["title"], data["attempts"], data["agent"]) == (None, "", 0, None)
    assert (data["failures"], data["last_output"], data["classification"]) == ([], [], None)
    assert data["checks"] == [{"name": "file x", "ok": True, "detail": ""},
                              {"name": "a bare string", "ok": False, "detail": ""}]


def test_odd_step_ids_make_safe_file_names(folder, plan):
    path = write_error_report(folder, report(plan, step="../../x y"), REDACTOR, now=MONDAY)
    assert path.parent == folder
    assert re.fullmatch(r"20260209-100000-phase-8\.2-step-[\w.-]+-[0-9a-f]{8}\.json", path.name)
    assert [r["step"] for r in find_error_reports(folder, plan, "../../x y")] == ["../../x y"]


def test_only_the_same_plan_and_step(folder, plan, tmp_path):
    write_error_report(folder, report(plan, "2"), REDACTOR, now=MONDAY)
    write_error_report(folder, report(plan, "3"), REDACTOR, now=MONDAY)
    write_error_report(folder, report(str(tmp_path / "other-plan.md"), "2"), REDACTOR,
                       now=MONDAY)
    write_error_report(folder, report(str(tmp_path / "my-phase-8.2.md"), "2"), REDACTOR,
                       now=MONDAY)
    found = find_error_reports(folder, plan, "2")
    assert [(r["plan"], r["step"]) for r in found] == [(plan, "2")]
    assert find_error_reports(folder, plan, "4") == []
    assert find_error_reports(folder, str(tmp_path / "other-plan.md"), "3") == []


def test_a_moved_plan_keeps_its_reports(folder, plan, tmp_path):
    write_error_report(folder, report(plan), REDACTOR, now=MONDAY)
    moved = str(tmp_path / "elsewhere" / "Phase-8.2.md")  # same slug: phase-8.2
    assert [r["plan"] for r in find_error_reports(folder, moved, "2")] == [plan]


def test_oldest_first(folder, plan):
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    write_error_report(folder, report(plan, run="wed"), REDACTOR, now=wednesday)
    write_error_report(folder, report(plan, run="mon"), REDACTOR, now=MONDAY)
    write_error_report(folder, report(plan, run="tue"), REDACTOR, now=tuesday)
    assert [r["run"] for r in find_error_reports(folder, plan, "2")] == ["mon", "tue", "wed"]


def test_same_second_gets_a_counter_and_keeps_write_order(folder, plan):
    paths = [write_error_report(folder, report(plan, run=f"r{n}"), REDACTOR, now=MONDAY)
             for n in range(3)]
    assert [p.name for p in paths] == ["20260209-100000-phase-8.2-step-2.json",
                                       "20260209-100000-phase-8.2-step-2-2.json",
                                       "20260209-100000-phase-8.2-step-2-3.json"]
    assert [r["run"] for r in find_error_reports(folder, plan, "2")] == ["r0", "r1", "r2"]


def test_secrets_are_redacted_on_disk(folder, plan):
    leaky = report(plan, failures=[f"auth failed with {TOKEN}"],
                   last_output=[f"ANTHROPIC_API_KEY={ANTHROPIC}"],
                   checks=[{"name": "verify: curl", "ok": False, "detail": TOKEN}],
                   classification={"message": f"token {TOKEN}"})
    path = write_error_report(folder, leaky, REDACTOR, now=MONDAY)
    raw = path.read_text()
    assert TOKEN not in raw and ANTHROPIC not in raw
    data = json.loads(raw)
    assert data["failures"] == ["auth failed with [REDACTED:GITHUB_TOKEN]"]
    assert data["last_output"] == ["ANTHROPIC_API_KEY=[REDACTED:anthropic-key]"]
    assert data["classification"]["message"] == "token [REDACTED:GITHUB_TOKEN]"


def test_no_temporary_files_are_left(folder, plan):
    write_error_report(folder, report(plan), REDACTOR, now=MONDAY)
    assert [p.name for p in folder.iterdir()] == ["20260209-100000-phase-8.2-step-2.json"]


def test_unreadable_files_are_skipped(folder, plan):
    good = write_error_report(folder, report(plan), REDACTOR, now=MONDAY)
    prefix = "20260210-000000-phase-8.2-step-"
    (folder / f"{prefix}2.json").write_text("{not json")
    (folder / f"{prefix}2-2.json").write_text("[1, 2]")
    (folder / f"{prefix}2-3.json").write_bytes(b"\xff\xfe\x00")
    (folder / f"{prefix}2-4.json").write_text(json.dumps(dict(report(plan),
                                                              schema="orchestrate/other@9")))
    (folder / f"{prefix}2-5.json").write_text(json.dumps(dict(report(plan), step=2,
                                                              schema=ERROR_REPORT_SCHEMA)))
    (folder / f"{prefix}2-6.json").mkdir()
    (folder / f"{prefix}2-7.json").write_text(" " * (2 << 20))
    (folder / f"{prefix}2-8.json").write_text("")
    (folder / f"{prefix}2-9.json").symlink_to(folder / "nowhere.json")
    assert find_error_reports(folder, plan, "2") == [json.loads(good.read_text())]


def test_no_folder_no_reports(tmp_path, plan):
    assert find_error_reports(tmp_path / "missing", plan, "2") == []


def test_summary_is_one_line(plan):
    data = dict(report(plan, failures=["first\nfailure  spread", "second"]),
                timestamp="2026-02-09T10:00:00Z")
    line = error_report_summary(data)
    assert line == ("2026-02-09T10:00:00Z run phase-8-2, step 2 (Frontend) failed after "
                    "2 attempts: first failure spread (+1 more)")
    assert error_report_summary({}) == "unknown time step ? failed"
    long = error_report_summary(dict(data, failures=["x" * 10_000], title="t" * 1000))
    assert "\n" not in long and len(long) < 400


def test_exported_from_the_store_package():
    assert store.write_error_report is write_error_report
    assert store.find_error_reports is find_error_reports
    assert store.error_report_summary is error_report_summary
    assert store.ERROR_REPORT_SCHEMA == ERROR_REPORT_SCHEMA


def test_a_report_nested_too_deeply_is_skipped_with_a_warning(folder, plan, capsys):
    good = write_error_report(folder, report(plan), REDACTOR, now=MONDAY)
    deep = folder / "20260210-000000-phase-8.2-step-2.json"
    deep.write_text('{"schema": "orchestrate/error-report@1", "classification": '
                    + "[" * 100_000 + "]" * 100_000 + "}")
    broken = folder / "20260210-000001-phase-8.2-step-2.json"
    broken.write_text("{not json")
    warnings: list[str] = []
    assert find_error_reports(folder, plan, "2", warnings) == [json.loads(good.read_text())]
    assert sorted(warnings) == [f"skipped error report {deep}: JSON nested more than 64 "
                                "levels deep", f"skipped error report {broken}: not valid JSON"]
    capsys.readouterr()
    assert find_error_reports(folder, plan, "2") == [json.loads(good.read_text())]
    err = capsys.readouterr().err
    assert f"orchestrate: warning: skipped error report {deep}: JSON nested" in err
