"""The prompt an agent gets for one attempt at one phase.

It holds the task, exact absolute paths, the plan's testing procedures (for the agent to
follow), the checks the engine will run, what failed before (in this run and in earlier
runs), and the report block the agent ends with. Pure: it reads no files, so it names paths
and leaves their contents to the agent.

Text from the plan and from stored reports is data. Each field is flattened to one line (or
put in a fence longer than any backtick run inside it) and cut to a bound, so a plan cannot
add sections to the prompt or grow it without limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from orchestrator import fmt
from orchestrator.plan.model import Phase
from orchestrator.verify.contract import MAX_ITEMS as MAX_CHECKS

__all__ = ["AttemptFailure", "PromptContext", "render_prompt", "previous_runs_section",
           "retry_section", "REPORT_FORMAT"]

TITLE_MAX = 120
TEXT_MAX = 600  # the objective
ITEM_MAX = 240  # one task, criterion, check, failure reason or command
PATH_MAX = 300
LINE_MAX = 200  # one line of command output
MAX_ITEMS = 12  # per list; the rest are counted and left to the plan
MAX_FILES = 25
MAX_REASONS = 8
TAIL_LINES = 20
MAX_PROCEDURES = 8  # Testing procedures shown; the rest are counted
PROCEDURE_LINES = 30  # lines of one procedure shown
PROCEDURE_BUDGET = 60  # lines of all procedures together

REPORT_FORMAT = (
    "STATUS: done\n"
    "FILES: <paths you created or changed, comma-separated>\n"
    "NOTES: <a line or two: decisions worth knowing, or what blocks you>"
)

_SPACE = re.compile(r"\s+")
_TICKS = re.compile(r"`+")


@dataclass(slots=True)
class AttemptFailure:
    """Why one earlier attempt of this run did not pass its checks."""

    attempt: int
    reasons: list[str] = field(default_factory=list)  # one line each, as the checks said
    missing_files: list[str] = field(default_factory=list)  # as the plan names them
    failed_command: str | None = None
    output_tail: list[str] = field(default_factory=list)  # last lines of its output


@dataclass(slots=True)
class PromptContext:
    """Everything one prompt is rendered from."""

    phase: Phase
    plan_path: str  # absolute
    project_root: Path
    attempt: int = 1  # 1-based, within this run
    max_attempts: int = 1
    failures: list[AttemptFailure] = field(default_factory=list)  # earlier attempts, this run
    previous_reports: list[dict] = field(default_factory=list)  # earlier runs, oldest first
    agent_name: str = "implementer"
    checks: list[str] = field(default_factory=list)  # what the engine will check, in words
    home: Path | None = None  # the project, when project_root is the step's git worktree


def _flat(text, limit: int = ITEM_MAX) -> str:
    """One line: control characters dropped, whitespace runs made one space, cut to limit."""
    text = str(text)[: limit * 4 + 64]  # what could survive the cut, with room for spaces
    return fmt.truncate(_SPACE.sub(" ", fmt.clean(text)).strip(), limit)


def _code(text: str) -> str:
    """``text`` as inline code, with a backtick fence longer than any run inside it."""
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _path(root: Path, name: str) -> str:
    """A file the plan names, as an absolute path in inline code (``~`` left to the agent)."""
    name = _flat(name, PATH_MAX)
    shown = name if name.startswith("~") else str(Path(root) / name)
    return _code(shown)


def _fenced(lines: list[str]) -> str:
    longest = max((len(run) for line in lines for run in _TICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence + "text", *lines, fence])


def _tail(lines: list[str]) -> list[str]:
    """The last TAIL_LINES non-blank lines, cleaned (a carriage return keeps what follows it)."""
    kept = []
    for line in lines[-TAIL_LINES * 4:]:
        line = fmt.clean(str(line).rsplit("\r", 1)[-1]).expandtabs(4).rstrip()
        if line.strip():
            kept.append(fmt.truncate(line, LINE_MAX))
    return kept[-TAIL_LINES:]


def _bullets(items, limit: int, width: int = ITEM_MAX, more: str = "see the plan") -> list[str]:
    """Up to ``limit`` items as a Markdown list, blank ones left out, the rest counted."""
    items = list(items)
    lines = []
    for index, item in enumerate(items):
        if len(lines) == limit:
            lines.append(f"- ... and {len(items) - index} more ({more})")
            break
        text = _flat(item, width)
        if text:
            lines.append(f"- {text}")
    return lines


def _when(stamp) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC``; unparsable ones as they are, bounded."""
    text = _flat(stamp or "", 40)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text or "an unknown time"
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def previous_runs_section(reports: list[dict]) -> str:
    """The opening section from earlier runs' error reports (oldest first; the latest shown)."""
    reports = [report for report in reports if isinstance(report, dict)]
    if not reports:
        return ""
    last = reports[-1]
    attempts = last.get("attempts")
    tried = f"after {attempts} attempt{'s' if attempts != 1 else ''}" \
        if isinstance(attempts, int) and not isinstance(attempts, bool) else "after its attempts"
    run = f"Run {_code(_flat(last['run'], 80))}" if last.get("run") else "A run"
    agent = f" (agent {_flat(last['agent'], 60)})" if last.get("agent") else ""
    lines = ["## This step failed in an earlier run",
             f"{run} gave up on it on {_when(last.get('timestamp'))}, {tried}{agent}, with:"]
    failures = _bullets(_as_list(last.get("failures")), MAX_REASONS, more="in its report")
    lines += failures or ["- no recorded reason"]
    if len(reports) > 1:
        earlier = len(reports) - 1
        lines.append(f"It had failed in {earlier} earlier run{'s' if earlier > 1 else ''} too.")
    lines.append("Take a different approach from that run's, starting from the files as they "
                 "are on disk now: the same approach is likely to fail the same way.")
    return "\n".join(lines)


