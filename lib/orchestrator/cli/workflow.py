"""`orchestrate workflow summary|pr`: the engine's own closing steps of an /orchestrate run.

They run as steps of the run (ORCHESTRATE_RUN names it), started by the engine itself
(`wf exec`, or the headless runner), not by a person.
"""

from __future__ import annotations

from orchestrator.cli.output import Result

__all__ = ["add_workflow_parser"]


def add_workflow_parser(commands, common) -> None:
    workflow = commands.add_parser(
        "workflow", parents=[common], help="the closing steps of an /orchestrate run",
        description="Steps the engine runs itself at the end of an /orchestrate run: the "
                    "workflow summary and the pull request. They read ORCHESTRATE_RUN.")
    actions = workflow.add_subparsers(dest="workflow_command", metavar="SUBCOMMAND")
    actions.required = True
    summary = actions.add_parser(
        "summary", parents=[common], help="write the workflow summary",
        description="Write summaries/NNN_workflow_summary.md (phases, artifacts, test "
                    "results, debug rounds, cost, a Mermaid gantt) and append the "
                    "cross-references to the plan and the reports.")
    summary.set_defaults(handler=_cmd_summary)
    pr = actions.add_parser(
        "pr", parents=[common], help="write the PR body and open the pull request",
        description="Write the PR body; run `gh pr create` when gh is installed and logged "
                    "in, else print the exact command.")
    pr.set_defaults(handler=_cmd_pr)


def _cmd_summary(args) -> Result:
    from orchestrator.drivers.closing import write_summary

    return Result(None, f"{write_summary()}\n")


def _cmd_pr(args) -> Result:
    from orchestrator.drivers.closing import create_pr

    message, code = create_pr()
    return Result(None, message + "\n", code=code)
