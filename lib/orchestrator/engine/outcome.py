"""An attempt's outcome, the ``step_finished`` event it becomes, and how a driver is told
what the engine made of it. One definition for both drivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.engine.state import StepState

CONFLICT_ASK = "merge-conflict"  # the question a step's merge conflict puts to the user

__all__ = ["Outcome", "CONFLICT_ASK", "finish_payload", "attempt_result"]


@dataclass(slots=True)
class Outcome:
    outcome: str  # completed | failed | timeout
    error: str | None = None
    checks: list[dict] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)  # last lines of the failing command's output
    permanent: bool = False  # no retry can help
    missing_files: list[str] = field(default_factory=list)
    failed_command: str | None = None
    cost_usd: float = 0.0
    note: str | None = None  # what the agent said about its work: kept, never the verdict
    change: str | None = None  # an isolated step's merged work as a git range, BASE..COMMIT
    kept: str | None = None  # the branch a conflicting attempt's work is kept on

    def details(self) -> dict:
        """What a retry prompt needs to know about this failure."""
        data = {}
        if self.missing_files:
            data["missing_files"] = self.missing_files
        if self.failed_command:
            data["failed_command"] = self.failed_command
        if self.tail:
            data["tail"] = self.tail[-20:]
        return data


def finish_payload(step_id: str, outcome: Outcome, duration_s: float) -> dict:
    """The ``step_finished`` event of an attempt's outcome."""
    payload = {"step": step_id, "outcome": outcome.outcome, "duration_s": round(duration_s, 3)}
    if outcome.error:
        payload["error"] = outcome.error
    if outcome.checks:
        payload["checks"] = outcome.checks
    if outcome.tail:
        payload["tail"] = outcome.tail[-10:]
    if outcome.permanent:
        payload["permanent"] = True
    if outcome.cost_usd:
        payload["cost_usd"] = round(outcome.cost_usd, 6)
    if outcome.note:
        payload["note"] = outcome.note
    if outcome.change:
        payload["change"] = outcome.change
    if outcome.kept:
        payload["kept"] = outcome.kept
    details = outcome.details()
    if details:
        payload["details"] = details
    return payload


def attempt_result(step: StepState, attempt: int) -> dict | None:
    """What became of attempt ``attempt`` of ``step``, read from its history: ``outcome``
    (``completed``, ``retry`` when attempts are left, else ``failed`` or ``timeout``), the
    recorded ``reason`` and ``checks``. None while the attempt has not finished."""
    for index, entry in enumerate(step.history):
        if entry["attempt"] != attempt:
            continue
        if entry["outcome"] == "completed":
            result = "completed"
        elif index < len(step.history) - 1 or step.status in ("pending", "running"):
            result = "retry"
        else:
            result = step.status if step.status in ("failed", "timeout") else "failed"
        return {"outcome": result, "reason": entry.get("error"),
                "checks": entry.get("checks", [])}
    return None