def _failure_lines(root: Path, failure: AttemptFailure) -> list[str]:
    lines = _bullets(failure.reasons, MAX_REASONS, more="not shown")
    lines += [f"- missing: {_path(root, name)}" for name in failure.missing_files[:MAX_FILES]]
    if len(failure.missing_files) > MAX_FILES:
        lines.append(f"- ... and {len(failure.missing_files) - MAX_FILES} more missing files")
    if failure.failed_command:
        command = _code(_flat(failure.failed_command))
        tail = _tail(failure.output_tail)
        if tail:
            lines.append(f"- {command} failed; the end of its output:")
            lines.append(_fenced(tail))
        else:
            lines.append(f"- {command} failed, with no output")
    return lines


def retry_section(ctx: PromptContext) -> str:
    """For attempt 2 and later: what failed, and how to go about it this time."""
    if ctx.attempt <= 1:
        return ""
    last_try = ctx.attempt == ctx.max_attempts
    last = " (the last)" if last_try else ""
    lines = [f"## Attempt {ctx.attempt} of {ctx.max_attempts}{last}: what failed before"]
    failures = sorted(ctx.failures, key=lambda failure: failure.attempt)
    if failures:
        latest = failures[-1]
        lines.append(f"Attempt {latest.attempt} did not pass the checks:")
        lines += _failure_lines(ctx.project_root, latest) or ["- no recorded reason"]
        for earlier in failures[-3:-1]:
            said = "; ".join(_flat(reason, 100) for reason in earlier.reasons[:3]) or \
                "no recorded reason"
            lines.append(f"Attempt {earlier.attempt} failed too: {said}")
        lines.append("Fix each of these in a different way from before: repeating the same "
                     "steps is likely to fail the same way.")
    else:
        lines.append("The previous attempt did not finish (it was interrupted or timed out). "
                     "Check what it left on disk before you continue.")
    if ctx.attempt >= 3 or last_try:
        reason = "this is the last attempt" if last_try else \
            f"{ctx.attempt - 1} attempts have failed"
        lines += [
            f"Since {reason}, work in this order:",
            "1. Re-read the files named in this prompt as they are on disk now; earlier "
            "attempts may have left partial changes.",
            "2. For each check under Checks, make the smallest change that makes it pass.",
            "3. Run the commands under Checks yourself and read their output before you "
            "finish. If one still fails, report STATUS: blocked with its last lines in NOTES.",
        ]
    return "\n".join(lines)


def _task_section(ctx: PromptContext) -> str:
    phase = ctx.phase
    title = _flat(phase.title or "(untitled)", TITLE_MAX)
    lines = [
        f"## Phase {_flat(phase.id, 40)}: {title}",
        f"You are the {_flat(ctx.agent_name, 60)} agent for this phase of the plan "
        f"{_code(_flat(ctx.plan_path, PATH_MAX))} (attempt {ctx.attempt} of {ctx.max_attempts}). "
        "Read the plan for any context you need; this prompt gives paths, not file contents.",
    ]
    if phase.objective:
        lines += ["", f"Objective: {_flat(phase.objective, TEXT_MAX)}"]
    tasks = _bullets(phase.tasks, MAX_ITEMS)
    if tasks:
        lines += ["", "Tasks:", *tasks]
    if not phase.objective and not tasks:
        lines += ["", "Tasks: as the plan describes this phase."]
    lines.append("")
    if phase.type == "design":
        lines.append("This is a design phase: the deliverable is the artifacts (documents such "
                     "as ADRs, interface and type definitions), not an implementation. Write "
                     "declarations and stubs only where the plan asks for them.")
    else:
        lines.append("Keep the change to what these tasks need: other phases own the rest of "
                     "the plan and may be running at the same time.")
    return "\n".join(lines)


