"""A git worktree per step (``isolate: true``, `orchestrate run --isolate`): each step works
in its own worktree at the run's integration commit, its evidence is checked there, and once
it completes it is committed and merged into the run's integration branch, so that steps
running at once never see each other's half-written files. The user's branch and working
tree are left alone until the run completes, when the integration branch is fast-forwarded
into the user's branch (or kept, and named, when it cannot be).

Steps merge as they complete, and a step starts only once its dependencies completed, so
merges happen in dependency order. The git work itself is in store/worktrees.py, and the
landing in store/landing.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.engine.outcome import CONFLICT_ASK, Outcome
from orchestrator.render.summary import ISOLATION_NOTE
from orchestrator.store import landing, worktrees
from orchestrator.store.snapshot import write_atomic

HEAD_FILE = "isolation.json"  # in the run's folder: the user's HEAD at the start, and now

__all__ = ["Isolation", "Settled", "Closed", "ConflictAnswers", "CONFLICT_ASK", "conflict_ask",
           "MERGE", "CHECK", "RETRY", "RESOLVED", "ABANDON"]

MERGE = "merge"  # the step works in a worktree, and what it did is merged once it completes
CHECK = "check"  # the step only checks the integration commit in a worktree: nothing merged


@dataclass(slots=True)
class Settled:
    """A step's attempt once its worktree is dealt with: its outcome, a note for the
    journal (what was merged and credited), and a question when its merge conflicts."""

    outcome: Outcome
    note: str | None = None
    ask: dict | None = None


RETRY, RESOLVED, ABANDON = "retry", "resolved", "abandon"  # the answers to a conflict


def conflict_ask(step_id: str, files: str, kept: str, branch: str) -> dict:
    """The question a merge conflict puts to the user; its answer is journalled like any
    other (`orchestrate wf answer RUN merge-conflict retry`) and acted on by
    ConflictAnswers."""
    return {"id": CONFLICT_ASK,
            "question": f"Step {step_id} conflicts with {branch} in {files}; its work is "
                        f"kept on {kept}. Retry the step on the new base, merge that branch "
                        f"into {branch} yourself and answer resolved, or abandon the step "
                        f"(its work stays on that branch)?",
            "options": [{"id": RETRY, "label": "Retry the step on the new base"},
                        {"id": RESOLVED, "label": f"I merged {kept} into {branch}; go on"},
                        {"id": ABANDON, "label": "Abandon the step; go on without it"}]}


def _conflict_reason(branch: str, files: str, kept: str) -> str:
    return f"merge conflict with {branch} in {files}; the step's work is kept on {kept}"


def _conflicted_files(reason: str | None) -> str:
    """The files a conflict's reason (made by _conflict_reason) names."""
    found = re.search(r" in (.+); the step's work is kept on ", reason or "")
    return found.group(1) if found else "its files"


class ConflictAnswers:
    """A recorder listener: what the answer to a merge conflict does to each step that
    failed by one. ``retry`` runs it again on the new base; ``resolved`` takes it as done
    once its kept branch is in the integration branch (else the question is asked again);
    ``abandon`` skips it. Each is a ``step_settled`` event, so both drivers, and a resume,
    see the same thing."""

    def __init__(self, recorder, project_root: Path):
        self.recorder = recorder
        self.root = Path(project_root)

    def __call__(self, event: dict, state) -> None:
        if event["type"] != "ask_answered" or event["id"] != CONFLICT_ASK:
            return
        choice = event["choice"]
        conflicted = [step for step in state.steps.values()
                      if step.status in ("failed", "timeout") and step.history
                      and step.history[-1].get("kept")]
        branch = worktrees.integration_branch(state.name)
        if choice == RESOLVED:
            missing = [step.history[-1]["kept"] for step in conflicted
                       if not worktrees.contains(self.root, branch, step.history[-1]["kept"])]
            if missing:
                ask = conflict_ask(conflicted[0].id, _conflicted_files(conflicted[0].error),
                                   missing[0], branch)
                ask["question"] = (f"{', '.join(missing[:3])} is not merged into {branch} "
                                   f"yet. " + ask["question"])
                self.recorder.record("ask_opened", **ask)
                return
        status = {RETRY: "pending", RESOLVED: "completed", ABANDON: "skipped"}.get(choice)
        if status is None:
            return
        with self.recorder.batch():
            for step in conflicted:
                kept = step.history[-1]["kept"]
                reason = {RETRY: f"retried on the new base of {branch}",
                          RESOLVED: f"merged by hand: {kept} is in {branch}",
                          ABANDON: f"abandoned after a merge conflict; its work stays on "
                                   f"{kept}"}[choice]
                self.recorder.record("step_settled", step=step.id, status=status,
                                     reason=reason)
                self.recorder.record("note", text=f"{ISOLATION_NOTE}step {step.id}: {reason}")


@dataclass
class Closed:
    """What closing an isolated run did: notes for the journal, and ``held``: why the
    completed run's work is not in the user's branch (the run then waits for them)."""

    notes: list[str]
    held: str | None = None


