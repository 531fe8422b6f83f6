"""A run's Markdown summary: status, a table of steps and a Mermaid gantt of its attempts."""

from __future__ import annotations

import re

from orchestrator import fmt
from orchestrator.engine.state import RunState
from orchestrator.render.run_facts import done_count, step_duration

__all__ = ["gantt", "summary_markdown"]

_LABEL_UNSAFE = re.compile(r"[:#;%`\"<>{}\[\]\\|]")
_TAGS = {"completed": "done", "failed": "crit", "timeout": "crit"}


ISOLATION_NOTE = "isolation: "  # the journal notes of executors/isolation.py


def summary_markdown(state: RunState, now: float | None = None) -> str:
    """The whole summary; ``now`` ends the bar of a running attempt (default: last event)."""
    end = state.finished_at if state.finished_at is not None else state.updated_at
    counts = state.counts()
    others = ", ".join(f"{counts[key]} {key.replace('_', ' ')}" for key in
                       ("failed", "timeout", "blocked", "running", "awaiting_human")
                       if counts[key])
    lines = [f"# {state.name}: run summary", "",
             f"- Status: {state.status}",
             f"- Plan: `{state.plan_path}`",
             f"- Started: {fmt.local_time(state.created_at)}",
             f"- Finished: {fmt.local_time(state.finished_at)}",
             f"- Total time: {fmt.duration(end - state.created_at)}",
             f"- Steps: {done_count(state)}/{len(state.steps)} done"
             + (f" ({others})" if others else "")]
    if state.cost_usd > 0:
        lines.append(f"- Cost: {fmt.money(state.cost_usd)}")
    lines += ["", "## Steps", "",
              "| Step | Title | Status | Attempts | Duration | Cost | Error |",
              "|---|---|---|---:|---:|---:|---|"]
    for step in state.steps.values():
        cells = [step.id, step.title, step.status, str(step.attempts),
                 fmt.duration(step_duration(step)) if step.finished_at is not None else "-",
                 fmt.money(step.cost_usd) if step.cost_usd else "-",
                 fmt.first_line(step.error, 80)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    merged = [note[len(ISOLATION_NOTE):] for note in state.notes
              if note.startswith(ISOLATION_NOTE)]
    if merged:  # an isolated run: what each step was merged with and credited for
        lines += ["", "## Worktrees", ""] + [f"- {fmt.first_line(note, 300)}"
                                             for note in merged[-50:]]
    chart = gantt(state, now)
    lines += ["", "## Timeline", ""]
    lines += ["```mermaid", chart.rstrip("\n"), "```"] if chart else ["No step has run yet."]
    return "\n".join(lines) + "\n"


def gantt(state: RunState, now: float | None = None) -> str:
    """A Mermaid gantt chart with one bar per attempt, or "" when nothing has run.

    Times are unix milliseconds (``dateFormat x``): Mermaid 11 and later read a whole-number
    start under ``dateFormat X`` as milliseconds, so seconds would misplace every bar.
    Every bar lasts at least one second.
    """
    sections = []
    for index, step in enumerate(state.steps.values()):
        bars = []
        for entry in step.history:
            if entry.get("started_at") is None or entry.get("finished_at") is None:
                continue
            tag = _TAGS.get(entry.get("outcome"), "crit")
            name = f"attempt {entry['attempt']} {entry.get('outcome', '')}".strip()
            bars.append(_bar(name, tag, f"s{index}a{entry['attempt']}",
                             entry["started_at"], entry["finished_at"]))
        if step.status == "running" and step.started_at is not None:
            until = max(now if now is not None else state.updated_at, step.started_at)
            bars.append(_bar(f"attempt {step.attempts} running", "active",
                             f"s{index}a{step.attempts}", step.started_at, until))
        if bars:
            title = f"{step.id} {step.title}".strip()
            sections.append(f"    section {_label(title)}")
            sections.extend(bars)
    if not sections:
        return ""
    head = ["gantt", f"    title {_label(state.name)}", "    dateFormat x",
            "    axisFormat %H:%M:%S", "    todayMarker off"]
    return "\n".join(head + sections) + "\n"


def _bar(name: str, tag: str, ident: str, start: float, end: float) -> str:
    first = round(start * 1000)
    last = max(round(end * 1000), first + 1000)
    return f"    {_label(name)} :{tag}, {ident}, {first}, {last}"


def _label(text: str) -> str:
    """Text safe for a gantt task or section name: no ``:``, ``#``, ``;``, ``%`` or markup."""
    cleaned = _LABEL_UNSAFE.sub(" ", fmt.clean(text).replace("\n", " "))
    return " ".join(cleaned.split())[:60] or "-"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "
