"""What ``orchestrate status`` and ``orchestrate runs`` print: text tables and JSON dicts."""

from __future__ import annotations

import math

from orchestrator import fmt
from orchestrator.engine.state import RunState
from orchestrator.render.run_facts import step_duration

__all__ = ["STATUS_SCHEMA", "RUNS_SCHEMA", "runs_dict", "runs_text", "status_dict",
           "status_text", "open_question_text", "how_to_go_on"]

STATUS_SCHEMA = "orchestrate/status@1"
RUNS_SCHEMA = "orchestrate/runs@1"
ERROR_WIDTH = 60


def status_text(state: RunState, now: float | None = None) -> str:
    """A header line about the run, then one row per step.

    A running step's duration counts up to ``now`` when given.
    """
    header = (f"{state.name}  status: {state.status}  plan: {state.plan_path}  "
              f"started: {fmt.local_time(state.created_at)}  "
              f"updated: {fmt.local_time(state.updated_at)}  cost: {fmt.money(state.cost_usd)}")
    rows = []
    for step in state.steps.values():
        same_day = fmt.same_local_day(step.started_at, state.created_at)
        started = fmt.local_time(step.started_at, with_date=not same_day)
        if step.status == "running" and step.started_at is not None:
            took = fmt.duration(now - step.started_at) if now is not None else "-"
        else:
            took = fmt.duration(step_duration(step)) if step.finished_at is not None else "-"
        error = fmt.first_line(step.error, ERROR_WIDTH) or "-"
        rows.append([step.id, step.status, str(step.attempts), started, took, error])
    table = fmt.table(["ID", "STATUS", "ATTEMPTS", "STARTED", "DURATION", "ERROR"], rows)
    return header + "\n\n" + table


def open_question_text(state: RunState) -> str:
    """The run's open question and the commands that answer it and go on ("" if none),
    in the run's own driver. A task's review is answered with `orchestrate task`, which its
    own output names."""
    from orchestrator.engine.lifecycle import HUMAN_ASK

    ask = state.ask
    if ask is None:
        return ""
    question = fmt.truncate(" ".join(fmt.clean(str(ask["question"])).split()), 1000)
    lines = [f"waiting for an answer to {ask['id']}: {question}"]
    if ask["id"] != HUMAN_ASK:
        lines.append("answer with one of:")
        lines += [f"  orchestrate wf answer {state.name} {ask['id']} {option['id']}"
                  f"{' --note TEXT' if option['id'] == 'guidance' else ''}"
                  f"    ({fmt.truncate(fmt.clean(str(option.get('label', ''))), 100)})"
                  for option in ask["options"][:10]]
        headless = f"orchestrate run --resume {state.name}"
        lines.append(f"then continue where the run is driven (a Claude Code session asks "
                     f"`orchestrate wf next {state.name}`), or headless: {headless}"
                     if state.driver == "wf" else f"then continue with: {headless}")
    return "".join(line + "\n" for line in lines)


def how_to_go_on(state: RunState) -> str:
    """What a person does next with a run that stopped short: answer its open question, or
    resume it ("" for a run that needs neither)."""
    question = open_question_text(state)
    if question:
        return question
    if state.status in ("interrupted", "failed", "awaiting_human"):
        return f"continue with: orchestrate run --resume {state.name}\n"
    return ""


def runs_text(runs: list) -> str:
    """One row per stored run (``store.RunInfo``), in the order given."""
    if not runs:
        return "No stored runs.\n"
    rows = [[info.name, info.status, f"{info.steps_done}/{info.steps_total}",
             info.plan_path, fmt.local_time(info.updated_at)] for info in runs]
    return fmt.table(["NAME", "STATUS", "STEPS", "PLAN", "UPDATED"], rows)


def status_dict(state: RunState) -> dict:
    """The ``orchestrate status --json`` object (schema ``orchestrate/status@1``)."""
    return {
        "schema": STATUS_SCHEMA,
        "name": state.name,
        "status": state.status,
        "plan": state.plan_path,
        "created_at": fmt.iso_utc(state.created_at),
        "updated_at": fmt.iso_utc(state.updated_at),
        "finished_at": fmt.iso_utc(state.finished_at),
        "cost_usd": _rounded(state.cost_usd, 6),
        "counts": state.counts(),
        "ask": None if state.ask is None else {
            "id": state.ask["id"], "question": state.ask["question"],
            "options": [{"id": o["id"], "label": o.get("label")} for o in state.ask["options"]]},
        "steps": [{
            "id": step.id,
            "title": step.title,
            "status": step.status,
            "attempts": step.attempts,
            "started_at": fmt.iso_utc(step.started_at),
            "finished_at": fmt.iso_utc(step.finished_at),
            "duration_s": (None if step.finished_at is None
                           else _rounded(step_duration(step))),
            "error": step.error,
            "cost_usd": _rounded(step.cost_usd, 6),
            "kind": step.kind,
        } for step in state.steps.values()],
    }


def runs_dict(runs: list) -> dict:
    """The ``orchestrate runs --json`` object (schema ``orchestrate/runs@1``)."""
    return {
        "schema": RUNS_SCHEMA,
        "runs": [{
            "name": info.name,
            "status": info.status,
            "plan": info.plan_path,
            "steps_done": info.steps_done,
            "steps_total": info.steps_total,
            "created_at": fmt.iso_utc(info.created_at),
            "updated_at": fmt.iso_utc(info.updated_at),
            "cost_usd": _rounded(info.cost_usd, 6),
        } for info in runs],
    }


def _rounded(value: float | None, digits: int = 3) -> float | None:
    """``value`` rounded; None for none, NaN or infinity (JSON has no such number)."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)
