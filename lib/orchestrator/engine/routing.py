"""Model routing: which model does a role's work on a task, from the task's risk and area.

Rules are read in order and the first that matches wins; a rule names any of ``role``,
``risk`` and ``area`` (a missing one, or ``*``, matches anything) and the ``model``, with
a ``reason`` for the record. No rule matching: the default. Pure: the config supplies the
rules, the tasks playbook journals every decision.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Route", "Rule", "route", "RULE_KEYS"]

RULE_KEYS = ("role", "risk", "area", "model", "reason")


@dataclass(frozen=True, slots=True)
class Rule:
    model: str
    role: str = "*"
    risk: str = "*"
    area: str = "*"
    reason: str | None = None

    def matches(self, role: str, risk: str, area: str) -> bool:
        return all(want in ("*", have) for want, have in
                   ((self.role, role), (self.risk, risk), (self.area, area)))

    def because(self) -> str:
        if self.reason:
            return self.reason
        said = [f"{name} {value}" for name, value in
                (("role", self.role), ("risk", self.risk), ("area", self.area)) if value != "*"]
        return "rule: " + (", ".join(said) or "any task")


@dataclass(frozen=True, slots=True)
class Route:
    role: str
    model: str | None  # None: the agent definition's model, or Claude Code's own default
    reason: str

    def line(self) -> str:
        return f"routing [{self.role}] → {self.model or 'the default model'}: {self.reason}"


def route(rules: list[Rule], role: str, risk: str, area: str,
          default: str | None = None) -> Route:
    """The model for ``role`` on a task of ``risk`` and ``area``: the first rule that
    matches, else ``default``."""
    for rule in rules:
        if rule.matches(role, risk, area):
            return Route(role, rule.model, rule.because())
    return Route(role, default, "default: no rule matches "
                                f"{role}, {risk} risk, area {area}")
