"""The summary of an `/orchestrate` run and its pull request body: pure text from the run's
state, its workflow facts and the artifacts found in its topic folder."""

from __future__ import annotations

import re

from orchestrator import fmt
from orchestrator.engine.state import RunState
from orchestrator.render.run_facts import step_duration
from orchestrator.render.summary import gantt

__all__ = ["workflow_summary", "pr_body", "test_counts", "cross_references",
           "CROSS_REFERENCES"]

CROSS_REFERENCES = "## Cross-references"
_COUNTS = re.compile(r"(\d+) passed(?:, (\d+) failed)?|(\d+) failed(?:, (\d+) passed)?")


def test_counts(output: str) -> tuple[int, int] | None:
    """(passed, failed) from a test runner's last summary line, when it has one."""
    found = None
    for match in _COUNTS.finditer(output[-20000:]):
        if match.group(1):
            found = (int(match.group(1)), int(match.group(2) or 0))
        else:
            found = (int(match.group(4) or 0), int(match.group(3)))
    return found


def _link(root_relative: str, here: str) -> str:
    return f"[{root_relative}]({root_relative})" if not here else f"`{root_relative}`"


def workflow_summary(state: RunState, wf, artifacts: dict[str, list[str]],
                     tests: list[dict]) -> str:
    """The Markdown of summaries/NNN_workflow_summary.md.

    ``artifacts``: kind -> paths relative to the project root; ``tests``: one entry per
    test run, ``{"step", "status", "output", "counts"}``.
    """
    end = state.finished_at if state.finished_at is not None else state.updated_at
    lines = [f"# Workflow summary: {fmt.first_line(wf.description, 120)}", "",
             "## Metadata", "",
             f"- Run: `{state.name}`",
             f"- Workflow type: {wf.workflow_type}",
             f"- Complexity: {wf.complexity}"
             + (f" ({wf.complexity_band})" if wf.complexity_band else "")
             + (f" (thinking mode: {wf.thinking_mode})" if wf.thinking_mode else ""),
             f"- Topic folder: `{wf.topic_dir}`",
             f"- Started: {fmt.local_time(state.created_at)}",
             f"- Duration so far: {fmt.duration(end - state.created_at)}",
             f"- Cost: {fmt.money(state.cost_usd)}", "",
             "## Phases", "", "| Step | Title | Status | Attempts | Duration |",
             "|---|---|---|---:|---:|"]
    for step in state.steps.values():
        took = fmt.duration(step_duration(step)) if step.finished_at is not None else "-"
        lines.append(f"| {step.id} | {fmt.truncate(step.title, 60)} | {step.status} | "
                     f"{step.attempts} | {took} |")
    lines += ["", "## Artifacts", ""]
    for kind in ("reports", "plans", "debug", "outputs"):
        for path in artifacts.get(kind, []):
            lines.append(f"- {kind}: [{path}](../../../{path})")
    if not any(artifacts.values()):
        lines.append("- none")
    lines += ["", "## Test results", ""]
    if not tests:
        lines.append("- no test run" + ("" if wf.test_command else
                                        " (no test command configured or detected)"))
    for run in tests:
        counts = run.get("counts")
        said = f", {counts[0]} passed, {counts[1]} failed" if counts else ""
        lines.append(f"- {run['step']}: {run['status']}{said} (output: `{run['output']}`)")
    rounds = [step for step in state.steps.values() if step.id.startswith("debug:")]
    lines += ["", "## Debug history", ""]
    lines += [f"- round {step.id.split(':', 1)[1]}: {step.status}" for step in rounds] or \
        ["- no debug round was needed"]
    chart = gantt(state, now=end).rstrip("\n")
    lines += ["", "## Timeline", ""]
    lines += ["```mermaid", chart, "```"] if chart else ["No step has run yet."]
    lines += ["", CROSS_REFERENCES, "", f"- Plan: [{wf.plan_path}](../../../{wf.plan_path})"]
    lines += [f"- Report: [{path}](../../../{path})" for path in artifacts.get("reports", [])]
    return "\n".join(lines) + "\n"


def pr_body(state: RunState, wf, summary_path: str, tests: list[dict]) -> str:
    passed = next((run for run in reversed(tests)), None)
    status = passed["status"] if passed else "not run"
    return "\n".join([
        f"{fmt.first_line(wf.description, 300)}", "",
        f"- Plan: `{wf.plan_path}`",
        f"- Summary: `{summary_path}`",
        f"- Tests: {status}",
        f"- Steps: {sum(s.status == 'completed' for s in state.steps.values())} of "
        f"{len(state.steps)} completed", "",
        "Made with orchestrate: every phase was checked on its evidence on disk."]) + "\n"


def cross_references(summary_path: str, plan_path: str) -> str:
    """The section appended to the plan and the reports, once."""
    return (f"\n{CROSS_REFERENCES}\n\n- Workflow summary: `{summary_path}`\n"
            f"- Plan: `{plan_path}`\n")
