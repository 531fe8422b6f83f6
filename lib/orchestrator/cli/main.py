"""Command-line adapter: parses arguments, calls the core, prints results.

Start-up matters (the CLI runs once per step of a run), so heavy modules are imported
inside the functions that need them.
"""

from __future__ import annotations

import sys

from orchestrator.cli.args import amount, positive_int
from orchestrator.cli.checkpoint import add_checkpoint_parser
from orchestrator.cli.error import add_error_parser
from orchestrator.cli.hook import add_hook_parser
from orchestrator.cli.output import Result, print_json, render
from orchestrator.cli.runs import _cmd_run, _cmd_runs, _cmd_status
from orchestrator.cli.tasks import TASK_COMMANDS
from orchestrator.cli.topic import add_topic_parser
from orchestrator.cli.wf import add_wf_parser
from orchestrator.cli.workflow import add_workflow_parser
from orchestrator.cli.worktrees import add_worktrees_parser

__all__ = ["main"]

PLAN_SCHEMA = "orchestrate/plan@1"
WAVES_SCHEMA = "orchestrate/waves@1"


def _version() -> str:
    from orchestrator import __version__

    return __version__


def _build_parser(selected: str | None = None):
    """The argument parser. With ``selected`` (a known command), only that command is
    built: building them all costs start-up time on every call. Without it (``--help``,
    a mistyped command), all of them, so that help and errors list every command.
    """
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks for errors")

    parser = argparse.ArgumentParser(
        prog="orchestrate",
        description="Verified, resumable multi-agent development workflows for Claude Code.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"orchestrate {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, build in _COMMANDS.items():
        if selected is None:
            build(commands, common)
        elif selected == name:
            build(commands, common)
            break
    return parser


def _add_plan(commands, common) -> None:
    import argparse

    plan = commands.add_parser("plan", help="read, check and schedule plan files",
                               description="Read, check and schedule plan files.",
                               parents=[common])
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND")
    plan_commands.required = True

    plan_args = argparse.ArgumentParser(add_help=False, parents=[common])
    plan_args.add_argument("plan", metavar="PLAN", help="the plan or spec file (Markdown)")
    plan_args.add_argument("--format", choices=("plan", "spec", "implementation-plan",
                                                "spec-kit", "superpowers"),
                           help="read the file as this format instead of detecting it")

    validate = plan_commands.add_parser(
        "validate", parents=[plan_args], help="check a plan; exit 0 valid, 2 invalid",
        description="Parse and check a plan. Errors and warnings are printed to stderr as "
                    "PLAN:LINE: message; exit 0 when valid, 2 when not.")
    validate.add_argument("--json", action="store_true",
                          help=f"print one JSON object ({PLAN_SCHEMA}) with the phases")
    validate.set_defaults(handler=_cmd_validate)

    waves = plan_commands.add_parser(
        "waves", parents=[plan_args], help="dependency levels and the critical path",
        description="Show the plan's waves (dependency levels) and its critical path.")
    waves.add_argument("--json", action="store_true",
                       help=f"print one JSON object ({WAVES_SCHEMA})")
    waves.set_defaults(handler=_cmd_waves)

    graph = plan_commands.add_parser(
        "graph", parents=[plan_args], help="the dependency graph as a Mermaid flowchart",
        description="Print the plan's dependency graph as a Mermaid flowchart.")
    graph.set_defaults(handler=_cmd_graph)


def _add_run(commands, common) -> None:
    run = commands.add_parser(
        "run", parents=[common], help="run a plan or spec headless, or resume a run",
        description="Run a plan's phases in dependency order (a step starts as soon as its "
                    "dependencies are done): Run blocks with bash, the other phases with an "
                    "agent (claude -p); check each step's evidence on disk, and "
                    "journal every outcome so the run can be resumed. Exit 0 all completed, "
                    "1 some failed or timed out, 2 bad input or run locked, 3 paused for a "
                    "human, 130 interrupted.")
    run.add_argument("plan", metavar="PLAN", nargs="?", help="the plan or spec file")
    run.add_argument("--resume", metavar="NAME", help="continue the stored run NAME")
    run.add_argument("--jobs", "-j", type=positive_int, metavar="N",
                     help="steps running at once (default 4, or the config's jobs)")
    run.add_argument("--fresh", action="store_true",
                     help="discard an unfinished run of the same plan and start over")
    run.add_argument("--dry-run", action="store_true",
                     help="print the schedule; run nothing, write nothing")
    run.add_argument("--format", choices=("plan", "spec", "implementation-plan",
                                          "spec-kit", "superpowers"),
                     help="read the plan as this format instead of detecting it")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object (orchestrate/run@1) at the end, no progress")
    run.add_argument("--max-cost", type=amount, metavar="USD",
                     help="no agent step starts once the run has spent this much; the run "
                          "then pauses (exit 3) until resumed with a higher cap")
    run.add_argument("--isolate", action="store_true",
                     help="each step in a git worktree of its own, merged back as it "
                          "completes; the current branch gets the work at the end")
    run.add_argument("--agent-cmd", metavar="TEMPLATE",
                     help="run agent steps with this command instead of `claude -p`; "
                          "{prompt_file}, {agent}, {model}, {budget} are filled in")
    run.set_defaults(handler=_cmd_run)


def _add_status(commands, common) -> None:
    status = commands.add_parser(
        "status", parents=[common], help="the steps of a run and where they stand",
        description="Show a stored run: each step's status, attempts, times and error. "
                    "Without NAME, the most recently updated run.")
    status.add_argument("name", metavar="NAME", nargs="?", help="the run (default: latest)")
    status.add_argument("--json", action="store_true",
                        help="print one JSON object (orchestrate/status@1)")
    status.set_defaults(handler=_cmd_status)


def _add_runs(commands, common) -> None:
    runs = commands.add_parser(
        "runs", parents=[common], help="list stored runs",
        description="List the runs stored for this project.")
    runs.add_argument("--state", metavar="S",
                      choices=("running", "completed", "failed", "interrupted",
                               "awaiting_human"),
                      help="only runs with this status")
    runs.add_argument("--json", action="store_true",
                      help="print one JSON object (orchestrate/runs@1)")
    runs.set_defaults(handler=_cmd_runs)


_COMMANDS = {
    "plan": _add_plan,
    "run": _add_run,
    "status": _add_status,
    "runs": _add_runs,
    "checkpoint": add_checkpoint_parser,
    "error": add_error_parser,
    "wf": add_wf_parser,
    "workflow": add_workflow_parser,
    "topic": add_topic_parser,
    "hook": add_hook_parser,
    **TASK_COMMANDS,
    "worktrees": add_worktrees_parser,
}


def _warnings(check) -> list[str]:
    return [str(warning) for warning in check.warnings]


def _cmd_validate(args) -> Result:
    from orchestrator.plan.check import check_plan
    from orchestrator.render.plan_text import validate_text

    check = check_plan(args.plan, args.format)
    if args.json and not check.valid:
        print_json(check.to_dict(PLAN_SCHEMA))  # the report says what is wrong, then exit 2
    check.require_valid()
    return Result(check.to_dict(PLAN_SCHEMA), validate_text(check), _warnings(check))


def _cmd_waves(args) -> Result:
    from orchestrator.plan.check import check_plan
    from orchestrator.render.plan_text import waves_text

    check = check_plan(args.plan, args.format).require_valid()
    return Result(check.to_dict(WAVES_SCHEMA), waves_text(check), _warnings(check))


def _cmd_graph(args) -> Result:
    from orchestrator.plan.check import check_plan
    from orchestrator.render.mermaid import flowchart

    check = check_plan(args.plan, args.format).require_valid()
    return Result(None, flowchart(check.plan, check.analysis.critical_path), _warnings(check))


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit code (the console script exits with it)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:
        print(f"orchestrate {_version()}")
        return 0
    if argv[:1] == ["--resume"]:  # the seed's spelling: orchestrate --resume NAME
        argv = ["run", *argv]
    from orchestrator.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, OrchestrateError, PlanInvalid

    selected = next((word for word in argv if not word.startswith("-")), None)
    parser = _build_parser(selected if selected in _COMMANDS else None)
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    as_json = getattr(args, "json", False)
    from orchestrator.cli import output

    output.printed = False  # one answer per call, also when called in-process
    try:
        code = render(args.handler(args), as_json)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader went away (`| head -c1`): not an error
        return _quiet_broken_pipe()
    except PlanInvalid as invalid:
        if debug:
            raise
        for diagnostic in invalid.errors:
            print(diagnostic, file=sys.stderr)
        return _json_error(as_json, "; ".join(map(str, invalid.errors[:3])),
                           invalid.exit_code)
    except OrchestrateError as error:
        if debug:
            raise
        print(f"orchestrate: {error}", file=sys.stderr)
        return _json_error(as_json, str(error), error.exit_code)
    except OSError as error:  # the file system refused something: a bad path, a full disk
        if debug:
            raise
        print(f"orchestrate: {error}", file=sys.stderr)
        return _json_error(as_json, str(error), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("orchestrate: interrupted", file=sys.stderr)
        return _json_error(as_json, "interrupted", EXIT_INTERRUPTED)


def _json_error(as_json: bool, message: str, code: int) -> int:
    """Under --json, an error is a JSON object on stdout too, unless the command already
    printed its answer (`plan validate --json` of an invalid plan)."""
    from orchestrator.cli import output

    if as_json and not output.printed:
        try:
            output.print_json({"schema": "orchestrate/error@1", "message": message,
                               "exit_code": code})
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_broken_pipe()
    return code


def _quiet_broken_pipe() -> int:
    """Point stdout at /dev/null so that the interpreter's last flush says nothing."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except OSError:
        pass
    return 0
