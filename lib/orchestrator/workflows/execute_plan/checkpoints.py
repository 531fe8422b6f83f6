"""What `/execute-plan` keeps beside the engine's own records: the plan file's
`## Execution Checkpoints` section and the day's execution log under `.ai/logs/`.

Both are recorder listeners, so they follow the run whichever driver moves it. The plan
file changes only inside its checkpoints section (added at the end when missing): every
other byte stays as the author wrote it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from orchestrator.engine.state import RunState
from orchestrator.store import safefs

__all__ = ["DIRTY_ASK", "PREFLIGHT_ASK", "TESTS_FAILING_ASK", "opening_ask", "failing_ask",
           "preflight_command", "EXECUTE_PLAN", "enable", "enabled", "writable_plan",
           "execution_log_path",
           "preflight_tests", "uncommitted", "PlanCheckpoints", "ExecutionLog",
           "with_checkpoints", "SECTION", "final_phases", "FINAL_TESTS", "FINAL_LINT"]

EXECUTE_PLAN = "execute-plan.json"  # in the run's folder: this run keeps the plan's records
SECTION = "## Execution Checkpoints"
FINAL_TESTS, FINAL_LINT = "final:tests", "final:lint"
_MARK_START = "<!-- orchestrate: execution checkpoints, rewritten after each phase -->"


def execution_log_path(root: Path) -> Path:
    """`/execute-plan`'s log of the day: .ai/logs/YYYY-MM-DD.plan-execution-log.md."""
    return root / ".ai" / "logs" / f"{time.strftime('%Y-%m-%d')}.plan-execution-log.md"


DIRTY_ASK = "dirty-tree"
PREFLIGHT_ASK = "run-tests-first"
TESTS_FAILING_ASK = "tests-failing"


def preflight_command(root: Path, config, first_type: str | None) -> str | None:
    """The test command to run before the first phase, or None: a plan that starts with a
    design phase needs no green tests (nothing is built yet), and a project without a test
    command has none to run."""
    if first_type in (None, "design"):
        return None
    from orchestrator.config import detect_test_command

    return detect_test_command(root, config)


def opening_ask(root: Path, config, first_type: str | None, run_dir: Path,
                after: str | None = None) -> dict | None:
    """The question an /execute-plan run asks before its first phase (``after``: the one
    just answered with "go on"), or None. In order: a dirty tree; then whether to run the
    repository's test command at all (it is the repository's own code: never run before
    the user says so, unless the config's ``preflight_tests: true`` does); then, if they
    failed, whether to go on."""
    if after is None:
        dirty = uncommitted(root)
        if dirty:
            return {"id": DIRTY_ASK, "question": (
                "The working tree has uncommitted changes (" + ", ".join(dirty[:5])
                + (", ..." if len(dirty) > 5 else "") + "); the evidence checks compare "
                "the tree before and after each phase. Go on anyway?"),
                "options": [{"id": "continue", "label": "Go on with the changes"},
                            {"id": "stop", "label": "Stop; commit or stash them first"}]}
    command = preflight_command(root, config, first_type)
    if command is None or after in (PREFLIGHT_ASK, TESTS_FAILING_ASK):
        return None
    if not config.preflight_tests:
        return {"id": PREFLIGHT_ASK, "question": (
            f"Run the project's tests (`{command}`) before the first phase? It is the "
            "repository's own command; the phases' checks are clearer on a green start."),
            "options": [{"id": "run", "label": "Run the tests first"},
                        {"id": "skip", "label": "Skip them and start the phases"},
                        {"id": "stop", "label": "Stop here"}]}
    return failing_ask(root, config, first_type, run_dir)


def failing_ask(root: Path, config, first_type: str | None, run_dir: Path) -> dict | None:
    """Run the tests now; the question to ask when they fail, else None."""
    failing = preflight_tests(root, config, first_type, run_dir)
    if not failing:
        return None
    return {"id": TESTS_FAILING_ASK, "question": (
        f"The project's tests fail before any phase ({failing}); the phases' checks may "
        "then fail for reasons of their own. Go on anyway?"),
        "options": [{"id": "continue", "label": "Go on with failing tests"},
                    {"id": "stop", "label": "Stop; fix the tests first"}]}


def preflight_tests(root: Path, config, first_type: str | None, run_dir: Path) -> str | None:
    """Run the project's tests before the first phase; what failed, or None. The output
    goes to the run's folder."""
    import subprocess

    command = preflight_command(root, config, first_type)
    if not command:
        return None
    log = Path(run_dir) / "preflight-tests.log"
    try:
        with open(log, "wb") as out:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=root,
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=config.default_timeout_s)
    except subprocess.TimeoutExpired:
        return f"`{command}` timed out; output in {log}"
    except OSError as error:
        return f"`{command}` could not run: {error}"
    return None if done.returncode == 0 else \
        f"`{command}` exited with status {done.returncode}; output in {log}"


def uncommitted(root: Path) -> list[str]:
    """The paths `git status` reports, less the engine's own folders; [] outside git."""
    import subprocess

    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"],
                              cwd=root, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    paths = [line[3:].strip() for line in done.stdout.splitlines() if len(line) > 3]
    return [path for path in paths if not path.startswith((".claude/", ".ai/"))]


