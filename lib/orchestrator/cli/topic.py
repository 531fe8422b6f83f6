"""CLI of `topic new|show|artifact|metadata|project-dir`: the topic folders of an
`/orchestrate` workflow (specs/NNN_slug/), the paths of its artifacts and the gist of its
reports, for the bash libraries and the commands that drive the workflow.

Imports happen inside the handlers so that `orchestrate --version` stays fast.
"""

from __future__ import annotations

from orchestrator.cli.output import Result

__all__ = ["add_topic_parser", "TOPIC_SCHEMA", "ARTIFACT_SCHEMA", "METADATA_SCHEMA",
           "PROJECT_DIR_SCHEMA", "topic_fields"]

TOPIC_SCHEMA = "orchestrate/topic@1"
ARTIFACT_SCHEMA = "orchestrate/artifact@1"
METADATA_SCHEMA = "orchestrate/report-metadata@1"
PROJECT_DIR_SCHEMA = "orchestrate/project-dir@1"


def topic_fields() -> tuple[str, ...]:
    """The names `topic new --field` takes: the topic's and its artifact folders'."""
    from orchestrator.playbooks.orchestrate.location import ARTIFACT_KINDS

    return ("topic_path", "topic_number", "topic_name", *ARTIFACT_KINDS)


def add_topic_parser(commands, common) -> None:
    """Register `orchestrate topic ...` on the top-level subparsers."""
    from orchestrator.playbooks.orchestrate.location import ARTIFACT_KINDS

    fields = topic_fields()
    topic = commands.add_parser(
        "topic", parents=[common], help="topic folders for a workflow's artifacts",
        description="Topic folders: specs/NNN_slug/ in the project root ($CLAUDE_PROJECT_DIR "
                    "when set, else the git top level), with reports, plans, summaries, "
                    "debug, scripts and outputs folders for one workflow's artifacts.")
    actions = topic.add_subparsers(dest="topic_command", metavar="SUBCOMMAND")
    actions.required = True

    new = actions.add_parser(
        "new", parents=[common], help="make the next topic folder for a description",
        description="Make specs/NNN_slug/ and its artifact folders: NNN the next free "
                    "number, the slug the description's words (a-z, 0-9, _; at most 50 "
                    "characters). Print the topic folder, its number, name and artifact "
                    "folders.")
    new.add_argument("description", metavar="DESCRIPTION", help="the feature, as typed")
    new.add_argument("--dry-run", action="store_true",
                     help="say what the topic would be; make nothing")
    new.add_argument("--reuse", action="store_true",
                     help="use the latest topic folder with this slug if there is one "
                          "(its missing artifact folders are made again)")
    output = new.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help=f"print one JSON object ({TOPIC_SCHEMA})")
    output.add_argument("--field", action="append", choices=fields, metavar="NAME",
                        help="print only this field's value, one line each, in the order "
                             f"given (repeatable; one of {', '.join(fields)}); for "
                             "scripts")
    new.set_defaults(handler=_cmd_new)

    show = actions.add_parser(
        "show", parents=[common], help="describe a topic folder, existing or not",
        description="Print what `topic new --json` prints for the topic folder TOPIC_DIR "
                    "(specs/NNN_slug), and whether it exists. Makes nothing.")
    show.add_argument("topic_dir", metavar="TOPIC_DIR", help="the topic folder")
    show.add_argument("--json", action="store_true",
                      help=f"print one JSON object ({TOPIC_SCHEMA})")
    show.set_defaults(handler=_cmd_show)

    artifact = actions.add_parser(
        "artifact", parents=[common], help="the path of a topic's next artifact",
        description="Print TOPIC_DIR/KIND/NNN_NAME.md, NNN the next number in that folder "
                    "and NAME made file-safe. The KIND folder is made if missing; the file "
                    "is not: the agent that writes the artifact makes it.")
    artifact.add_argument("topic_dir", metavar="TOPIC_DIR", help="the topic folder")
    artifact.add_argument("kind", metavar="KIND", choices=ARTIFACT_KINDS,
                          help=f"one of {', '.join(ARTIFACT_KINDS)}")
    artifact.add_argument("name", metavar="NAME", help="what the artifact is about")
    artifact.add_argument("--dry-run", action="store_true",
                          help="make no folder either")
    artifact.add_argument("--json", action="store_true",
                          help=f"print one JSON object ({ARTIFACT_SCHEMA})")
    artifact.set_defaults(handler=_cmd_artifact)

    metadata = actions.add_parser(
        "metadata", parents=[common], help="a report's title, summary and key findings",
        description="Print a Markdown report's title (its first heading), summary (the "
                    "first paragraph under Executive Summary, Summary or Overview, else "
                    "after the title; at most 50 words), key findings (up to 5 items under "
                    "Key Findings, Findings or Recommendations) and level-2 headings.")
    metadata.add_argument("report", metavar="REPORT", help="the report file")
    metadata.add_argument("--json", action="store_true",
                          help=f"print one JSON object ({METADATA_SCHEMA})")
    metadata.set_defaults(handler=_cmd_metadata)

    project = actions.add_parser(
        "project-dir", parents=[common], help="the project root",
        description="Print the project root: $CLAUDE_PROJECT_DIR when set, else the git "
                    "top level of the current directory, else the current directory.")
    project.add_argument("--json", action="store_true",
                         help=f"print one JSON object ({PROJECT_DIR_SCHEMA})")
    project.set_defaults(handler=_cmd_project_dir)


