"""The questions an /execute-plan run asks before its first phase: a dirty tree, whether to
run the repository's tests first, and whether to go on when they fail.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIRTY_ASK", "PREFLIGHT_ASK", "TESTS_FAILING_ASK", "failing_ask", "opening_ask",
           "preflight_command", "preflight_tests", "uncommitted"]

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
