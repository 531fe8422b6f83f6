"""`orchestrate wf ...`: the next-action protocol, one call per process (docs/protocol.md).

Each handler calls the protocol core in drivers/wf.py and prints its answer: one JSON
object with ``--json``, a few plain lines without it.
"""

from __future__ import annotations

from orchestrator.cli.args import amount, positive_int
from orchestrator.cli.output import Result

__all__ = ["add_wf_parser"]


def add_wf_parser(commands, common) -> None:
    import argparse

    wf = commands.add_parser(
        "wf", parents=[common], help="drive a run one call at a time (the slash commands' "
                                     "protocol)",
        description="The next-action protocol: `start` a run, ask `next` what may start, "
                    "perform the actions, `report` each agent action (the engine checks "
                    "the evidence), `exec` each command action, until a `done` action. "
                    "See docs/protocol.md.")
    actions = wf.add_subparsers(dest="wf_command", metavar="SUBCOMMAND")
    actions.required = True
    out = argparse.ArgumentParser(add_help=False, parents=[common])
    out.add_argument("--json", action="store_true", help="print one JSON object")

    start = actions.add_parser(
        "start", parents=[out], help="start a run of a plan, or an /orchestrate workflow",
        description="Create a run for this protocol: of PLAN (--plan), or the /orchestrate "
                    "workflow for a feature DESCRIPTION (research, plan, implementation, "
                    "tests, debug loop, docs, summary, PR). An unfinished run of the same "
                    "plan or description is reported under `resumable`, not overwritten "
                    "(--fresh discards it).")
    start.add_argument("description", metavar="DESCRIPTION", nargs="?",
                       help="the feature to build (quote it); or give --plan")
    start.add_argument("--plan", metavar="PLAN", help="the plan file")
    start.add_argument("--tasks", metavar="TASKS.yaml",
                       help="the next task of this task file to move (/tasks; docs/tasks.md)")
    start.add_argument("--only", metavar="ID", help="with --tasks: this task only")
    start.add_argument("--tasks-arguments-stdin", action="store_true",
                       help="read `/tasks`'s argument string from stdin: the task file and "
                            "optionally one task's id, taken as text")
    start.add_argument("--create-pr", action="store_true",
                       help="end the workflow with a pull request (gh)")
    start.add_argument("--dry-run", action="store_true",
                       help="preview the workflow: type, complexity, topics, agents, paths; "
                            "write nothing")
    start.add_argument("--parallel", action="store_true",
                       help="independent steps run together (the default)")
    start.add_argument("--plan-arguments-stdin", action="store_true",
                       help="read `/execute-plan`'s argument string from stdin: the plan "
                            "file and its flags (--sequential, --fresh), taken as text")
    start.add_argument("--arguments-stdin", action="store_true",
                       help="read the slash command's argument string from stdin: the "
                            "feature and its flags, taken as text (no shell sees it)")
    start.add_argument("--token", metavar="TOKEN",
                       help="with --arguments-stdin or --plan-arguments-stdin: the token "
                            "`orchestrate wf token` printed, which ends the here-document")
    start.add_argument("--jobs", "-j", type=positive_int, metavar="N",
                       help="actions handed out at once (default 4, or the config's jobs)")
    start.add_argument("--max-cost", type=amount, metavar="USD",
                       help="no agent action is handed out once the run has spent this much")
    start.add_argument("--sequential", action="store_true", help="one action at a time")
    start.add_argument("--fresh", action="store_true",
                       help="discard an unfinished run of the same plan")
    start.add_argument("--format", choices=("plan", "spec", "implementation-plan", "spec-kit",
                                            "superpowers"),
                       help="read the plan as this format instead of detecting it")
    start.set_defaults(handler=_cmd_start)

    token = actions.add_parser(
        "token", parents=[out], help="a fresh here-document terminator for the arguments",
        description="Print a fresh random token. The slash commands end the here-document "
                    "that carries their arguments with it: text written before the token "
                    "existed cannot contain it, so no argument can close the here-document "
                    "and reach a shell. Writes nothing.")
    token.set_defaults(handler=_cmd_token)

    nxt = actions.add_parser(
        "next", parents=[out], help="the actions that may start now",
        description="Every action that may start now (agent, command, ask or done); their "
                    "start is journalled. Actions handed out and not yet reported are "
                    "listed under in_flight and never handed out again.")
    nxt.add_argument("run", metavar="RUN")
    nxt.add_argument("--again", metavar="ID",
                     help="hand out in-flight action ID once more (same attempt), for a "
                          "driver that lost it")
    nxt.set_defaults(handler=_cmd_next)

    report = actions.add_parser(
        "report", parents=[out], help="an agent action is over: check its evidence",
        description="The engine checks the evidence on disk (the tree changed, the files "
                    "exist, the checks pass) and answers completed, retry or failed.")
    report.add_argument("run", metavar="RUN")
    report.add_argument("action", metavar="ACTION")
    report.add_argument("--note", metavar="TEXT",
                        help="what the agent said about its work (kept, never the verdict)")
    report.set_defaults(handler=_cmd_report)

    execute = actions.add_parser(
        "exec", parents=[out], help="run a command action",
        description="Run a command action's Run block and checks (timeout, process-group "
                    "kill, output to the step's log) and record the outcome.")
    execute.add_argument("run", metavar="RUN")
    execute.add_argument("action", metavar="ACTION")
    execute.set_defaults(handler=_cmd_exec)

    answer = actions.add_parser("answer", parents=[out], help="answer an ask action",
                                description="Answer an `ask` action with one of its options.")
    answer.add_argument("run", metavar="RUN")
    answer.add_argument("action", metavar="ACTION")
    answer.add_argument("choice", metavar="CHOICE")
    answer.add_argument("--note", metavar="TEXT",
                        help="free text with the choice, such as guidance for a debug round")
    answer.set_defaults(handler=_cmd_answer)

    status = actions.add_parser("status", parents=[out], help="where a run stands",
                                description="Each step's status, what is in flight, and the "
                                            "next command.")
    status.add_argument("run", metavar="RUN")
    status.set_defaults(handler=_cmd_status)


