"""CLI of `checkpoint save|load|list|delete`: parse the arguments, call the core, print.

Imports happen inside the handlers so that `orchestrate --version` stays fast.
"""

from __future__ import annotations

import sys

from orchestrator.cli.output import Result

__all__ = ["add_checkpoint_parser", "CHECKPOINTS_SCHEMA"]

CHECKPOINTS_SCHEMA = "orchestrate/checkpoints@1"
EXIT_USAGE = 2


def add_checkpoint_parser(commands, common) -> None:
    """Register `orchestrate checkpoint ...` on the top-level subparsers."""
    checkpoint = commands.add_parser(
        "checkpoint", parents=[common], help="save and load named state between a script's steps",
        description="Named checkpoints: JSON objects that scripts save between their steps "
                    "and load to resume. Stored under the state folder as "
                    "checkpoints/NAME.json; secrets are redacted before they are written.")
    actions = checkpoint.add_subparsers(dest="checkpoint_command", metavar="SUBCOMMAND")
    actions.required = True

    save = actions.add_parser(
        "save", parents=[common], help="set keys of a checkpoint (created if missing)",
        description="Merge KEY=VALUE pairs (and --json) into the checkpoint's keys and print "
                    "its file. A VALUE that parses as JSON (a number, true, false, null, an "
                    "array, an object, a quoted string) is stored as that; any other VALUE is "
                    "stored as the plain string.")
    save.add_argument("name", metavar="NAME", help="the checkpoint (any text; made file-safe)")
    save.add_argument("pairs", metavar="KEY=VALUE", nargs="*", help="a key to set")
    save.add_argument("--json", metavar="JSON_OBJECT", dest="json_object",
                      help="keys to set, as one JSON object (KEY=VALUE pairs win)")
    save.add_argument("--replace", action="store_true",
                      help="make these keys the whole checkpoint instead of merging")
    save.set_defaults(handler=_cmd_save)

    load = actions.add_parser(
        "load", parents=[common], help="print a checkpoint, or one of its keys",
        description="Print the checkpoint's data as a JSON object, or the value of KEY: a "
                    "string as it is, any other value as JSON. Exit 1 when KEY is absent, 2 "
                    "when the checkpoint is.")
    load.add_argument("name", metavar="NAME", help="the checkpoint")
    load.add_argument("key", metavar="KEY", nargs="?", help="print only this key's value")
    load.set_defaults(handler=_cmd_load)

    listing = actions.add_parser(
        "list", parents=[common], help="the stored checkpoints",
        description="List the checkpoints stored for this project, by name.")
    listing.add_argument("--json", action="store_true",
                         help=f"print one JSON object ({CHECKPOINTS_SCHEMA})")
    listing.set_defaults(handler=_cmd_list)

    delete = actions.add_parser(
        "delete", parents=[common], help="remove a checkpoint",
        description="Remove the checkpoint's file, also one that cannot be read. Exit 2 when "
                    "there is no such checkpoint.")
    delete.add_argument("name", metavar="NAME", help="the checkpoint")
    delete.set_defaults(handler=_cmd_delete)


def _usage(command: str, message: str) -> int:
    print(f"orchestrate checkpoint {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _dumps(value, indent: int | None = None) -> str:
    import json

    return json.dumps(value, indent=indent, ensure_ascii=False)


def _value(text: str, max_depth: int):
    """JSON when ``text`` is JSON (NaN and Infinity are not), else the plain string;
    JSONTooDeep when it nests past ``max_depth``."""
    from orchestrator.jsonio import JSONTooDeep, loads_bounded

    def no_constants(name: str):
        raise ValueError(name)

    try:
        return loads_bounded(text, "value", max_depth, parse_constant=no_constants)
    except JSONTooDeep:
        raise
    except ValueError:
        return text


def _updates(args) -> dict | str:
    """The keys to save, or what is wrong with the arguments."""
    from orchestrator.jsonio import JSONTooDeep, loads_bounded
    from orchestrator.store.checkpoints import MAX_DEPTH

    too_deep = f"checkpoint values may nest at most {MAX_DEPTH} levels deep"
    updates: dict = {}
    if args.json_object is not None:
        try:
            parsed = loads_bounded(args.json_object, "--json", MAX_DEPTH + 1)
        except JSONTooDeep:
            return too_deep
        except ValueError as error:
            return f"--json is not valid JSON: {error}"
        if not isinstance(parsed, dict):
            return f"--json must be a JSON object, not {type(parsed).__name__}"
        updates.update(parsed)
    for pair in args.pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            return f"expected KEY=VALUE, got {pair!r}"
        try:
            updates[key] = _value(text, MAX_DEPTH)
        except JSONTooDeep:
            return too_deep
    return updates


def _cmd_save(args) -> int:
    from orchestrator.store.checkpoints import checkpoints_dir, save_checkpoint

    updates = _updates(args)
    if isinstance(updates, str):
        return _usage("save", updates)
    record = save_checkpoint(args.name, updates, replace=args.replace)
    return Result(None, f"{checkpoints_dir() / (record['name'] + '.json')}\n")


def _cmd_load(args) -> int:
    from orchestrator.store.checkpoints import load_checkpoint

    record = load_checkpoint(args.name)
    data = record["data"]
    if args.key is None:
        return Result(None, _dumps(data, indent=2) + "\n")
    if args.key not in data:
        known = ", ".join(data) if data else "none"
        print(f"orchestrate: checkpoint {record['name']} has no key {args.key!r} "
              f"(keys: {known})", file=sys.stderr)
        return 1
    value = data[args.key]
    return Result(None, (value if isinstance(value, str) else _dumps(value)) + "\n")


def _cmd_list(args) -> int:
    from orchestrator.store.checkpoints import checkpoints_dir, list_checkpoints

    warnings: list[str] = []
    infos = list_checkpoints(warnings=warnings)
    data = {"schema": CHECKPOINTS_SCHEMA, "folder": str(checkpoints_dir()),
            "checkpoints": [info.to_dict() for info in infos]}
    if infos:
        from orchestrator import fmt

        rows = [[info.name, info.updated_at, ", ".join(info.keys) or "-"] for info in infos]
        text = fmt.table(["NAME", "UPDATED", "KEYS"], rows)
    else:
        text = f"No checkpoints under {checkpoints_dir()}.\n"
    return Result(data, text, [f"orchestrate: {warning}" for warning in warnings])


def _cmd_delete(args) -> int:
    from orchestrator.store.checkpoints import delete_checkpoint

    path = delete_checkpoint(args.name)
    return Result(None, f"deleted {path}\n")
