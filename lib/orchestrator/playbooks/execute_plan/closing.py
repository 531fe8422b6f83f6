"""How an /execute-plan run ends: a full test run and a lint run, once every phase is
settled, with the commands the project has."""

from __future__ import annotations

__all__ = ["FINAL_LINT", "FINAL_TESTS", "final_phases"]

FINAL_TESTS, FINAL_LINT = "final:tests", "final:lint"


def final_phases(test_command: str | None, lint_command: str | None,
                 after: list[str]) -> list:
    """The full test and lint run that ends an /execute-plan run, after every phase."""
    from orchestrator.plan.model import Phase, Script

    phases = []
    for step_id, title, command in ((FINAL_TESTS, "Final test run", test_command),
                                    (FINAL_LINT, "Final lint run", lint_command)):
        if command:
            phases.append(Phase(id=step_id, title=title, line=0, depends_on=list(after),
                                depends_stated=True,
                                scripts=[Script("run", command + "\n", 0)]))
    return phases
