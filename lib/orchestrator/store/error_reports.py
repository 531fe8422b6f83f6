"""Error reports: one JSON file per step that a run gave up on, read back by later runs.

A report is written when an agent step ends failed or timed out, to
``<state root>/errors/``. The
next run of the same plan finds the reports for each step it is about to start and puts the
latest one at the top of the agent's prompt, so the agent knows what failed before.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.fmt import iso_utc
from orchestrator.jsonio import JSONTooDeep, loads_bounded
from orchestrator.store import safefs
from orchestrator.store.filestore import safe_step_id
from orchestrator.store.paths import run_name
from orchestrator.store.snapshot import write_atomic

__all__ = ["ERROR_REPORT_SCHEMA", "write_error_report", "find_error_reports",
           "error_report_summary", "error_report_name"]

ERROR_REPORT_SCHEMA = "orchestrate/error-report@1"
MAX_REPORT_BYTES = 1 << 20  # a report is a few KB; bigger files are not ours and are skipped
_FIELDS = ("plan", "run", "step", "title", "attempts", "agent", "failures", "checks",
           "last_output", "classification")


def _plan_slug(plan_path: str) -> str:
    return run_name(Path(str(plan_path)).stem)


def error_report_name(moment: datetime, plan_path: str, step_id: str) -> str:
    """``<YYYYmmdd-HHMMSS>-<plan slug>-step-<safe id>.json`` (UTC)."""
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{_plan_slug(plan_path)}-step-{safe_step_id(str(step_id))}.json"


def _normalized(report: dict, moment: datetime) -> dict:
    """The report with every field present, in a fixed order, and plain JSON types."""
    checks = []
    for check in report.get("checks") or []:
        if hasattr(check, "to_dict"):
            check = check.to_dict()
        if not isinstance(check, dict):
            check = {"name": check, "ok": False}
        checks.append({"name": str(check.get("name", "")), "ok": bool(check.get("ok")),
                       "detail": str(check.get("detail", "") or "")})
    return {
        "schema": ERROR_REPORT_SCHEMA,
        "timestamp": iso_utc(moment.timestamp()),
        "plan": str(report["plan"]),
        "run": report.get("run"),
        "step": str(report["step"]),
        "title": report.get("title") or "",
        "attempts": int(report.get("attempts") or 0),
        "agent": report.get("agent"),
        "failures": [str(item) for item in report.get("failures") or []],
        "checks": checks,
        "last_output": [str(line) for line in report.get("last_output") or []],
        "classification": report.get("classification"),
    }


def write_error_report(errors_dir: Path, report: dict, redactor,
                       now: datetime | None = None) -> Path:
    """Write ``report`` (``plan`` and ``step`` required) redacted, atomically; return its path.

    ``schema`` and ``timestamp`` are set here. A name already taken (two reports in the
    same second) gets a ``-2``, ``-3``... suffix.
    """
    moment = now or datetime.now(timezone.utc)
    data = redactor.redact_data(_normalized(report, moment))
    folder = safefs.ensure_dir(errors_dir)  # no symbolic link on the way (UnsafePath)
    base = error_report_name(moment, data["plan"], data["step"])[: -len(".json")]
    path, counter, latest = folder / f"{base}.json", 1, None
    while (taken := safefs.probe(path, "write")) is not None:
        latest = max(latest or 0, taken.st_mtime_ns)
        counter += 1
        path = folder / f"{base}-{counter}.json"
    body = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    write_atomic(path, body.encode("utf-8"))
    if latest is not None and os.stat(path, follow_symlinks=False).st_mtime_ns <= latest:
        # Readers order same-second reports by mtime: keep it after the earlier ones even
        # where the clock is coarser than the time between two writes.
        os.utime(path, ns=(latest + 1, latest + 1), follow_symlinks=False)
    return path


def _read_report(path: Path, warnings: list[str] | None) -> dict | None:
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            return None
        data = loads_bounded(path.read_bytes(), str(path))
    except OSError:
        return None
    except ValueError as error:  # not JSON, or nested too deeply (JSONTooDeep)
        problem = str(error) if isinstance(error, JSONTooDeep) else f"{path}: not valid JSON"
        _warn(f"skipped error report {problem}", warnings)
        return None
    if not isinstance(data, dict) or data.get("schema") != ERROR_REPORT_SCHEMA:
        return None
    if not isinstance(data.get("plan"), str) or not isinstance(data.get("step"), str):
        return None
    return data


def _warn(line: str, warnings: list[str] | None) -> None:
    if warnings is None:
        print(f"orchestrate: warning: {line}", file=sys.stderr)
    else:
        warnings.append(line)


def find_error_reports(errors_dir: Path, plan_path: str, step_id: str,
                       warnings: list[str] | None = None) -> list[dict]:
    """The reports for ``step_id`` of this plan, oldest first.

    A report belongs to the plan when its path is the same, or when the plan file moved and
    its slug (file stem as a run name) is. Files that cannot be read as reports are skipped;
    for one that is damaged (not JSON, nested too deeply) a line goes to ``warnings``, or to
    stderr without a list.
    """
    folder = Path(errors_dir)
    slug = _plan_slug(plan_path)
    try:
        candidates = list(folder.glob(f"*-{slug}-step-*.json"))
    except OSError:
        return []
    found = []
    for path in candidates:
        data = _read_report(path, warnings)
        if data is None or data["step"] != str(step_id):
            continue
        if data["plan"] != str(plan_path) and _plan_slug(data["plan"]) != slug:
            continue
        try:
            written = path.stat().st_mtime_ns
        except OSError:
            continue
        found.append((str(data.get("timestamp") or ""), written, path.name, data))
    found.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in found]


def error_report_summary(report: dict) -> str:
    """One line: when, which run and step, after how many attempts, and the first failure."""
    def flat(value, limit: int) -> str:
        text = " ".join(str(value).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    step = flat(report.get("step", "?"), 40)
    title = f" ({flat(report['title'], 60)})" if report.get("title") else ""
    run = f"run {flat(report['run'], 40)}, " if report.get("run") else ""
    attempts = report.get("attempts")
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" \
        if isinstance(attempts, int) and not isinstance(attempts, bool) else ""
    failures = report.get("failures") or []
    if not isinstance(failures, list):
        failures = [failures]
    first = f": {flat(failures[0], 120)}" if failures else ""
    more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
    when = flat(report.get("timestamp") or "unknown time", 25)
    return f"{when} {run}step {step}{title} failed{tries}{first}{more}"
