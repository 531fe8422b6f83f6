"""One attempt of an agent step: run the agent, read its reply, then check the evidence.

The agent's own account is kept as a note. The verdict comes from the disk: the working tree
changed (implementation phases), the expected files exist, the check commands pass.
Transient service errors are waited out with backoff inside the attempt; permanent ones
end it at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from orchestrator.agents.backend import AgentReply, AgentRequest
from orchestrator.engine.backoff import Backoff
from orchestrator.engine.failures import classify_error
from orchestrator.engine.outcome import Outcome
from orchestrator.executors import procs
from orchestrator.executors.command import StepExecution
from orchestrator.executors.watched import OutputLog, WatchedProcess
from orchestrator.plan.model import Phase
from orchestrator.verify import contract
from orchestrator.verify import snapshot as evidence
from orchestrator.verify.verdict import NO_CHANGE, verdict

__all__ = ["AgentExecution", "checks_phase", "keep_verdict", "tree_verdict"]


def tree_verdict(phase: Phase, root: Path, before: evidence.Snapshot | None,
                 exclude: list[Path], others_files: list[str]) -> Outcome | None:
    """The verdict the tree alone gives once the agent is done, before any check runs: an
    attempt that should have changed the tree and did not fails here. None: the checks
    decide (a design phase, or no snapshot from before the attempt to compare with)."""
    if phase.type == "design" or before is None:
        return None
    changes = evidence.diff_snapshots(before, evidence.take_snapshot(root, exclude))
    early = verdict(phase_type=phase.type, changes=changes,
                    results=contract.file_checks(phase, root), others_files=others_files)
    return early if early.error and early.error.startswith(NO_CHANGE) else None


def keep_verdict(path: Path, structured: dict) -> bool:
    """Write the verdict an agent gave as its structured reply (`claude -p --json-schema`)
    to ``path``, unless the agent wrote that file itself; the file is then checked as any
    other (verify/contract.py)."""
    import json

    from orchestrator.store import safefs

    if safefs.probe(path) is not None:
        return False
    data = json.dumps(structured, ensure_ascii=False).encode("utf-8")
    safefs.write_atomic(path, data[:contract.VERDICT_LIMIT + 1], mode=0o644, create_dirs=True)
    return True


def checks_phase(phase: Phase) -> Phase:
    """The phase as its checks see it: the agent did the work, so no Run block runs."""
    return dataclasses.replace(phase, run=[], scripts=[
        script for script in phase.scripts if script.field != "run"])


class AgentExecution:
    """Same driving interface as StepExecution: fds, owns_pipe, read_output, poll, kill."""

    def __init__(self, *, phase: Phase, attempt: int, root: Path, env: dict[str, str],
                 log_path: Path | None, redactor, backend, request: AgentRequest,
                 timeout_s: int | None, blast_radius_command: str | None,
                 watchdog: procs.Watchdog, now: float, exclude: list[Path],
                 backoff: Backoff, on_wait: Callable[[float, object], None],
                 others_files: Callable[[], list[str]]):
        self.phase = phase
        self.attempt = attempt
        self.root = root
        self.env = env
        self.backend = backend
        self.request = request
        self.timeout_s = timeout_s
        self.blast_radius_command = blast_radius_command
        self.watchdog = watchdog
        self.started_at = now
        self.deadline = now + timeout_s if timeout_s else None
        self.exclude = exclude
        self.backoff = backoff
        self.on_wait = on_wait
        self.others_files = others_files
        self.cost_usd = 0.0
        self.outcome: Outcome | None = None
        self.wake_at: float | None = None
        self.checks: StepExecution | None = None
        self.reply: AgentReply | None = None
        self.process: WatchedProcess | None = None
        self.log = OutputLog(log_path, redactor, capture=True)
        self.before = evidence.take_snapshot(root, exclude)

    def start(self) -> None:
        argv = self.backend.argv(self.request)
        self.log.begin(f"{argv[0]} ... (agent {self.request.agent_name}, "
                       f"prompt {self.request.prompt_file})")
        try:
            with open(self.request.prompt_file, "rb") as prompt:
                self.process = WatchedProcess(argv, cwd=str(self.root), env=self.env,
                                              stdin=prompt, watchdog=self.watchdog,
                                              log=self.log)
        except FileNotFoundError:
            self._finish(Outcome("failed", f"agent command not found: {argv[0]} (install "
                                 "Claude Code, or set --agent-cmd)", permanent=True))

    def fds(self) -> list[int]:
        if self.checks is not None:
            return self.checks.fds()
        return self.process.fds() if self.process is not None else []

    def owns_pipe(self, fd: int) -> bool:
        if self.checks is not None:
            return self.checks.owns_pipe(fd)
        return self.process is not None and self.process.owns_pipe(fd)

    def read_output(self) -> bool:
        if self.checks is not None:
            return self.checks.read_output()
        return self.process.read_output() if self.process is not None else False

    def poll(self, now: float) -> Outcome | None:
        if self.outcome is not None:
            return self.outcome
        if self.deadline is not None and now >= self.deadline:
            self.kill()
            return self._finish(Outcome("timeout", f"timed out after {self.timeout_s} s"))
        if self.checks is not None:
            outcome = self.checks.poll(now)
            return self._finish(outcome) if outcome is not None else None
        if self.wake_at is not None:
            if now < self.wake_at:
                return None
            self.wake_at = None
            self.start()
            return self.outcome
        if self.process is None or not self.process.exited():
            return None
        returncode = self.process.finish()
        self.process = None
        self.log.flush()
        reply = self.backend.read(self.log.text(), returncode)
        self.reply = reply
        self.cost_usd += reply.cost_usd
        if not reply.ok:
            return self._failed_reply(reply, now)
        if reply.structured is not None and self.phase.verdicts:
            keep_verdict(self.root / self.phase.verdicts[0], reply.structured)
        return self._check_evidence(now)

    def _failed_reply(self, reply: AgentReply, now: float) -> Outcome | None:
        verdict = classify_error(reply.result, status=reply.api_error_status,
                                 subtype=reply.subtype, exit_code=reply.exit_code)
        said = reply.result.strip().splitlines()[0][:300] if reply.result.strip() else ""
        if verdict.kind == "transient":
            delay = self.backoff.next_delay(verdict.retry_after_s)
            if delay is not None:
                self.on_wait(delay, verdict)
                self.wake_at = now + delay
                return None
            return self._finish(Outcome(
                "failed", f"{verdict.message}: {said}; gave up after waiting "
                          f"{self.backoff.total_waited:.0f} s over {len(self.backoff.waits)} "
                          "retries", tail=self.log.tail(20)))
        permanent = verdict.kind == "permanent"
        message = f"{verdict.message}: {said}" if said else verdict.message
        if permanent and verdict.suggestion:
            message += f". {verdict.suggestion}"
        return self._finish(Outcome("failed", message, permanent=permanent,
                                    tail=self.log.tail(20)))

    def _check_evidence(self, now: float) -> Outcome | None:
        early = tree_verdict(self.phase, self.root, self.before, self.exclude,
                             self.others_files())
        if early is not None:
            return self._finish(early)
        self.checks = StepExecution(
            phase=checks_phase(self.phase), attempt=self.attempt,
            root=self.root, env=self.env, log_path=None, redactor=None, timeout_s=None,
            blast_radius_command=self.blast_radius_command, watchdog=self.watchdog, now=now,
            log=self.log)
        self.checks.start()
        outcome = self.checks.poll(now)
        return self._finish(outcome) if outcome is not None else None

    def _finish(self, outcome: Outcome) -> Outcome:
        outcome.cost_usd = self.cost_usd
        if self.reply is not None and self.reply.ok and self.reply.result:
            outcome.note = self.reply.result.strip()[:500]
        self.outcome = outcome
        self.log.close()
        return outcome

    def kill(self) -> None:
        if self.checks is not None:
            self.checks.kill()
        if self.process is not None:
            self.process.kill()
            self.process = None
