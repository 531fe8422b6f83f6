"""Facts the run renderings share, read from a RunState (after the event was applied).

Attempt numbers shown to people count within the current segment (since the latest resume),
because that is what ``max_attempts`` limits; ``StepState.attempts`` counts the whole run.
"""

from __future__ import annotations

from orchestrator import fmt
from orchestrator.engine.state import DONE_STATUSES, RunState, StepState

__all__ = [
    "attempt_number",
    "blocked_by",
    "checks_summary",
    "done_count",
    "finish_kind",
    "in_flight",
    "retries",
    "step_duration",
    "step_label",
]


def attempt_number(step: StepState) -> int:
    """The latest attempt's number within the current segment (0 before any)."""
    return step.attempts - step.attempts_base


def step_label(step: StepState) -> str:
    return f"Step {step.id}: {step.title}" if step.title else f"Step {step.id}"


def timeout_limit(step: StepState, event: dict | None = None) -> str:
    """What a timed-out step ran up against: its timeout, else how long it ran."""
    if step.timeout_s:
        return fmt.seconds(step.timeout_s)
    return fmt.duration(step_duration(step, event))


def step_duration(step: StepState, event: dict | None = None) -> float | None:
    """How long the latest attempt took: the event's figure, else the recorded times."""
    if event is not None and event.get("duration_s") is not None:
        return event["duration_s"]
    if step.duration_s is not None:
        return step.duration_s
    if step.started_at is not None and step.finished_at is not None:
        return step.finished_at - step.started_at
    return None


def finish_kind(event: dict, step: StepState) -> str:
    """``completed``, ``retrying`` (a failed attempt with attempts left), ``failed`` or
    ``timeout``, for a ``step_finished`` event and the step it has already been applied to."""
    outcome = event["outcome"]
    if outcome == "completed":
        return "completed"
    if step.status == "pending":
        return "retrying"
    return outcome


def blocked_by(state: RunState, step_id: str) -> list[str]:
    """Blocked steps that (transitively) depend on ``step_id``, in plan order."""
    found: set[str] = set()
    frontier = [step_id]
    while frontier:
        current = frontier.pop()
        for step in state.steps.values():
            if step.status == "blocked" and current in step.depends_on and step.id not in found:
                found.add(step.id)
                frontier.append(step.id)
    return [step_id for step_id in state.steps if step_id in found]


def in_flight(state: RunState) -> list[str]:
    """After ``run_interrupted``: the steps that had started and not finished."""
    return [step.id for step in state.steps.values()
            if step.status == "pending" and step.started_at is not None
            and step.finished_at is None]


def retries(state: RunState) -> list[tuple[str, int]]:
    """Steps that ran more than once, with the number of extra attempts."""
    return [(step.id, step.attempts - 1) for step in state.steps.values() if step.attempts > 1]


def done_count(state: RunState) -> int:
    return sum(step.status in DONE_STATUSES for step in state.steps.values())


_CHECK_GROUPS = (("file", "files"), ("dependency", "dependencies"), ("verify", "verify"),
                 ("blast radius", "blast radius"))


def _check_group(name: str) -> str:
    for prefix, label in _CHECK_GROUPS:
        if name == prefix or name.startswith((prefix + " ", prefix + ":")):
            return label
    return name


def checks_summary(checks: list[dict]) -> str:
    """``files ok, verify 1/2 FAILED (verify: pytest: exit status 1)``.

    Checks are grouped by kind (``file src/a.py`` counts under ``files``), in order.
    """
    groups: dict[str, list[dict]] = {}
    for check in checks:
        groups.setdefault(_check_group(str(check.get("name", "check"))), []).append(check)
    parts = []
    for label, group in groups.items():
        passed = sum(bool(check.get("ok")) for check in group)
        verdict = "ok" if passed == len(group) else "FAILED"
        count = f" {passed}/{len(group)}" if len(group) > 1 else ""
        details = []
        for check in group:
            name, detail = str(check.get("name", "")), fmt.first_line(check.get("detail"), 80)
            if name != label:
                detail = f"{name}: {detail}" if detail else name
            if not check.get("ok") and detail:
                details.append(detail)
        why = f" ({'; '.join(details)})" if details else ""
        parts.append(f"{label}{count} {verdict}{why}")
    return ", ".join(parts)
