"""The run renderings: debug log, run log, Markdown summary with gantt, status tables/JSON."""

from __future__ import annotations

import json
import re

import pytest
from orchestrator import fmt
from orchestrator.engine.state import STEP_STATUSES, replay
from orchestrator.render.debug_log import (
    DebugLog,
    closing_summary,
    debug_log_header,
    debug_log_path,
    timeline_entry,
)
from orchestrator.render.run_log import CATEGORIES, checks_summary, run_log_lines
from orchestrator.render.status_text import runs_dict, runs_text, status_dict, status_text
from orchestrator.render.summary import gantt, summary_markdown
from orchestrator.store import RunInfo

from .run_scenarios import (
    SPECS,
    T,
    begin,
    end,
    first_segment,
    full_run,
    interrupted_run,
    parallel_run,
    paused_run,
    started,
    walk,
)

pytestmark = pytest.mark.usefixtures("utc")


def timeline(events: list[dict]) -> str:
    return "".join(entry for event, state in walk(events)
                   if (entry := timeline_entry(event, state)) is not None)


def log_lines(events: list[dict]) -> list[str]:
    return [line for event, state in walk(events) for line in run_log_lines(event, state)]


# debug log: timeline

def test_timeline_of_a_run_with_retry_failure_timeout_and_resume():
    text = timeline(full_run())
    assert "### [19:40:01] Step 1: Contracts\n- Result: completed in 1.2 s (attempt 1)\n" in text
    assert "- Checks: files ok, verify 2/2 ok\n" in text
    assert "### [19:40:03] Step 2: Backend: API\n" in text
    assert "- Attempt 1 failed: AssertionError: boom; retrying\n- Cost: $0.0100\n" in text
    assert "Error:\n\n```\nAssertionError: boom\n  File x.py, line 3\n```\n" in text
    assert "### [19:40:06] Step 2: Backend: API (attempt 2 of 3)\n" in text
    assert "- Result: completed in 2.0 s (attempt 2)\n" in text
    assert "- Result: FAILED after 2 attempts: TS2339: Property 'x' not found\n" in text
    assert "- Blocked by this: 4\n" in text
    assert "- Result: TIMEOUT after 900 s\n" in text
    assert "### [20:40:00] Resumed\n- Skipped (done before): 1, 2\n" in text
    assert "- Retried: 3, 5\n" in text
    assert "### [20:40:01] Step 3: Frontend\n- Result: completed in 0.0 s (attempt 1)\n" in text
    assert text.index("Step 1: Contracts") < text.index("Resumed") < text.index("[20:40:02]")


def test_timeline_skips_run_started_and_run_finished():
    for event, state in walk(first_segment()):
        if event["type"] in ("run_started", "run_finished"):
            assert timeline_entry(event, state) is None


def test_permanent_failure_is_final_even_with_attempts_left():
    events = [started(), begin("1", 1), begin("2", 2),
              end("2", 3, "failed", 1.0, error="401 invalid api key", permanent=True)]
    text = timeline(events)
    assert "- Result: FAILED after 1 attempt: 401 invalid api key\n" in text
    assert "retrying" not in text


def test_timed_out_attempt_with_attempts_left_is_retried():
    specs = [dict(SPECS[0], max_attempts=2, timeout_s=30)]
    events = [started(specs=specs), begin("1", 1), end("1", 31, "timeout", 30.0,
                                                          tail=["step 1", "step 2"])]
    text = timeline(events)
    assert "- Attempt 1 timed out after 30 s; retrying\n" in text
    assert "Last output:\n\n```\nstep 1\nstep 2\n```\n" in text


def test_parallel_runs_name_the_step_that_finished():
    text = timeline(parallel_run())
    assert "#### [19:40:02] Step 2 finished\n- Result: completed in 1.0 s" in text
    assert "#### [19:40:03] Step 1 finished\n" in text


def test_interrupted_entry_lists_steps_in_flight():
    text = timeline(interrupted_run())
    assert "### [19:40:04] Interrupted: SIGINT\n" in text
    assert "- In flight, will run again on resume: 2\n" in text
    assert "`orchestrate run --resume feature`" in text


