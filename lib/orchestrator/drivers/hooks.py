"""Claude Code hooks over the runs of a project (docs/hooks.md).

A hook gets one JSON object on stdin (``session_id``, ``cwd``, and what its event adds)
and answers on stdout. Each function here takes that object and returns the answer, or
None for "say nothing": ``stop`` keeps a session from ending its turn while the run it
drives has work handed out or ready, ``session_start`` tells a new or compacted session
where the project's unfinished run stands, ``record`` notes which files the agents wrote.

A run belongs to the session that started it: ``wf start`` records
``$CLAUDE_CODE_SESSION_ID`` (the id a hook receives as ``session_id``) in run_started.
So state is keyed by session, never by a project-wide flag: a session that drives no run
is never blocked. A hook must never break a session: every failure to read a run is
treated as "no run".

Hooks run at every stop and every write, so this module imports little at the top.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["stop", "session_start", "record", "writes_seen", "read_input", "WRITES",
           "MAX_WRITES_BYTES"]

WRITES = "hook-writes.jsonl"
MAX_WRITES_BYTES = 256 * 1024  # a run's record of writes stops growing past this
MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024  # what SubagentStop reads of an agent's transcript
INCOMPLETE = ("running", "interrupted", "awaiting_human")


def read_input(text: str) -> dict:
    """The hook's input object; {} for anything else (a hook never fails on its input)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _next_command(name: str) -> str:
    return f"orchestrate wf next {name} --json"


def _runs(data: dict, statuses=INCOMPLETE):
    """(runs folder, state) of each run of the project at the hook's ``cwd`` whose status
    is in ``statuses``, most recently updated first. Unreadable runs are left out."""
    from orchestrator.errors import OrchestrateError
    from orchestrator.store import paths
    from orchestrator.store.filestore import FileRunStore, list_runs

    cwd = data.get("cwd")
    try:
        _, runs_dir = paths.project_runs_dir(Path(cwd) if isinstance(cwd, str) and cwd
                                             else None)
        infos = list_runs(runs_dir)
    except (OrchestrateError, OSError):
        return
    for info in infos:
        if info.status not in statuses:
            continue
        try:
            state = FileRunStore(runs_dir, info.name).load().state
        except (OrchestrateError, OSError):
            continue
        yield runs_dir, state


def _session_runs(data: dict, statuses=("running",)):
    """The runs driven by the hook's session (its ``session_id`` recorded at the start)."""
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        return
    for runs_dir, state in _runs(data, statuses):
        if state.driver == "wf" and state.session_id == session_id:
            yield runs_dir, state


def _in_flight(state) -> list[str]:
    return [f"{step.id}@{step.attempts}" for step in state.steps.values()
            if step.status == "running"]