def _files_section(ctx: PromptContext) -> str:
    phase = ctx.phase
    if phase.files:
        lines = ["Files to create or change:"]
        lines += [f"- {_path(ctx.project_root, name)}" for name in phase.files[:MAX_FILES]]
        if len(phase.files) > MAX_FILES:
            lines.append(f"- ... and {len(phase.files) - MAX_FILES} more (see the plan)")
    else:
        lines = [f"Files: the plan names none; work under {_code(str(ctx.project_root))}."]
    if ctx.home is not None and ctx.home != ctx.project_root:
        lines += ["", f"You work in a git worktree of the project, on this phase's own "
                      f"branch: change and commit files only under "
                      f"{_code(str(ctx.project_root))}, never in the project itself. Files "
                      f"this prompt or the plan names that the worktree lacks (the run's "
                      f"own, such as reports under specs/) are read from "
                      f"{_code(str(ctx.home))}."]
    if phase.dependencies_to_add:
        lines += ["", "Dependencies to add:", *_bullets(phase.dependencies_to_add, MAX_ITEMS)]
    if phase.acceptance:
        lines += ["", "Acceptance criteria:", *_bullets(phase.acceptance, MAX_ITEMS)]
    return "\n".join(lines)


def _procedure_lines(text: str, room: int) -> list[str]:
    """One procedure's lines, cleaned and cut: to PROCEDURE_LINES and to ``room``."""
    lines = [fmt.truncate(fmt.clean(line).expandtabs(4).rstrip(), LINE_MAX)
             for line in str(text)[:PROCEDURE_LINES * LINE_MAX * 2].splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    limit = min(PROCEDURE_LINES, room)
    if len(lines) > limit:
        lines = lines[: max(limit - 1, 0)] + ["... (cut; the rest is in the plan)"]
    return lines


def _procedures_section(ctx: PromptContext) -> str:
    """The plan's Testing procedures: steps for the agent, which the engine never runs."""
    procedures = [text for text in ctx.phase.procedures if str(text).strip()]
    if not procedures:
        return ""
    lines = ["## How to test this phase (do this yourself)",
             "The plan gives these steps for testing this phase. Follow them yourself before "
             "you report: the engine does not run them."]
    room = PROCEDURE_BUDGET
    for index, text in enumerate(procedures):
        if index == MAX_PROCEDURES or room <= 0:
            lines.append(f"- ... and {len(procedures) - index} more (see the plan)")
            break
        body = _procedure_lines(text, room)
        room -= len(body)
        if len(body) == 1:
            lines.append(f"- {_flat(body[0])}")
        elif body:
            lines.append(_fenced(body))
    return "\n".join(lines)


def _checks_section(ctx: PromptContext) -> str:
    lines = ["## Checks",
             "When you finish, the engine checks the result itself: it looks at the files on "
             "disk and runs the commands. What your reply says is kept as a note, not taken "
             "as the result."]
    lines += _bullets(ctx.checks, MAX_CHECKS, more="not shown") or \
        ["- none besides your report; the acceptance criteria still apply"]
    return "\n".join(lines)


def _report_section() -> str:
    return "\n".join([
        "## Report",
        "End your reply with this block, filled in:",
        _fenced(REPORT_FORMAT.splitlines()),
        "Use STATUS: blocked, with the reason in NOTES, when something outside this phase "
        "stops you.",
    ])


def render_prompt(ctx: PromptContext) -> str:
    """The whole prompt for one attempt at ``ctx.phase``.

    Order: an earlier run's failure (when there is one), this run's failed attempts (on a
    retry), the task, files and criteria, the plan's testing procedures, the checks, and the
    report block last.
    """
    parts = [
        previous_runs_section(ctx.previous_reports),
        retry_section(ctx),
        _task_section(ctx),
        _files_section(ctx),
        _procedures_section(ctx),
        _checks_section(ctx),
        _report_section(),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"