def test_output_fence_outlasts_backticks_in_the_output():
    events = [started(), begin("1", 1), end("1", 2, "failed", 1.0, tail=["```", "x"])]
    assert "````\n```\nx\n````" in timeline(events)


# debug log: summary

def test_closing_summary_of_a_failed_segment():
    text = closing_summary(replay(first_segment()))
    assert text.startswith("\n## Summary\n")
    for line in ("- Status: failed", "- Total time: 15 min 14 s", "- Steps completed: 2/5",
                 "- Failed: 1 (3)", "- Timed out: 1 (5)", "- Blocked: 1 (4)",
                 "- Retries: 2 (step 2, step 3)", "- Cost: $0.0400",
                 "  - Step 3 (failed): TS2339: Property 'x' not found",
                 "  - Step 5 (timeout): timed out after 900 s"):
        assert line + "\n" in text


def test_closing_summary_after_resume_counts_retries_per_step():
    text = closing_summary(replay(full_run()))
    assert "- Steps completed: 5/5\n" in text
    assert "- Retries: 4 (step 2, step 3 x2, step 5)\n" in text
    assert "- Failed: 0\n" in text
    assert "Errors" not in text


def test_closing_summary_without_cost_or_retries():
    state = replay(parallel_run())
    text = closing_summary(state)
    assert "- Retries: 0\n" in text
    assert "Cost" not in text


# debug log: header, template, files

def test_own_header_when_there_is_no_template():
    header = debug_log_header("phase-8", "docs/plan.md", "claude", T + 61, None)
    assert header == ("# phase-8: debug log\n\n- Started: 2026-11-21 19:41:01\n"
                      "- Agent: claude\n- Plan: docs/plan.md\n\n## Timeline\n")


def test_template_placeholders_are_filled_and_timeline_moved_last():
    template = ("# [Feature] - Debug Log\n\n**Date:** YYYY-MM-DD HH:MM\n**Agent:** [Agent]\n"
                "**Spec:** [Spec]\n\n## Timeline\n\n### [HH:MM] example\n\n## Root cause\n\n"
                "(fill in)\n")
    header = debug_log_header("phase-8", "docs/specs/p.md", "backend-architect", T, template)
    assert header.startswith("# phase-8 - Debug Log\n\n**Date:** 2026-11-21 19:40\n"
                             "**Agent:** backend-architect\n**Spec:** docs/specs/p.md\n")
    assert header.index("## Root cause") < header.index("## Timeline")
    assert header.endswith("## Timeline\n\n### [HH:MM] example\n")


def test_template_without_timeline_gets_one():
    header = debug_log_header("f", "p.md", "a", T, "# [Feature]\n\nPlan: [Plan]")
    assert header == "# f\n\nPlan: p.md\n\n## Timeline\n"


def test_debug_log_path_choices(tmp_path):
    run_dir = tmp_path / ".claude" / "orchestrate" / "runs" / "f"
    assert debug_log_path(tmp_path, run_dir, "f") == (run_dir / "debug-log.md", None)
    folder = tmp_path / "docs" / "implementation"
    folder.mkdir(parents=True)
    assert debug_log_path(tmp_path, run_dir, "f") == (folder / "f-debug-log.md", None)
    (folder / "TEMPLATE-debug-log.md").write_text("# [Feature]\n", encoding="utf-8")
    path, template = debug_log_path(tmp_path, run_dir, "../../escape")
    assert path.parent == folder and template == folder / "TEMPLATE-debug-log.md"


def test_debug_log_written_from_a_template_file(tmp_path):
    folder = tmp_path / "docs" / "implementation"
    folder.mkdir(parents=True)
    (folder / "TEMPLATE-debug-log.md").write_text(
        "# [Feature] debug log\n\nStarted YYYY-MM-DD HH:MM by [Agent]\n", encoding="utf-8")
    path, template = debug_log_path(tmp_path, tmp_path / "run", "phase-8")
    log = DebugLog(path)
    events = full_run()
    for event, state in walk(events):
        if event["type"] == "run_started":
            log.start(debug_log_header(state.name, state.plan_path, "claude", event["at"],
                                       template.read_text(encoding="utf-8")))
        entry = timeline_entry(event, state)
        if entry:
            log.append(entry)
    log.finish(closing_summary(state))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# feature debug log\n\nStarted 2026-11-21 19:40 by claude\n")
    assert text.count("## Timeline") == 1
    assert text.index("## Timeline") < text.index("Step 1: Contracts") < text.index("## Summary")