def _ids(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- Stop --------------------------------------------------------------------------------

def stop(data: dict) -> dict | None:
    """``{"decision": "block", "reason": ...}`` when a run this session drives has actions
    handed out and not reported, or ready ones not fetched; None (allow) otherwise, and
    always when ``stop_hook_active`` (Claude Code is continuing after a block already)."""
    if data.get("stop_hook_active") is True:
        return None
    from orchestrator.engine.decide import ready_steps

    reasons = []
    for _, state in _session_runs(data):
        flying = _in_flight(state)
        ready = ready_steps(state)
        if not flying and (not ready or state.ask is not None):
            continue  # nothing to do, or a question waits for the user
        parts = [f"The orchestrate run {state.name} is not finished "
                 f"({_progress(state)})."]
        if flying:
            parts.append(f"Handed out and not reported: {_ids(flying)}; report each agent "
                         f"action with `orchestrate wf report {state.name} ID --json` once "
                         f"its agent is back, run each command action with `orchestrate wf "
                         f"exec {state.name} ID --json`.")
        if ready:
            parts.append(f"Ready to start: {_ids(ready)}.")
        parts.append(f"Go on with `{_next_command(state.name)}`.")
        reasons.append(" ".join(parts))
    if not reasons:
        return None
    return {"decision": "block", "reason": "\n".join(reasons[:3])}


def _progress(state) -> str:
    counts = state.counts()
    done = counts["completed"] + counts["skipped"]
    text = f"{done} of {len(state.steps)} steps done"
    bad = [f"{counts[key]} {key}" for key in ("failed", "timeout", "blocked") if counts[key]]
    return text + (f", {', '.join(bad)}" if bad else "")


# --- SessionStart ------------------------------------------------------------------------

def session_start(data: dict) -> str | None:
    """Context for the model: the project's unfinished `wf` runs, where each stopped, and
    the command that goes on with it. None when there is none."""
    lines = []
    for _, state in _runs(data):
        if state.driver != "wf":
            continue
        if len(lines) == 3:
            lines.append("(more unfinished runs: `orchestrate runs`)")
            break
        text = f"- {state.name} ({state.status}, {_progress(state)})"
        flying = _in_flight(state)
        if flying:
            text += f"; handed out and not reported: {_ids(flying)}"
        if state.ask is not None:
            text += f"; waiting for the user's answer to {state.ask['id']}"
        elif state.pause_reason:
            text += f"; paused: {state.pause_reason[:200]}"
        text += f". Next: `{_next_command(state.name)}`"
        lines.append(text)
    if not lines:
        return None
    from orchestrator.fmt import clean

    # A planted journal's ids and reasons are data: no escapes, no line breaks of their own.
    lines = [" ".join(clean(line).split())[:600] for line in lines]
    return ("This project has unfinished orchestrate runs (the `wf` protocol, "
            "docs/protocol.md); go on with one only if the user wants it:\n"
            + "\n".join(lines))


# --- PostToolUse and SubagentStop: what the agents wrote -----------------------------------

def record(data: dict) -> None:
    """Append what a Write/Edit (PostToolUse) or a finished subagent (SubagentStop) wrote
    to ``hook-writes.jsonl`` of each run this session drives with actions in flight: a
    note for whoever reads the run, never part of a verdict."""
    if data.get("hook_event_name") == "SubagentStop":
        files = _transcript_writes(data.get("agent_transcript_path"))
        entry = {"event": "subagent_stop", "files": files}
    else:
        tool_input = data.get("tool_input")
        path = tool_input.get("file_path") if isinstance(tool_input, dict) else None
        if not isinstance(path, str) or not path:
            return
        entry = {"event": "write", "tool": str(data.get("tool_name", ""))[:40],
                 "files": [path[:1000]]}
    for key in ("agent_id", "agent_type"):
        if isinstance(data.get(key), str):
            entry[key] = data[key][:200]
    for runs_dir, state in _session_runs(data):
        flying = _in_flight(state)
        if flying:
            _append(runs_dir / state.name / WRITES,
                    {"at": round(time.time(), 3), **entry, "in_flight": flying[:20]})


def _append(path: Path, entry: dict) -> None:
    """One line more in ``path``, through the store's link-refusing helpers, unless the
    file has reached MAX_WRITES_BYTES."""
    import os

    from orchestrator.errors import OrchestrateError
    from orchestrator.redact import default_redactor
    from orchestrator.store import safefs

    entry = default_redactor().redact_data(entry)  # a path or agent name can hold a key too
    line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    try:
        found = safefs.probe(path)
        if found is not None and found.st_size + len(line) > MAX_WRITES_BYTES:
            return
        fd = safefs.open_for_append(path, 0o600)
        try:
            safefs.write_all(fd, line)
        finally:
            os.close(fd)
    except (OrchestrateError, OSError):
        return


def _transcript_writes(path) -> list[str]:
    """The files an agent's transcript (JSON lines) shows it passing to Write or Edit."""
    if not isinstance(path, str) or not path:
        return []
    from orchestrator.errors import OrchestrateError
    from orchestrator.store import safefs

    try:
        data = safefs.read_tail(path, MAX_TRANSCRIPT_BYTES)
    except (OrchestrateError, OSError):
        return []
    files: list[str] = []
    for raw in data.splitlines():
        if b'"file_path"' not in raw:
            continue
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        message = event.get("message") if isinstance(event, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if (isinstance(block, dict) and block.get("type") == "tool_use"
                    and block.get("name") in ("Write", "Edit", "MultiEdit")):
                target = (block.get("input") or {}).get("file_path")
                if isinstance(target, str) and target not in files:
                    files.append(target[:1000])
    return files[:100]


def writes_seen(run_dir: Path, action: str) -> list[str]:
    """The files the hooks saw written while ``action`` (STEP@ATTEMPT) was in flight."""
    from orchestrator.errors import OrchestrateError
    from orchestrator.store import safefs

    try:
        data = safefs.read_regular(Path(run_dir) / WRITES, limit=MAX_WRITES_BYTES)
    except (OrchestrateError, OSError):
        return []
    files: list[str] = []
    for raw in data.splitlines():
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and action in (entry.get("in_flight") or ()):
            files += [f for f in entry.get("files") or () if f not in files]
    return files
