"""The project's exceptions: one base type, caught once at the CLI entry point."""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_BAD_INPUT",
    "EXIT_PAUSED",
    "EXIT_INTERRUPTED",
    "OrchestrateError",
    "UsageError",
    "PlanError",
    "PlanInvalid",
    "Diagnostic",
]

# The one table of exit codes (DESIGN section 4).
EXIT_OK = 0  # everything completed
EXIT_FAILED = 1  # the run ended with failed or timed-out steps
EXIT_BAD_INPUT = 2  # bad usage or input: an invalid plan, corrupt state, a locked run
EXIT_PAUSED = 3  # paused for a human decision
EXIT_INTERRUPTED = 130  # interrupted; the state is saved and resumable


class OrchestrateError(Exception):
    """Base of every error the project raises on purpose.

    ``exit_code`` is what the CLI exits with; the message is shown without a traceback.
    """

    exit_code = EXIT_BAD_INPUT


class UsageError(OrchestrateError):
    """Arguments that do not fit together (argparse checks each one alone)."""


class Diagnostic:
    """One finding about a plan, anchored to a file and line.

    ``line`` is 1-based; 0 means the file as a whole (it is missing, unreadable, ...).
    """

    __slots__ = ("path", "line", "message", "severity")

    def __init__(self, path: str, line: int, message: str, severity: str = "error"):
        self.path = path
        self.line = line
        self.message = message
        self.severity = severity  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"

    def __repr__(self) -> str:
        return f"Diagnostic({self.path!r}, {self.line}, {self.message!r}, {self.severity!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagnostic) and (
            self.path,
            self.line,
            self.message,
            self.severity,
        ) == (other.path, other.line, other.message, other.severity)

    def to_dict(self) -> dict:
        return {"line": self.line, "message": self.message, "severity": self.severity}


class PlanError(OrchestrateError):
    """A single problem with a plan file, carrying its location."""

    def __init__(self, path: str, line: int, message: str):
        self.diagnostic = Diagnostic(path, line, message)
        super().__init__(str(self.diagnostic))


class PlanInvalid(OrchestrateError):
    """A plan that was read but failed validation; carries every error found."""

    def __init__(self, diagnostics: list[Diagnostic], plan=None):
        self.diagnostics = diagnostics
        self.plan = plan
        super().__init__("\n".join(str(d) for d in self.errors))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]