def _show(args, answer: dict) -> Result:
    """The answer as JSON, or as ``key: value`` lines for a person."""
    fields = {key: value for key, value in answer.items() if key != "schema"}
    return Result(answer, "".join(line + "\n" for line in _plain(fields)))


def _plain(value, indent: str = "") -> list[str]:
    """A JSON value as indented ``key: value`` lines; short lists and flat objects on one."""
    def scalar(item) -> str:
        return "none" if item is None else str(item).lower() if isinstance(item, bool) \
            else str(item)

    def flat(item) -> bool:
        return not isinstance(item, (dict, list))

    lines = []
    for key, item in value.items():
        if flat(item):
            lines.append(f"{indent}{key}: {scalar(item)}")
        elif isinstance(item, dict) and all(map(flat, item.values())):
            shown = ", ".join(f"{k}={scalar(v)}" for k, v in item.items())
            lines.append(f"{indent}{key}: {shown or '-'}")
        elif isinstance(item, list) and all(map(flat, item)) and all(
                scalar(entry).strip() for entry in item) and len(", ".join(map(
                    scalar, item))) <= 80:  # a short list; output lines go one per line
            lines.append(f"{indent}{key}: {', '.join(map(scalar, item)) or '-'}")
        elif isinstance(item, dict):
            lines += [f"{indent}{key}:", *_plain(item, indent + "  ")]
        else:
            lines.append(f"{indent}{key}:")
            for entry in item:
                nested = _plain(entry, indent + "    ") if isinstance(entry, dict) \
                    else [f"{indent}    {scalar(entry)}"]
                lines.append(f"{indent}  - {nested[0].strip()}" if nested else f"{indent}  -")
                lines += nested[1:]
    return lines


FLAGS = {"--create-pr": "create_pr", "--dry-run": "dry_run", "--parallel": "parallel",
         "--sequential": "sequential", "--fresh": "fresh"}


def parse_arguments(text: str) -> tuple[str, dict[str, bool]]:
    """The `/orchestrate` argument string: (the feature, the flags it names).

    The known flags are picked out wherever they stand; every other word is the feature's
    text, quotes honoured when they pair up. Nothing is expanded or run.
    """
    import shlex

    try:
        words = shlex.split(text, posix=True)
    except ValueError:  # an unpaired quote: take the words as they are
        words = text.split()
    flags: dict = {name: False for name in FLAGS.values()}
    rest = []
    words = iter(words)
    for word in words:
        if word in FLAGS:
            flags[FLAGS[word]] = True
        elif word == "--resume":
            flags["resume"] = next(words, "")  # the run's name, or "" for the latest
        else:
            rest.append(word)
    return " ".join(rest).strip(), flags


TOKEN_PREFIX = "ORCHESTRATE_ARGS_"
_TOKEN_HEX = 32


