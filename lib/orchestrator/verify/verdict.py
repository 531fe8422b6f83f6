"""The verdict on an attempt: from what changed on disk and the results of its checks to
an outcome. One pure function, asked by both drivers; what an agent says is never in it.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.engine.outcome import Outcome
from orchestrator.verify.checks import CheckResult
from orchestrator.verify.snapshot import Changes

__all__ = ["verdict", "NO_CHANGE"]

NO_CHANGE = "no changes on disk: the agent reported success but the working tree did not change"


def verdict(*, phase_type: str, changes: Changes | None,
            results: list[CheckResult], others_files: Iterable[str] = ()) -> Outcome:
    """``completed`` when the evidence holds, else ``failed`` with the first reason.

    - ``changes`` (None: not asked, as for shell steps): an implementation step must change
      the tree, and changes only under other running agents' files do not count;
    - ``results``: the file and dependency checks done in-process, then the commands, in
      the order they ran; the first failing one decides the error.
    """
    checks = [result.to_dict() for result in results]
    missing = [r.name.removeprefix("file ") for r in results
               if not r.ok and r.name.startswith("file ") and r.detail == "missing"]
    if changes is not None and phase_type != "design":
        theirs = set(changes.touching(list(others_files)))
        if changes.complete and not [path for path in changes.changed if path not in theirs]:
            message = NO_CHANGE + ("; missing: " + ", ".join(missing) if missing else "")
            return Outcome("failed", message, checks, missing_files=missing)
    in_process = [r for r in results if not r.ok and r.command is None]
    if in_process:
        return Outcome("failed", "checks failed: " + "; ".join(
            f"{r.name}: {r.detail}" for r in in_process), checks, missing_files=missing)
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        return Outcome("failed", failed.error or f"check failed: {failed.name}", checks,
                       tail=list(failed.tail), failed_command=failed.command)
    return Outcome("completed", None, checks)
