"""Every task's run read back for people: the summary, the review queue, the active ones.

Read without taking any lock (a run being moved is read as of its latest event), from the
journals only: what a task is, is what its journal says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.engine import lifecycle
from orchestrator.engine.state import RunState
from orchestrator.playbooks.tasks.growth import FORMAT, load_task

__all__ = ["TaskView", "task_runs", "task_journals", "ACTIVE"]

ACTIVE = (lifecycle.PLANNING, lifecycle.PLAN_REVIEW, lifecycle.PLAN_APPROVED,
          lifecycle.PLAN_REJECTED, lifecycle.IMPLEMENTING, lifecycle.CODE_REVIEW,
          lifecycle.QUALITY_GATE)


@dataclass(slots=True)
class TaskView:
    id: str
    goal: str
    risk: str
    area: str
    state: str
    run: str
    run_status: str
    cost_usd: float
    why: str | None = None  # why it waits or failed
    concerns: list[str] = field(default_factory=list)
    plan_review: str | None = None  # approved or rejected, the latest plan review
    steps: dict[str, str] = field(default_factory=dict)  # plan phase -> its state

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


def view(state: RunState, run_dir: Path) -> TaskView | None:
    task = load_task(run_dir)
    if task is None:
        return None
    current = lifecycle.task_state(state.lifecycle)
    why, concerns, review = None, [], None
    for entry in state.lifecycle:
        if entry["subject"] == "task" and entry["state"] in (lifecycle.PLAN_APPROVED,
                                                              lifecycle.PLAN_REJECTED):
            review = "approved" if entry["state"] == lifecycle.PLAN_APPROVED else "rejected"
        if entry.get("concerns"):
            concerns = list(entry["concerns"])
        if entry["subject"] == "task" and entry.get("reason"):
            why = entry["reason"]
    return TaskView(task.id, task.goal, task.risk, task.area, current, state.name,
                    state.status, round(state.cost_usd, 6),
                    why if current in (lifecycle.AWAITING_HUMAN, lifecycle.FAILED) else None,
                    concerns if current == lifecycle.AWAITING_HUMAN else [], review,
                    lifecycle.step_states(state.lifecycle))


def task_runs(runs_dir: Path, warnings: list[str] | None = None) -> list[tuple[TaskView, Path]]:
    """Every task's view and run folder, in the order the tasks were created."""
    return [(shown, run_dir) for shown, run_dir, _ in task_journals(runs_dir, warnings)]


def task_journals(runs_dir: Path, warnings: list[str] | None = None
                  ) -> list[tuple[TaskView, Path, list[dict]]]:
    """Every task's view, run folder and journal events (each journal read once), in the
    order the tasks were created. A run that cannot be read is left out, with a line in
    ``warnings``; a symbolic link planted in a run's folder is refused (UnsafePath)."""
    from orchestrator.store import safefs
    from orchestrator.store.filestore import run_names
    from orchestrator.store.journal import read_journal
    from orchestrator.store.naming import JOURNAL
    from orchestrator.store.runstore import replay_journal

    found = []
    for name in run_names(runs_dir):
        run_dir = Path(runs_dir) / name
        safefs.refuse_links(run_dir, "read")
        if not (run_dir / "task.json").exists():
            continue
        try:
            events, _ = read_journal(run_dir / JOURNAL)
            state = replay_journal(events, str(run_dir / JOURNAL))
        except Exception as error:  # noqa: BLE001 - one unreadable run must not hide the rest
            if warnings is not None:
                warnings.append(f"run {name}: {error}")
            continue
        if state.plan_format != FORMAT:
            continue
        shown = view(state, run_dir)
        if shown is not None:
            found.append((state.created_at, name, shown, run_dir, events))
    found.sort(key=lambda entry: entry[:2])
    return [(shown, run_dir, events) for _, _, shown, run_dir, events in found]