def test_debug_log_never_overwrites_a_previous_run(tmp_path):
    path = tmp_path / "docs" / "f-debug-log.md"
    first = DebugLog(path)
    first.start(debug_log_header("f", "p.md", "a", T, None))
    first.append("\n### [19:40:01] Step 1\n")
    second = DebugLog(path)
    second.start(debug_log_header("f", "p.md", "a", T + 3600, None))
    text = path.read_text(encoding="utf-8")
    assert text.count("# f: debug log") == 2
    assert "### [19:40:01] Step 1\n\n\n---\n\n# f: debug log\n\n- Started: 2026-11-21 20:40:00" \
        in text


def test_debug_log_redacts_everything_it_writes(tmp_path):
    path = tmp_path / "log.md"
    log = DebugLog(path, redact=lambda text: text.replace("sk-secret", "[REDACTED]"))
    log.start("# sk-secret\n")
    log.append("- error: sk-secret\n")
    log.finish("## Summary sk-secret\n")
    text = path.read_text(encoding="utf-8")
    assert "sk-secret" not in text and text.count("[REDACTED]") == 3


# run log

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[(?P<cat>[a-z ]+)\] \S")


def test_run_log_lines_are_stamped_and_categorised():
    lines = log_lines(full_run())
    for line in lines:
        match = LINE.match(line)
        assert match and match["cat"] in CATEGORIES, line
    assert "2026-11-21T19:40:01Z [task] step 1 started (attempt 1)" in lines
    assert "2026-11-21T19:40:02Z [quality gate] step 1 checks: files ok, verify 2/2 ok" in lines
    assert "2026-11-21T19:40:02Z [task] step 1 completed in 1.2 s" in lines
    assert ("2026-11-21T19:40:05Z [retry] step 2 attempt 1 failed: AssertionError: boom; "
            "2 attempts left, cost $0.0100") in lines
    assert ("2026-11-21T19:40:12Z [task] step 3 failed after 2 attempts: TS2339: Property 'x' "
            "not found, cost $0.0050; blocked: 4") in lines
    assert "2026-11-21T19:55:13Z [task] step 5 timed out after 900 s" in lines
    assert "2026-11-21T20:40:00Z [task] run resumed: skipping 1, 2; retrying 3, 5; pending 4" \
        in lines
    assert lines[-1].startswith("2026-11-21T20:41:41Z [task] run finished: completed (5/5 steps")


def test_run_log_pause_is_for_human_review():
    lines = log_lines(paused_run())
    assert lines[-1] == "2026-11-21T19:40:03Z [human review] run paused: cost cap of $1.00 reached"
    assert "2026-11-21T19:40:03Z [task] note: cost cap reached" in lines


@pytest.mark.parametrize("checks, expected", [
    ([{"name": "files", "ok": True, "detail": ""}], "files ok"),
    ([{"name": "file a.py", "ok": True}, {"name": "file b.py", "ok": False, "detail": "empty"}],
     "files 1/2 FAILED (file b.py: empty)"),
    ([{"name": "verify: pytest -q", "ok": False, "detail": "exit status 1"},
      {"name": "blast radius tests/", "ok": True}],
     "verify FAILED (verify: pytest -q: exit status 1), blast radius ok"),
    ([{"name": "lint", "ok": False, "detail": ""}], "lint FAILED"),
])
def test_checks_summary(checks, expected):
    assert checks_summary(checks) == expected


# summary and gantt

BAR = re.compile(r"^    (?P<label>[^:]+) :(?P<tags>[a-z]+), (?P<id>s\d+a\d+), "
                 r"(?P<start>\d+), (?P<end>\d+)$")


def chart_lines(markdown: str) -> list[str]:
    block = re.search(r"```mermaid\n(.*?)```", markdown, re.S)
    assert block, markdown
    return block.group(1).splitlines()


