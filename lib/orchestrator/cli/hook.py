"""`orchestrate hook stop|session-start|record`: Claude Code hooks (docs/hooks.md).

Each reads the hook's JSON input on stdin, calls drivers/hooks.py and prints its answer.
A hook never fails the session: whatever goes wrong, it exits 0 and says nothing.
"""

from __future__ import annotations

__all__ = ["add_hook_parser"]

_EVENTS = {
    "stop": "Stop: block the end of a turn while this session's run has work in flight "
            "or ready, naming the next command",
    "session-start": "SessionStart: tell the model where the project's unfinished run "
                     "stands and how to go on",
    "record": "PostToolUse (Write|Edit) and SubagentStop: note the files the agents wrote "
              "in the run's hook-writes.jsonl",
}


def add_hook_parser(commands, common) -> None:
    hook = commands.add_parser(
        "hook", parents=[common], help="Claude Code hooks (hooks/hooks.json calls these)",
        description="Claude Code hooks: each reads the hook's JSON input on stdin and "
                    "always exits 0. See docs/hooks.md.")
    events = hook.add_subparsers(dest="hook_command", metavar="EVENT")
    events.required = True
    for name, text in _EVENTS.items():
        event = events.add_parser(name, parents=[common], help=text, description=text + ".")
        event.set_defaults(handler=_cmd_hook, event=name)


def _cmd_hook(args) -> int:
    import sys

    from orchestrator.drivers import hooks

    try:
        data = hooks.read_input(sys.stdin.read())
        if args.event == "stop":
            decision = hooks.stop(data)
            answer = None if decision is None else _json(decision)
        elif args.event == "session-start":
            answer = hooks.session_start(data)
        else:
            hooks.record(data)
            answer = None
    except Exception as error:  # a hook must never break the session it serves
        if getattr(args, "debug", False):
            raise
        print(f"orchestrate hook {args.event}: {error}", file=sys.stderr)
        return 0
    if answer:
        sys.stdout.write(answer + "\n")
    return 0


def _json(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)