def _topic_text(data: dict) -> str:
    lines = [data["topic_path"], f"  number: {data['topic_number']}",
             f"  name: {data['topic_name']}"]
    lines += [f"  {kind}: {path}" for kind, path in data["artifact_paths"].items()]
    return "\n".join(lines) + "\n"


def _field_values(data: dict, names: list[str]) -> str:
    values = (data["artifact_paths"].get(name) or data[name] for name in names)
    return "".join(f"{value}\n" for value in values)


def _cmd_new(args) -> Result:
    from orchestrator.playbooks.orchestrate.location import (
        allocate_topic,
        get_or_create_topic,
        project_dir,
    )

    root = project_dir()
    if args.reuse:
        topic, created = get_or_create_topic(root, args.description, dry_run=args.dry_run)
    else:
        topic = allocate_topic(root, args.description, dry_run=args.dry_run)
        created = not args.dry_run
    data = {"schema": TOPIC_SCHEMA, **topic.to_dict(), "created": created,
            "exists": created or topic.exists(), "dry_run": args.dry_run}
    if args.field:
        return Result(data, _field_values(data, args.field))
    warnings = ["dry run: nothing was made"] if args.dry_run else []
    return Result(data, _topic_text(data), warnings)


def _cmd_show(args) -> Result:
    from orchestrator.playbooks.orchestrate.location import Topic

    topic = Topic.at(args.topic_dir)
    data = {"schema": TOPIC_SCHEMA, **topic.to_dict(), "created": False,
            "exists": topic.exists()}
    note = "" if data["exists"] else "  (does not exist)\n"
    return Result(data, _topic_text(data) + note)


def _cmd_artifact(args) -> Result:
    from orchestrator.playbooks.orchestrate.location import Topic, next_artifact_path

    topic = Topic.at(args.topic_dir)
    path = next_artifact_path(topic, args.kind, args.name, dry_run=args.dry_run)
    data = {"schema": ARTIFACT_SCHEMA, "path": str(path), "kind": args.kind,
            "number": path.name.split("_", 1)[0], "topic_path": str(topic.path)}
    return Result(data, f"{path}\n")


def _cmd_metadata(args) -> Result:
    from orchestrator.playbooks.orchestrate.metadata import extract_report_metadata

    found = extract_report_metadata(args.report)
    lines = [found["title"] or "(no title)"]
    if found["summary"]:
        lines.append(found["summary"])
    lines += [f"- {finding}" for finding in found["key_findings"]]
    if found["sections"]:
        lines.append("sections: " + "; ".join(found["sections"]))
    warnings = []
    if found["binary"]:
        warnings.append(f"{args.report}: a binary file, not a report")
    elif found["truncated"]:
        warnings.append(f"{args.report}: only the first MiB was read")
    return Result({"schema": METADATA_SCHEMA, **found}, "\n".join(lines) + "\n", warnings)


def _cmd_project_dir(args) -> Result:
    from orchestrator.playbooks.orchestrate.location import project_dir

    root = project_dir()
    return Result({"schema": PROJECT_DIR_SCHEMA, "project_dir": str(root)}, f"{root}\n")