class Isolation:
    """The worktrees of one run's steps, from their start to their merge. Holds nothing
    a later process could not find again (each `wf` call is a process of its own): a
    step's worktree is found by its name, its base is where its branch left the
    integration branch, and the user's HEAD is kept in the run's folder."""

    def __init__(self, root: Path, run: str, run_dir: Path, *, take_head: bool = False,
                 scope: Callable[[str], str | None] | None = None, land: bool = True):
        """``take_head``: no step of the run is in flight (a driver (re)starting it, or a
        `wf` call between steps), so the user's HEAD now is what a stray commit is judged
        against from here on. ``scope``: how a step uses a worktree (MERGE, CHECK, or
        None: it works in the project itself); every step is MERGE when not given.
        ``land``: whether a completed run's integration branch is merged into the user's
        (not when it is offered as a pull request instead)."""
        self.root = root
        self.run = run
        self.land = land
        self.scope = scope or (lambda step_id: MERGE)
        self.head_file = Path(run_dir) / HEAD_FILE
        worktrees.start_integration(root, run)
        kept = self._kept()
        head = worktrees.rev_parse(root) if take_head or kept is None else None
        # start: where the user's branch was when the run began (it lands there);
        # baseline: the user's HEAD while steps are in flight (it must not move).
        self.start = kept["user_head"] if kept else head
        self.baseline = head or kept.get("baseline", kept["user_head"])
        if kept is None or kept.get("baseline", kept["user_head"]) != self.baseline:
            write_atomic(self.head_file, json.dumps({"user_head": self.start,
                                                     "baseline": self.baseline}).encode())

    def _kept(self) -> dict | None:
        try:
            kept = json.loads(self.head_file.read_bytes())
            return kept if isinstance(kept, dict) and isinstance(kept["user_head"], str) \
                else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def path_of(self, step_id: str) -> Path | None:
        tree = self._tree(step_id)
        return tree.path if tree is not None else None

    def _tree(self, step_id: str) -> worktrees.Worktree | None:
        return worktrees.existing(self.root, self.run, step_id)

    @property
    def branch(self) -> str:
        return worktrees.integration_branch(self.run)

    def enter(self, step_id: str) -> Path:
        """Where the step works: its worktree, made at the integration branch's commit
        now, or the project when the step is not isolated."""
        if self.scope(step_id) is None:
            return self.root
        base = worktrees.rev_parse(self.root, f"refs/heads/{self.branch}")
        return worktrees.create(self.root, self.run, step_id, base).path

    def leave(self, step_id: str, outcome: Outcome) -> Settled:
        """The attempt is over: merge a completed step, drop a failed attempt's worktree.
        A stray commit or a conflict fails the step; a conflict also asks what to do."""
        tree = self._tree(step_id)
        if tree is None:
            return Settled(outcome)
        if outcome.outcome != "completed":
            worktrees.remove(self.root, tree)
            return Settled(outcome)
        if self.scope(step_id) == CHECK:
            worktrees.remove(self.root, tree)
            return Settled(outcome, note=f"{ISOLATION_NOTE}step {step_id}: checked "
                                         f"{self.branch} at {tree.base[:12]}, nothing merged")
        stray = landing.stray_commits(self.root, tree, self.baseline)
        if stray:
            worktrees.remove(self.root, tree)
            return Settled(Outcome("failed", f"{stray}; the step's work is not merged",
                                   permanent=True, cost_usd=outcome.cost_usd))
        changed = worktrees.diff(tree).files
        worktrees.commit_all(tree, f"orchestrate: step {step_id} of run {self.run}")
        outcome.change = f"{tree.base}..{worktrees.rev_parse(tree.path)}"
        merged = worktrees.merge(self.root, self.run, tree,
                                 f"orchestrate: merge step {step_id} of run {self.run}")
        if merged.kind == "conflict":
            kept = worktrees.keep_branch(self.root, tree)
            files = ", ".join(merged.conflicts[:10])
            return Settled(Outcome("failed", _conflict_reason(self.branch, files, kept),
                                   permanent=True, cost_usd=outcome.cost_usd, kept=kept),
                           ask=conflict_ask(step_id, files, kept, self.branch))
        worktrees.remove(self.root, tree)
        shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more"
                                           if len(changed) > 10 else "")
        return Settled(outcome, note=f"{ISOLATION_NOTE}step {step_id}: merged into "
                                     f"{self.branch} ({merged.kind}), credited with "
                                     f"{len(changed)} file(s): {shown or 'none'}")

    def close(self, status: str) -> Closed:
        """The run is over: remove what is left of its worktrees; when it completed, bring
        the integration branch into the user's branch (unless it is offered as a pull
        request). Notes for the journal, and why the work could not land, if it could not."""
        notes = self._close(status)
        if status != "completed" or not self.land or \
                worktrees.branch_tip(self.root, self.branch) is None:  # landing removes it
            return Closed(notes)
        return Closed(notes, held=f"{notes[-1].removeprefix(ISOLATION_NOTE)}; then "
                                  f"`orchestrate run --resume {self.run}` lands it")

    def _close(self, status: str) -> list[str]:
        worktrees.prune(self.root, {self.run})
        if status != "completed":
            if worktrees.branch_tip(self.root, self.branch) == self.start:
                return [f"{ISOLATION_NOTE}no step's work was merged into {self.branch} yet"]
            return [f"{ISOLATION_NOTE}the run's merged work is on {self.branch}"]
        if not self.land:
            return [f"{ISOLATION_NOTE}the run's work is on {self.branch} for its pull "
                    "request (the pr step says whether it was opened); your branch is left "
                    "as it was"]
        return [ISOLATION_NOTE + landing.land(self.root, self.run, self.start)]
