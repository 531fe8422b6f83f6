"""The run log: one line per fact, easy to grep, with a UTC timestamp and a category.

    2026-11-21T19:40:01Z [task] step 2 started (attempt 1)
    2026-11-21T19:40:03Z [retry] step 2 attempt 1 failed: exit 1; 2 attempts left

Categories: ``task``, ``retry``, ``quality gate``, ``human review``. As for the debug log, the
state passed in is the one AFTER the event was applied.
"""

from __future__ import annotations

from orchestrator import fmt
from orchestrator.engine.state import RunState
from orchestrator.render.run_facts import (
    attempt_number,
    blocked_by,
    checks_summary,
    done_count,
    finish_kind,
    step_duration,
    timeout_limit,
)

__all__ = ["CATEGORIES", "checks_summary", "run_log_lines"]

CATEGORIES = ("task", "retry", "quality gate", "human review")


def run_log_lines(event: dict, state: RunState) -> list[str]:
    at = fmt.iso_utc(event.get("at", state.updated_at))
    return [f"{at} [{category}] {text}" for category, text in _facts(event, state)]


def _facts(event: dict, state: RunState) -> list[tuple[str, str]]:
    kind = event.get("type")
    if kind == "run_started":
        count = len(state.steps)
        return [("task", f"run {state.name} started: {count} step{'s' * (count != 1)}, "
                         f"plan {state.plan_path}")]
    if kind == "step_started":
        step = state.steps[event["step"]]
        return [("task", f"step {step.id} started (attempt {attempt_number(step)})")]
    if kind == "step_finished":
        return _finished(event, state)
    if kind == "run_resumed":
        parts = [f"{verb} {', '.join(map(str, event[key]))}"
                 for key, verb in (("skipped", "skipping"), ("retried", "retrying"),
                                   ("changed", "changed"), ("pending", "pending"))
                 if event.get(key)]
        return [("task", "run resumed" + (": " + "; ".join(parts) if parts else ""))]
    if kind == "run_interrupted":
        reason = fmt.first_line(event.get("reason"))
        return [("task", "run interrupted" + (f": {reason}" if reason else ""))]
    if kind == "run_finished":
        return [_run_finished(event, state)]
    if kind == "note":
        return [("task", f"note: {fmt.first_line(event.get('text'), 500)}")]
    return []


def _finished(event: dict, state: RunState) -> list[tuple[str, str]]:
    step = state.steps[event["step"]]
    number = attempt_number(step)
    result = finish_kind(event, step)
    error = fmt.first_line(event.get("error") or step.error)
    facts = []
    if event.get("checks"):
        facts.append(("quality gate", f"step {step.id} checks: {checks_summary(event['checks'])}"))
    cost = f", cost {fmt.money(event['cost_usd'])}" if event.get("cost_usd") else ""
    limit = timeout_limit(step, event)
    if result == "completed":
        took = fmt.duration(step_duration(step, event))
        facts.append(("task", f"step {step.id} completed in {took}{cost}"))
    elif result == "retrying":
        left = step.attempts_left
        what = f"timed out after {limit}" if event["outcome"] == "timeout" else f"failed: {error}"
        facts.append(("retry", f"step {step.id} attempt {number} {what}; "
                               f"{left} attempt{'s' * (left != 1)} left{cost}"))
    else:
        what = (f"timed out after {limit}" if result == "timeout"
                else f"failed after {number} attempt{'s' * (number != 1)}: {error}")
        blocked = blocked_by(state, step.id)
        tail = f"; blocked: {', '.join(blocked)}" if blocked else ""
        facts.append(("task", f"step {step.id} {what}{cost}{tail}"))
    return facts


def _run_finished(event: dict, state: RunState) -> tuple[str, str]:
    status = event.get("status", state.status)
    if status == "awaiting_human":
        waiting = [s.id for s in state.steps.values() if s.status == "awaiting_human"]
        reason = event.get("reason") or (
            f"steps {', '.join(waiting)} await a decision" if waiting
            else "steps held back")
        return ("human review", f"run paused: {fmt.first_line(reason)}")
    counts = state.counts()
    parts = [f"{done_count(state)}/{len(state.steps)} steps done"]
    parts += [f"{counts[key]} {label}" for key, label in (
        ("failed", "failed"), ("timeout", "timed out"), ("blocked", "blocked")) if counts[key]]
    if state.cost_usd > 0:
        parts.append(f"cost {fmt.money(state.cost_usd)}")
    return ("task", f"run finished: {status} ({', '.join(parts)})")
