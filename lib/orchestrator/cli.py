"""Command-line adapter: parses arguments, calls the core, prints results.

Start-up matters (the CLI runs once per step of a workflow), so heavy modules are imported
inside the functions that need them.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

PLAN_SCHEMA = "orchestrate/plan@1"
WAVES_SCHEMA = "orchestrate/waves@1"
EXIT_USAGE = 2


def _version() -> str:
    from . import __version__

    return __version__


def _build_parser():
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

    plan = commands.add_parser("plan", help="read, check and schedule plan files",
                               description="Read, check and schedule plan files.",
                               parents=[common])
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND")
    plan_commands.required = True

    plan_args = argparse.ArgumentParser(add_help=False, parents=[common])
    plan_args.add_argument("plan", metavar="PLAN", help="the plan or spec file (Markdown)")
    plan_args.add_argument("--format", choices=("plan", "spec", "implementation-plan"),
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
    return parser


def _print_warnings(check) -> None:
    for warning in check.warnings:
        print(warning, file=sys.stderr)


def _print_json(data: dict) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _cmd_validate(args) -> int:
    from .plan_check import check_plan
    from .render.plan_text import validate_text

    check = check_plan(args.plan, args.format)
    if args.json:
        _print_json(check.to_dict(PLAN_SCHEMA))
    check.require_valid()
    _print_warnings(check)
    if not args.json:
        sys.stdout.write(validate_text(check))
    return 0


def _cmd_waves(args) -> int:
    from .plan_check import check_plan
    from .render.plan_text import waves_text

    check = check_plan(args.plan, args.format).require_valid()
    _print_warnings(check)
    if args.json:
        _print_json(check.to_dict(WAVES_SCHEMA))
    else:
        sys.stdout.write(waves_text(check))
    return 0


def _cmd_graph(args) -> int:
    from .plan_check import check_plan
    from .render.mermaid import flowchart

    check = check_plan(args.plan, args.format).require_valid()
    _print_warnings(check)
    sys.stdout.write(flowchart(check.plan, check.analysis.critical_path))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit code (the console script exits with it)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:
        print(f"orchestrate {_version()}")
        return 0
    from .errors import OrchestrateError, PlanInvalid

    parser = _build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return args.handler(args)
    except PlanInvalid as invalid:
        if debug:
            raise
        for diagnostic in invalid.errors:
            print(diagnostic, file=sys.stderr)
        return invalid.exit_code
    except OrchestrateError as error:
        if debug:
            raise
        print(f"orchestrate: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("orchestrate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
