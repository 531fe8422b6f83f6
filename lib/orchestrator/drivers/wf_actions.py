"""What a `wf` action carries: the agent action's subagent name, its prompt file and its
``expects`` (from the verify contract), the command action's title, and the snapshot of
the tree taken before an agent starts, kept on disk for the report in another process."""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestrator.engine.state import RunState, StepState
from orchestrator.session import runs as session
from orchestrator.store.bounds import clip_text
from orchestrator.store.snapshot import write_atomic

__all__ = ["AGENT_PREFIX_ENV", "PLUGIN_PREFIX", "action", "action_id", "before_path",
           "before_snapshot"]


def action_id(step_id: str, attempt: int) -> str:
    return f"{step_id}@{attempt}"


def before_path(call, step_id: str, attempt: int) -> Path:
    return call.store.step_log_path(step_id, attempt).with_suffix(".before.json")


def before_snapshot(call, step: StepState, root: Path) -> Path:
    """The tree (``root``: the project, or the step's worktree) before the agent works,
    kept on disk for the report in another process."""
    from orchestrator.verify.snapshot import take_snapshot

    path = before_path(call, step.id, step.attempts + 1)
    snapshot = take_snapshot(root,
                             session.exclusions(call.project, call.reports, call.store))
    write_atomic(path, json.dumps(snapshot.to_dict(), separators=(",", ":")).encode())
    return path


def action(call, step: StepState, phases: dict, root: Path) -> dict:
    """The action of ``step``'s attempt now; ``root``: where it works (the project, or the
    step's worktree, which the action then names)."""
    aid = action_id(step.id, step.attempts)
    if step.kind == "command":
        return {"type": "command", "id": aid, "step": step.id,
                "title": clip_text(step.title, 80)}
    from orchestrator.executors.agent_request import prepare_agent
    from orchestrator.verify import contract

    phase = phases[step.id]
    prompt_path = call.store.step_log_path(step.id, step.attempts).with_suffix(".prompt.md")
    request, _ = prepare_agent(state=call.state, step=step, phase=phase,
                               root=root, config=call.config,
                               errors_dir=call.project.errors_dir, prompt_path=prompt_path,
                               redactor=call.redactor, home=call.project.root)
    prompt = f"Read {_relative(prompt_path, call.project.root)} and do what it says."
    found = {
        "type": "agent", "id": aid, "step": step.id,
        "subagent_type": _subagent_type(request),
        "description": clip_text(f"Phase {step.id}: {step.title}", 60),
        "prompt": prompt,
        "expects": contract.expects(phase, call.config.blast_radius_command, root),
    }
    if root != call.project.root:
        found["worktree"] = str(root)
        found["prompt"] = (f"Work only in the git worktree {root} (cd there first; "
                           f"EnterWorktree accepts this path). Read {prompt_path} and do "
                           "what it says.")
    return found


AGENT_PREFIX_ENV = "ORCHESTRATE_AGENT_PREFIX"
PLUGIN_PREFIX = "orchestrate:"


def _subagent_type(request) -> str:
    """The name the Agent tool knows the agent by.

    A definition found in the project's or the user's `.claude/agents/` (where install.sh
    copies the bundle's) goes by its bare name. One found only in the bundle can reach
    Claude Code only through the plugin, whose agents answer to `orchestrate:<name>` and
    to nothing else. ORCHESTRATE_AGENT_PREFIX, when set (even empty), overrides the prefix.
    """
    if request.agent_source != "bundle":
        return request.agent_name
    return os.environ.get(AGENT_PREFIX_ENV, PLUGIN_PREFIX) + request.agent_name


def _relative(path: Path, root: Path) -> str:
    """``path`` from the project root (the agent's working directory), kept short."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)




def ask_action(state: RunState) -> dict:
    """The run's open question as an action: ``ask`` for the user, or ``wait`` when a
    task waits for a person's review, which is given from a shell, never by the session."""
    from orchestrator.playbooks.tasks.growth import wait_action

    waiting = wait_action(state)
    if waiting is not None:
        return waiting
    ask = state.ask
    return {"type": "ask", "id": ask["id"], "question": clip_text(ask["question"], 600),
            "options": ask["options"]}


def after_done(state: RunState) -> dict:
    """More for a ``done`` action: for a task's run, the command that takes up the next
    task of its file (``then``)."""
    from orchestrator.playbooks.tasks.growth import next_task_command

    then = next_task_command(state)
    return {"then": then} if then else {}


def report_note(said: str | None, run_dir: Path, action: str) -> str | None:
    """What the agent said, and which files Claude Code's hooks saw it write: kept with
    the attempt as a note, never the verdict."""
    from orchestrator.drivers.hooks import writes_seen

    seen = writes_seen(run_dir, action)
    parts = [clip_text(said, 500)] if said else []
    if seen:
        parts.append("the hooks saw the agent write: " + ", ".join(seen[:10])
                     + (f" and {len(seen) - 10} more" if len(seen) > 10 else ""))
    return clip_text("; ".join(parts), 1000) if parts else None