def test_gantt_has_a_bar_for_every_finished_attempt():
    state = replay(full_run())
    lines = chart_lines(summary_markdown(state))
    assert lines[0] == "gantt" and "    dateFormat x" in lines  # milliseconds
    assert "    axisFormat %H:%M:%S" in lines
    bars = [BAR.match(line) for line in lines if " :" in line]
    assert all(bars), lines
    attempts = [entry for step in state.steps.values() for entry in step.history]
    assert len(bars) == len(attempts) == 9
    assert len({bar["id"] for bar in bars}) == 9
    for bar, entry in zip(bars, attempts, strict=True):
        assert int(bar["start"]) == round(entry["started_at"] * 1000)
        assert int(bar["end"]) >= int(bar["start"]) + 1000
        assert bar["tags"] == ("done" if entry["outcome"] == "completed" else "crit")
    labels = [bar["label"] for bar in bars]
    labels += [line.split(" ", 5)[-1] for line in lines
               if line.startswith(("    section ", "    title "))]
    assert len(labels) == 9 + 5 + 1
    assert not [label for label in labels if set(":#;%") & set(label)]
    assert "    section 4 C docs final" in lines


def test_gantt_zero_duration_attempt_gets_one_second():
    state = replay(full_run())
    lines = chart_lines(summary_markdown(state))
    start = int(T + 3601) * 1000
    assert f"    attempt 3 completed :done, s2a3, {start}, {start + 1000}" in lines


def test_gantt_shows_the_running_attempt_as_active():
    state = replay([started(), begin("1", 1)])
    chart = gantt(state, now=T + 5)
    assert f"    attempt 1 running :active, s0a1, {int(T + 1) * 1000}, {int(T + 5) * 1000}" \
        in chart


def test_gantt_labels_drop_mermaid_syntax():
    specs = [dict(SPECS[0], title="Fix: API #3; 50%% <b>")]
    chart = gantt(replay([started(name="a:b", specs=specs), begin("1", 1),
                          end("1", 2, duration=1.0)]))
    assert "    title a b\n" in chart
    assert "    section 1 Fix API 3 50 b\n" in chart


def test_summary_of_a_run_that_has_not_started_any_step():
    text = summary_markdown(replay([started()]))
    assert "No step has run yet." in text and "mermaid" not in text
    assert gantt(replay([started()])) == ""


def test_summary_table_and_totals():
    text = summary_markdown(replay(first_segment()))
    assert text.startswith("# feature: run summary\n\n- Status: failed\n")
    assert "- Steps: 2/5 done (1 failed, 1 timeout, 1 blocked)\n" in text
    assert "| 3 | Frontend | failed | 2 | 1.0 s | $0.0100 | TS2339: Property 'x' not found |" \
        in text
    assert "| 4 | C# docs; #final | blocked | 0 | - | - | dependency 3 failed |" in text
    assert "| 2 | Backend: API | completed | 2 | 2.0 s | $0.0300 |   |" in text


# status

STEP_KEYS = {"id", "title", "status", "attempts", "started_at", "finished_at", "duration_s",
             "error", "cost_usd", "kind"}


def test_status_dict_contract():
    data = status_dict(replay(first_segment()))
    assert set(data) == {"schema", "name", "status", "plan", "created_at", "updated_at",
                         "finished_at", "cost_usd", "counts", "ask", "steps"}
    assert data["schema"] == "orchestrate/status@1"
    assert set(data["counts"]) == set(STEP_STATUSES)
    assert data["counts"]["failed"] == 1 and data["counts"]["blocked"] == 1
    assert data["created_at"] == "2026-11-21T19:40:00Z"
    assert data["finished_at"] == "2026-11-21T19:55:14Z"
    assert data["cost_usd"] == 0.04
    for step in data["steps"]:
        assert set(step) == STEP_KEYS
    blocked = data["steps"][3]
    assert blocked["started_at"] is None and blocked["duration_s"] is None
    assert data["steps"][4]["status"] == "timeout" and data["steps"][4]["duration_s"] == 900.0
    assert json.loads(json.dumps(data)) == data