def _cmd_token(args) -> Result:
    import secrets

    token = TOKEN_PREFIX + secrets.token_hex(_TOKEN_HEX // 2)
    return Result({"schema": "orchestrate/wf-token@1", "token": token}, f"{token}\n")


def _arguments_from_stdin(args) -> str:
    """The slash command's argument string, as the here-document ended by ``--token``
    carried it: UTF-8 text, at most 64 KiB, without a line that is the token."""
    import re
    import sys

    from orchestrator.errors import UsageError

    flag = "--plan-arguments-stdin" if args.plan_arguments_stdin else \
        "--tasks-arguments-stdin" if args.tasks_arguments_stdin else "--arguments-stdin"
    token = args.token or ""
    if not re.fullmatch(re.escape(TOKEN_PREFIX) + f"[0-9a-f]{{{_TOKEN_HEX}}}", token):
        raise UsageError(f"wf start: {flag} needs --token with a fresh token from "
                         "`orchestrate wf token --json` (it ends the here-document, so no "
                         "argument text can)")
    raw = sys.stdin.buffer.read(64 * 1024 + 1)
    if len(raw) > 64 * 1024:
        raise UsageError(f"wf start: the arguments on stdin are over 64 KiB ({flag})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"wf start: the arguments on stdin are not UTF-8 text (byte "
                         f"{error.start}); nothing was started") from None
    if any(line.strip() == token for line in text.splitlines()):
        raise UsageError("wf start: the arguments hold the here-document's token; run "
                         "`orchestrate wf token --json` again for a fresh one")
    return text


def _cmd_start(args) -> Result:
    from orchestrator.drivers import wf_start
    from orchestrator.errors import UsageError

    if args.token and not (args.arguments_stdin or args.plan_arguments_stdin
                           or args.tasks_arguments_stdin):
        raise UsageError("wf start: --token goes with --arguments-stdin, "
                         "--plan-arguments-stdin or --tasks-arguments-stdin")
    if args.tasks_arguments_stdin:
        words, _ = parse_arguments(_arguments_from_stdin(args))
        words = words.split()
        if not words or len(words) > 2:
            raise UsageError("wf start: expected a task file and at most one task id in "
                             "the arguments")
        args.tasks, args.only = words[0], (words[1] if len(words) == 2 else args.only)
    if args.tasks is not None:
        from orchestrator.drivers import tasks

        if args.plan is not None or args.description is not None:
            raise UsageError("wf start: --tasks goes alone, without a DESCRIPTION or --plan")
        return _show(args, tasks.wf_start(args.tasks, args.only))
    if args.only is not None:
        raise UsageError("wf start: --only goes with --tasks")
    if args.plan_arguments_stdin:
        words, flags = parse_arguments(_arguments_from_stdin(args))
        if not words:
            raise UsageError("wf start: no plan file in the arguments")
        args.plan = words
        args.sequential = args.sequential or flags["sequential"]
        args.fresh = args.fresh or flags["fresh"]
    elif args.arguments_stdin:
        if args.description is not None or args.plan is not None:
            raise UsageError("wf start: --arguments-stdin takes the feature from stdin only")
        description, flags = parse_arguments(_arguments_from_stdin(args))
        if "resume" in flags:
            return _show(args, wf_start.resume_workflow(flags["resume"] or None))
        if not description:
            raise UsageError("wf start: no feature description in the arguments")
        args.description = description
        for name, value in flags.items():
            setattr(args, name, getattr(args, name) or value)

    if (args.plan is None) == (args.description is None):
        raise UsageError("wf start: give a feature DESCRIPTION or --plan PLAN (one of them)")
    if args.sequential and args.parallel:
        raise UsageError("wf start: --parallel and --sequential do not go together")
    if args.plan is not None:
        if args.create_pr or args.dry_run:
            raise UsageError("wf start: --create-pr and --dry-run go with a DESCRIPTION")
        return _show(args, wf_start.start(args.plan, jobs=args.jobs, max_cost=args.max_cost,
                                    sequential=args.sequential, fresh=args.fresh,
                                    plan_format=args.format))
    return _show(args, wf_start.start_workflow(args.description, create_pr=args.create_pr,
                                         dry_run=args.dry_run, sequential=args.sequential,
                                         jobs=args.jobs, max_cost=args.max_cost,
                                         fresh=args.fresh))


def _cmd_next(args) -> Result:
    from orchestrator.drivers import wf

    return _show(args, wf.next_actions(args.run, again=args.again))


def _cmd_report(args) -> Result:
    from orchestrator.drivers import wf

    return _show(args, wf.report(args.run, args.action, note=args.note))


def _cmd_exec(args) -> Result:
    from orchestrator.drivers import wf

    return _show(args, wf.execute(args.run, args.action))


def _cmd_answer(args) -> Result:
    from orchestrator.drivers import wf

    return _show(args, wf.answer(args.run, args.action, args.choice, note=args.note))


def _cmd_status(args) -> Result:
    from orchestrator.drivers import wf

    return _show(args, wf.status(args.run))
