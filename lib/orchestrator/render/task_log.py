"""ORCHESTRATOR_RUN_LOG.md: every task's decisions, rendered from the tasks' journals.

Entries by category (task, routing, llm_call, quality_gate, retry, human_review), each with
an ISO-8601 time to the millisecond, then a summary of the whole run. Rendered from the
journals, never appended to: after a crash and a resume it holds every entry once.
"""

from __future__ import annotations

import time

from orchestrator import fmt
from orchestrator.engine.lifecycle import ROLE_OF

__all__ = ["CATEGORIES", "iso_ms", "log_entries", "render_run_log"]

CATEGORIES = ("task", "routing", "llm_call", "quality_gate", "retry", "human_review")
_MARK = {"ok": "✅", "bad": "❌", "info": "ℹ️", "warn": "⚠️", "human": "🔍"}


def iso_ms(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def _one_line(text: str, limit: int = 1000) -> str:
    """An entry as one Markdown line: no control characters, no line breaks of its own."""
    return fmt.truncate(" ".join(fmt.clean(text).split()), limit)


def log_entries(task: dict, events: list[dict]) -> list[tuple[float, str, str, str]]:
    """(time, mark, category, text) for one task's journal ``events``; ``task``: its view
    (id, goal, state, cost_usd)."""
    tid = task["id"]
    entries = []
    models: dict[str, str | None] = {}
    owners: dict[str, str | None] = {}
    rejections = {"plan": 0}
    for event in events:
        kind, at = event.get("type"), float(event.get("at", 0.0))
        if kind in ("run_started", "steps_added"):
            for spec in event.get("steps", []):
                owners[spec["id"]] = spec.get("owner")
            if kind == "run_started":
                entries.append((at, "info", "task", f"Task {tid} started: {task['goal']}"))
        elif kind == "routed":
            models[event["role"]] = event.get("model")
            model = event.get("model") or "the default model"
            entries.append((at, "info", "routing", f"routing [{event['role']}] → {model}: "
                                                   f"{event['reason']} (task={tid})"))
        elif kind == "step_finished":
            step = event["step"]
            outcome = event.get("outcome")
            ok = outcome == "completed"
            took = f"{float(event.get('duration_s', 0.0)):.1f}s"
            if step.startswith("gate:"):
                what = step.split(":")[1]
                entries.append((at, "ok" if ok else "bad", "quality_gate",
                                f"Quality gate {what} {'✅ passed' if ok else '❌ FAILED'}: "
                                f"check {step.split(':')[2]} (task={tid}, {took})"
                                + ("" if ok else f" - {event.get('error') or outcome}")))
            elif owners.get(step):
                role = ROLE_OF.get(owners[step], owners[step])
                cost = float(event.get("cost_usd", 0.0))
                entries.append((at, "ok" if ok else "bad", "llm_call",
                                f"{'✅' if ok else '❌'} LLM call [{role}] "
                                f"{models.get(role) or 'default'} for {step} "
                                f"(cost={fmt.money(cost)}, {took}, task={tid})"))
        elif kind == "lifecycle":
            state, reason = event["state"], event.get("reason")
            concerns = "; ".join(event.get("concerns") or []) or reason or "no reason given"
            if state == "PLAN_REJECTED":
                rejections["plan"] += 1
                entries.append((at, "warn", "retry",
                                f"⚠️ Plan of {tid} rejected ({rejections['plan']}/3): {concerns}"))
            elif state == "CHANGES_REQUESTED":
                key = event["subject"]
                rejections[key] = rejections.get(key, 0) + 1
                entries.append((at, "warn", "retry",
                                f"⚠️ Phase {key} of {tid} rejected ({rejections[key]}/3): "
                                f"{concerns}"))
            elif state == "PLANNING" and rejections["plan"]:
                entries.append((at, "warn", "retry", f"⚠️ Retry attempt {rejections['plan'] + 1}"
                                                     f"/3 for the plan of {tid}"))
            elif state == "IMPLEMENTING" and reason and event["subject"] == "task":
                entries.append((at, "warn", "retry", f"⚠️ Quality gate of {tid} failed, a fix "
                                                     f"round follows: {reason}"))
            elif state == "AWAITING_HUMAN" and event["subject"] == "task":
                entries.append((at, "human", "human_review",
                                f"🔍 Task {tid} needs human review: {reason}; concerns: "
                                f"{'; '.join(event.get('concerns') or []) or 'none'}"))
            elif state in ("DONE", "FAILED") and event["subject"] == "task":
                entries.append((at, "ok" if state == "DONE" else "bad", "task",
                                f"{'✅' if state == 'DONE' else '❌'} Task {tid} completed: "
                                f"{state.lower()}" + (f" ({reason})" if reason else "")))
        elif kind == "ask_answered" and event.get("id") == "human-review":
            choice = "approved" if event.get("choice") == "approve" else "rejected"
            said = f": {event['text']}" if event.get("text") else ""
            entries.append((at, "human", "human_review",
                            f"🔍 Task {tid} {choice} by a person{said}"))
    return entries


def render_run_log(tasks: list[tuple[dict, list[dict]]]) -> str:
    """The whole log: ``tasks`` is (view, journal events) per task."""
    entries = []
    for task, events in tasks:
        entries += log_entries(task, events)
    entries.sort(key=lambda entry: entry[0])
    times = [float(e["at"]) for _, events in tasks for e in events if "at" in e]
    start, end = (min(times), max(times)) if times else (time.time(), time.time())
    states = [shown["state"] for shown, _ in tasks]
    cost = sum(float(shown["cost_usd"]) for shown, _ in tasks)
    lines = ["# Orchestrator run log", "", f"## Run: {iso_ms(start)[:19]}", "",
             f"**Started**: {iso_ms(start)}", "",
             f"**Tasks**: {', '.join(task['id'] for task, _ in tasks) or 'none'}", "",
             "### Execution Log", ""]
    lines += [f"- `{iso_ms(at)}` {_MARK[mark]} **{category}**: {_one_line(text)}"
              for at, mark, category, text in entries]
    lines += ["", "### Run Summary", "", f"**Ended**: {iso_ms(end)}", "",
              f"**Total Duration**: {end - start:.1f}s", f"**Total Cost**: {fmt.money(cost)}",
              f"**Tasks Completed**: {states.count('DONE')}",
              f"**Tasks Failed**: {states.count('FAILED')}",
              f"**Tasks Needing Review**: {states.count('AWAITING_HUMAN')}", "",
              "| Task | State | Cost |", "|---|---|---|"]
    lines += [f"| {shown['id']} | {shown['state']} | {fmt.money(float(shown['cost_usd']))} |"
              for shown, _ in tasks]
    return "\n".join(lines + [""])
