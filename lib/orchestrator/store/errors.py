"""What can go wrong with a stored run; each error carries the facts it names."""

from __future__ import annotations

from orchestrator.errors import OrchestrateError

__all__ = ["StateCorrupt", "StateChanged", "SchemaMismatch", "RunLocked", "RunNotFound",
           "RunExists", "InvalidRunName"]


class StateCorrupt(OrchestrateError):
    """A journal that cannot be read as a run; the file is left as it was."""

    def __init__(self, path: str, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


class StateChanged(OrchestrateError):
    """The run's journal was deleted, replaced or written by someone else while this
    process held the run; nothing more is written to it.

    ``what`` is "deleted", "replaced" or "appended to"; ``step`` (when known) is the step
    that was running, set with ``during``.
    """

    def __init__(self, path: str, what: str, step: str | None = None):
        self.path = str(path)
        self.what = what
        self.step = step
        super().__init__(self._message())

    def during(self, step: str | None) -> StateChanged:
        """This error, naming ``step`` as the one that was running (if none is named yet)."""
        if step is not None and self.step is None:
            self.step = step
            self.args = (self._message(),)
        return self

    def _message(self) -> str:
        when = f"while step {self.step} was running" if self.step else \
            "while the run was going"
        if self.what == "appended to":
            return (f"the run's journal {self.path} was appended to by another process "
                    f"{when}; stopped without writing to it (is another orchestrate or a "
                    f"step writing to the run's folder?)")
        text = (f"the run's state at {self.path} was {self.what} {when}; stopped without "
                f"writing to it")
        if self.what == "deleted":
            text += (". A step that removes untracked files (such as `git clean -xfd`) "
                     "deletes the run's state: keep it out (`git clean -e .claude`) or set "
                     "ORCHESTRATE_STATE_DIR outside the project, then start the run again")
        return text


class SchemaMismatch(OrchestrateError):
    """A file written by a newer orchestrate, which this one must not rewrite."""

    def __init__(self, path: str, found: int, supported: int):
        self.path = str(path)
        self.found = found
        self.supported = supported
        super().__init__(f"{self.path}: written by a newer orchestrate (schema {found}, this "
                         f"version reads {supported}); file left untouched")


class RunLocked(OrchestrateError):
    """Another process holds the run; ``pid`` is None when it could not be read."""

    def __init__(self, name: str, pid: int | None, host: str | None = None):
        self.name = name
        self.pid = pid
        self.host = host
        holder = "pid unknown" if pid is None else f"pid {pid}"
        if host:
            holder += f" on {host}"
        super().__init__(f"run {name} is in use by another orchestrate process ({holder}); "
                         f"wait for it or stop it")


class RunNotFound(OrchestrateError):
    """No stored run has this name; ``known`` lists the ones that exist."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        if not known:
            tail = "no runs are stored yet"
        elif len(known) <= 20:
            tail = "known runs: " + ", ".join(known)
        else:
            tail = "known runs: " + ", ".join(known[:20]) + f", and {len(known) - 20} more"
        super().__init__(f"no run named {name}; {tail}")


class RunExists(OrchestrateError):
    """A new run would overwrite a stored one."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"run {name} already exists; resume it with --resume {name} or "
                         f"start over with --fresh")


class InvalidRunName(OrchestrateError):
    """A run name that is not one safe path component."""

    def __init__(self, name: str, suggestion: str):
        self.name = name
        self.suggestion = suggestion
        super().__init__(f"{name!r} is not a valid run name (lowercase letters, digits, '.', "
                         f"'_' and '-'; for example {suggestion!r})")