def writable_plan(root: Path, plan_path: str) -> tuple[Path | None, str | None]:
    """The plan file the checkpoints may be written into, or (None, why not).

    Only a regular file inside the project, reached without a link: a plan committed as a
    symbolic link would have the checkpoints written into its target, anywhere.
    """
    import os

    given = Path(os.path.abspath(plan_path))
    where = Path(os.path.realpath(given.parent)) / given.name  # the folders the user chose
    name = Path(plan_path).name
    try:
        where.relative_to(Path(root).resolve())
    except ValueError:
        return None, f"{name} lies outside the project"
    try:
        info = safefs.probe(where)
    except safefs.UnsafePath:
        info = None
    if info is None or not stat_regular(info):
        return None, f"{name} is a symbolic link or not a regular file"
    return where, None


def stat_regular(info) -> bool:
    import stat

    return stat.S_ISREG(info.st_mode)


def enable(run_dir: Path, plan_path: str | None, log_path: Path) -> None:
    """Keep this run's records for /execute-plan (``plan_path`` None: no checkpoints)."""
    data = {"plan": plan_path, "log": str(log_path)}
    safefs.write_atomic(Path(run_dir) / EXECUTE_PLAN, json.dumps(data).encode())


def enabled(run_dir: Path | None) -> dict | None:
    if run_dir is None:
        return None
    try:
        data = json.loads((Path(run_dir) / EXECUTE_PLAN).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def final_phases(test_command: str | None, lint_command: str | None,
                 after: list[str]) -> list:
    """The full test and lint run that ends an /execute-plan run, after every phase."""
    from orchestrator.plan.model import Phase, Script

    phases = []
    for step_id, title, command in ((FINAL_TESTS, "Final test run", test_command),
                                    (FINAL_LINT, "Final lint run", lint_command)):
        if command:
            phases.append(Phase(id=step_id, title=title, line=0, depends_on=list(after),
                                depends_stated=True,
                                scripts=[Script("run", command + "\n", 0)]))
    return phases


def _checkpoints(state: RunState) -> dict:
    from orchestrator.fmt import iso_utc

    phases = {}
    for step in state.steps.values():
        entry = {"status": step.status, "attempts": step.attempts}
        if step.started_at is not None:
            entry["started"] = iso_utc(step.started_at)
        if step.finished_at is not None:
            entry["finished"] = iso_utc(step.finished_at)
        if step.files:
            entry["artifacts"] = list(step.files)
        if step.error and step.status != "completed":
            entry["error"] = step.error.splitlines()[0][:300]
        phases[step.id] = entry
    return {"run": state.name, "status": state.status, "phases": phases}


def with_checkpoints(text: str, state: RunState) -> str:
    """``text`` (a plan) with its checkpoints section set to ``state``'s; the rest kept."""
    import yaml

    body = yaml.safe_dump(_checkpoints(state), sort_keys=False, allow_unicode=True)
    section = f"{SECTION}\n\n{_MARK_START}\n\n```yaml\n{body}```\n"
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return text + separator + section
    start += 1
    end = text.find("\n## ", start + len(SECTION))
    rest = text[end + 1:] if end != -1 else ""
    return text[:start] + section + ("\n" + rest if rest else "")


class PlanCheckpoints:
    """Rewrites the plan's checkpoints section after each step that ends, and at the end."""

    def __init__(self, store):
        self.store = store

    def __call__(self, event: dict, state: RunState) -> None:
        if event["type"] not in ("step_finished", "run_finished", "run_interrupted"):
            return
        settings = enabled(self.store.run_dir)
        if settings is None or not settings.get("plan"):
            return
        path = Path(settings["plan"])
        try:  # never through a link: one planted since the start is left alone
            info = safefs.probe(path)
            if info is None or not stat_regular(info):
                return
            text = safefs.read_regular(path).decode("utf-8")
        except (OSError, ValueError, safefs.UnsafePath):
            return  # the plan moved or is not text: the run goes on from its own copy
        updated = with_checkpoints(text, state)
        if event["type"] == "run_finished":
            updated = _status_line(updated, state.status)
        if updated != text:
            try:
                safefs.write_atomic(path, updated.encode("utf-8"), mode=info.st_mode & 0o7777)
            except (OSError, safefs.UnsafePath):
                return


def _status_line(text: str, status: str) -> str:
    """The plan's `**Status**:` line, when it has one in its first lines, says the outcome."""
    import re

    word = {"completed": "Completed", "failed": "Failed"}.get(status, status)
    lines = text.split("\n")
    for index, line in enumerate(lines[:40]):
        found = re.match(r"^(\s*[-*]?\s*\*\*Status\*\*\s*:\s*)(.*)$", line)
        if found:
            lines[index] = f"{found.group(1)}{word}"
            return "\n".join(lines)
    return text


class ExecutionLog:
    """`.ai/logs/YYYY-MM-DD.plan-execution-log.md`: one line per phase event."""

    def __init__(self, store):
        self.store = store

    def __call__(self, event: dict, state: RunState) -> None:
        settings = enabled(self.store.run_dir)
        if settings is None:
            return
        from orchestrator.render.run_log import run_log_lines

        lines = run_log_lines(event, state)
        if not lines:
            return
        path = Path(settings["log"])
        fresh = not path.exists()
        fd = safefs.open_for_append(path, create_dirs=True)
        with open(fd, "a", encoding="utf-8", closefd=True) as out:
            if fresh:
                out.write(f"# Plan execution log, {time.strftime('%Y-%m-%d')}\n\n")
            out.write("".join(f"- {line}\n" for line in lines))