def test_status_dict_of_a_running_run_has_null_finish():
    data = status_dict(replay([started(), begin("1", 1)]))
    assert data["finished_at"] is None and data["status"] == "running"
    assert data["steps"][0]["started_at"] == "2026-11-21T19:40:01Z"
    assert data["steps"][0]["finished_at"] is None


def test_status_text_columns_and_truncated_error():
    long_error = "E" * 200
    specs = [dict(spec, depends_on=[]) for spec in SPECS]
    state = replay([started(specs=specs), begin("1", 1),
                    end("1", 2, "failed", 1.0, error=long_error), begin("2", 3)])
    text = status_text(state, now=T + 13)
    header, blank, columns, *rows = text.splitlines()
    assert header.startswith("feature  status: running  plan: docs/plan.md  started: "
                             "2026-11-21 19:40:00")
    assert header.endswith("cost: $0.00") and blank == ""
    assert columns.split() == ["ID", "STATUS", "ATTEMPTS", "STARTED", "DURATION", "ERROR"]
    assert rows[0].split()[:5] == ["1", "failed", "1", "19:40:01", "1.0"]
    assert rows[0].split()[-1] == "E" * 57 + "..."
    assert rows[1].split()[:5] == ["2", "running", "1", "19:40:03", "10.0"]
    assert rows[2].split() == ["3", "pending", "0", "-", "-", "-"]


def test_runs_text_and_dict():
    states = [RunInfo.from_state(replay(full_run())), RunInfo.from_state(replay(first_segment()))]
    lines = runs_text(states).splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "STEPS", "PLAN", "UPDATED"]
    assert lines[1].split()[:4] == ["feature", "completed", "5/5", "docs/plan.md"]
    assert lines[2].split()[:3] == ["feature", "failed", "2/5"]
    assert runs_text([]) == "No stored runs.\n"
    data = runs_dict(states)
    assert data["schema"] == "orchestrate/runs@1"
    assert set(data["runs"][0]) == {"name", "status", "plan", "steps_done", "steps_total",
                                    "created_at", "updated_at", "cost_usd"}


@pytest.mark.parametrize("seconds, text", [
    (None, "-"), (0, "0.0 s"), (0.44, "0.4 s"), (59.94, "59.9 s"), (60, "1 min 00 s"),
    (3599, "59 min 59 s"), (3600, "1 h 00 min"), (3725, "1 h 02 min"),
])
def test_durations(seconds, text):
    assert fmt.duration(seconds) == text


IMPOSSIBLE = [1e308, float("inf"), float("-inf"), float("nan"), -1.0, 1e12 * 365 * 86400]


@pytest.mark.parametrize("at", IMPOSSIBLE)
def test_impossible_times_print_as_a_question_mark(at):
    state = replay([started(), begin("1", 1), end("1", 2, "failed", 1.0, error="boom")])
    state.created_at = state.updated_at = at
    state.cost_usd = float("nan")
    step = state.steps["1"]
    step.started_at, step.finished_at, step.duration_s = at, T + 2, None
    info = RunInfo.from_state(state)
    row = runs_text([info]).splitlines()[1].split()
    assert row[:3] == ["feature", "running", "0/5"] and row[-1] == "?"
    header, _, _, first, *_ = status_text(state, now=T + 3).splitlines()
    assert "started: ?  updated: ?  cost: ?" in header
    assert first.split()[:4] == ["1", "failed", "1", "?"]
    for data in (status_dict(state), runs_dict([info])["runs"][0]):
        assert data["created_at"] is None and data["updated_at"] is None
        assert data["cost_usd"] is None
        json.dumps(data, allow_nan=False)  # standard JSON: no NaN, no Infinity
    assert status_dict(state)["steps"][0]["started_at"] is None
    assert (fmt.local_time(at), fmt.clock(at), fmt.iso_utc(at)) == ("?", "?", None)
    assert fmt.same_local_day(at, T) is False


@pytest.mark.parametrize("value, text", [(float("nan"), "?"), (float("inf"), "?"),
                                         (float("-inf"), "?"), (-5, "0.0 s")])
def test_impossible_durations_and_amounts(value, text):
    assert fmt.duration(value) == text
    assert fmt.money(value) == ("?" if text == "?" else "$-5.00")
