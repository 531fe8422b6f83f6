"""The task lifecycle's commands: `tasks run`, and the review queue a person works from
(`summary`, `review`, `task`, `active`, `list-tasks`, `clean-state`)."""

from __future__ import annotations

from orchestrator.cli.args import amount, positive_int
from orchestrator.cli.output import Result
from orchestrator.errors import EXIT_FAILED, EXIT_OK, EXIT_PAUSED, UsageError

__all__ = ["TASK_COMMANDS"]

def _json_flag(parser, schema: str) -> None:
    parser.add_argument("--json", action="store_true",
                        help=f"print one JSON object ({schema})")


def add_tasks(commands, common) -> None:
    tasks = commands.add_parser(
        "tasks", parents=[common], help="run tasks through their lifecycle",
        description="Tasks with a lifecycle: planning, plan review, implementation with "
                    "code review, and a quality gate (docs/tasks.md).")
    actions = tasks.add_subparsers(dest="tasks_command", metavar="SUBCOMMAND")
    actions.required = True
    run = actions.add_parser(
        "run", parents=[common], help="run every task of a tasks.yaml",
        description="Run each task as a run of its own, at most --jobs at once. A task that "
                    "has run before is resumed where it stopped; one waiting for a person "
                    "is left waiting. Writes ORCHESTRATOR_RUN_LOG.md. Exit 0: all done; 1: "
                    "one failed; 3: one waits for a review.")
    run.add_argument("file", metavar="TASKS.yaml")
    run.add_argument("--jobs", "-j", type=positive_int, default=1, metavar="N",
                     help="tasks at once (default 1)")
    run.add_argument("--max-cost", type=amount, metavar="USD",
                     help="stop starting agents once all tasks together have spent this")
    run.add_argument("--agent-cmd", metavar="TEMPLATE",
                     help="run agents with this command template instead of claude -p")
    run.add_argument("--isolate", action="store_true",
                     help="a task's implementation and fix steps each in a git worktree of "
                          "their own, merged as they complete (also `isolate: true`)")
    run.add_argument("--only", metavar="ID", help="run this one task, in this process")
    _json_flag(run, "orchestrate/tasks-run@1")
    run.set_defaults(handler=_cmd_run)
    states = actions.add_parser(
        "states", parents=[common], help="the lifecycle as Mermaid state diagrams",
        description="Print the task's and an implementation step's states and transitions "
                    "as Mermaid state diagrams, drawn from the engine's transition table.")
    _json_flag(states, "orchestrate/task-states@1")
    states.set_defaults(handler=_cmd_states)


def add_summary(commands, common) -> None:
    parser = commands.add_parser("summary", parents=[common], help="tasks at a glance",
                                 description="Tasks, active ones, those needing a review, "
                                             "and the total cost.")
    _json_flag(parser, "orchestrate/tasks-summary@1")
    parser.set_defaults(handler=_cmd_summary)


def add_review(commands, common) -> None:
    parser = commands.add_parser("review", parents=[common], help="tasks waiting for a person",
                                 description="Each task waiting for a person: why, and the "
                                             "reviewer's concerns.")
    _json_flag(parser, "orchestrate/tasks-review@1")
    parser.set_defaults(handler=_cmd_review)


def add_task(commands, common) -> None:
    parser = commands.add_parser(
        "task", parents=[common], help="one task; approve or reject it",
        description="Show one task. --approve continues a task waiting for a review where "
                    "it waited (the next `orchestrate tasks run`, or the slash command); "
                    "--reject marks it FAILED with --reason.")
    parser.add_argument("id", metavar="ID")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--approve", action="store_true", help="approve and continue")
    choice.add_argument("--reject", action="store_true", help="reject: the task fails")
    parser.add_argument("--reason", metavar="TEXT", help="why (with --reject)")
    _json_flag(parser, "orchestrate/task@1")
    parser.set_defaults(handler=_cmd_task)


def add_active(commands, common) -> None:
    parser = commands.add_parser("active", parents=[common], help="tasks in progress",
                                 description="Tasks between planning and the quality gate.")
    _json_flag(parser, "orchestrate/tasks@1")
    parser.set_defaults(handler=_cmd_active)


def add_list(commands, common) -> None:
    parser = commands.add_parser("list-tasks", parents=[common], help="every task",
                                 description="Every task that has run here.")
    parser.add_argument("--state", metavar="S", type=str.upper,
                        help="only tasks in this state (e.g. done, failed, awaiting_human)")
    _json_flag(parser, "orchestrate/tasks@1")
    parser.set_defaults(handler=_cmd_list)


def add_clean(commands, common) -> None:
    parser = commands.add_parser("clean-state", parents=[common], help="forget every task",
                                 description="Remove every task's run and the run log. "
                                             "Refused while any task's run is locked.")
    parser.add_argument("--force", action="store_true", help="really remove them")
    _json_flag(parser, "orchestrate/clean-state@1")
    parser.set_defaults(handler=_cmd_clean)


TASK_COMMANDS = {"tasks": add_tasks, "summary": add_summary, "review": add_review,
                 "task": add_task, "active": add_active, "list-tasks": add_list,
                 "clean-state": add_clean}


def _line(view: dict) -> str:
    return f"  [{view['state'].lower()}] {view['id']}: {view['goal'].splitlines()[0][:80]}\n"


def _cmd_run(args) -> Result:
    from orchestrator.drivers import tasks

    if args.only:
        state = tasks.run_task(args.file, args.only, max_cost=args.max_cost,
                               agent_cmd=args.agent_cmd, isolate=args.isolate)
        return Result({"schema": "orchestrate/task-run@1", "id": args.only, "state": state},
                      f"task {args.only}: {state}\n", code=_code([state]))
    outcome = tasks.run_tasks(args.file, jobs=args.jobs, max_cost=args.max_cost,
                              agent_cmd=args.agent_cmd, isolate=args.isolate,
                              say=(lambda line: None) if args.json else
                              (lambda line: print(line, flush=True)))
    states = [view["state"] for view in outcome["tasks"]]
    text = "".join(_line(view) for view in outcome["tasks"]) + f"run log: {outcome['run_log']}\n"
    return Result({"schema": "orchestrate/tasks-run@1", **outcome}, text, code=_code(states))


def _cmd_states(args) -> Result:
    from orchestrator.engine import lifecycle
    from orchestrator.render.lifecycle_diagram import diagrams

    data = {"schema": "orchestrate/task-states@1",
            "task": {state: sorted(lifecycle.TASK_TRANSITIONS[state])
                     for state in lifecycle.TASK_STATES},
            "step": {state: sorted(lifecycle.STEP_TRANSITIONS[state])
                     for state in lifecycle.STEP_STATES}}
    return Result(data, diagrams())


def _code(states: list[str]) -> int:
    if "FAILED" in states:
        return EXIT_FAILED
    if "AWAITING_HUMAN" in states:
        return EXIT_PAUSED
    return EXIT_OK if all(state == "DONE" for state in states) else EXIT_FAILED


def _views() -> list[dict]:
    from orchestrator.drivers import tasks

    return [view.to_dict() for view in tasks.views()]


def _active(views: list[dict]) -> list[dict]:
    from orchestrator.playbooks.tasks.queue import ACTIVE

    return [view for view in views if view["state"] in ACTIVE]


def _cmd_summary(args) -> Result:
    views = _views()
    active = _active(views)
    review = [v for v in views if v["state"] == "AWAITING_HUMAN"]
    cost = round(sum(v["cost_usd"] for v in views), 6)
    data = {"schema": "orchestrate/tasks-summary@1", "tasks": len(views),
            "active": len(active), "needs_review": len(review),
            "done": sum(v["state"] == "DONE" for v in views),
            "failed": sum(v["state"] == "FAILED" for v in views), "total_cost_usd": cost}
    from orchestrator.fmt import money

    text = (f"Orchestrator summary\nTotal tasks: {len(views)}\nActive tasks: {len(active)}\n"
            f"Needs human review: {len(review)}\nDone: {data['done']}\n"
            f"Failed: {data['failed']}\nTotal cost: {money(cost)}\n")
    return Result(data, text)


def _cmd_review(args) -> Result:
    waiting = [v for v in _views() if v["state"] == "AWAITING_HUMAN"]
    if not waiting:
        text = "No task needs a review.\n"
    else:
        text = f"{len(waiting)} task(s) need human review:\n"
        for view in waiting:
            text += (f"\nTask ID: {view['id']}\nGoal: {view['goal']}\nWhy: {view['why']}\n"
                     f"Plan review: {view['plan_review'] or 'none yet'}\nConcerns:\n")
            text += "".join(f"  - {concern}\n" for concern in view["concerns"]) or "  (none)\n"
            text += f"Approve: orchestrate task {view['id']} --approve\n"
    return Result({"schema": "orchestrate/tasks-review@1", "tasks": waiting}, text)


def _cmd_task(args) -> Result:
    from orchestrator.drivers import tasks

    if args.reason and not args.reject:
        raise UsageError("task: --reason goes with --reject")
    if args.approve or args.reject:
        choice = "approve" if args.approve else "reject"
        view = tasks.answer_review(args.id, choice, args.reason)
        text = (f"Task {args.id} approved: continue it with `orchestrate tasks run FILE` or "
                f"the slash command\n" if args.approve else
                f"Task {args.id} rejected and marked as failed\n")
        return Result({"schema": "orchestrate/task@1", **view}, text)
    view = tasks.view_of(args.id).to_dict()
    lines = [f"{key}: {value}\n" for key, value in view.items() if key != "steps"]
    lines += [f"step {step}: {state}\n" for step, state in view["steps"].items()]
    return Result({"schema": "orchestrate/task@1", **view}, "".join(lines))


def _cmd_active(args) -> Result:
    active = _active(_views())
    text = (f"{len(active)} active task(s):\n" + "".join(_line(v) for v in active)
            if active else "No task is active.\n")
    return Result({"schema": "orchestrate/tasks@1", "tasks": active}, text)


def _cmd_list(args) -> Result:
    from orchestrator.engine.lifecycle import TASK_STATES

    if args.state is not None and args.state not in TASK_STATES:
        raise UsageError(f"list-tasks: --state {args.state.lower()!r} is not a state of a "
                         f"task ({', '.join(state.lower() for state in TASK_STATES)})")
    views = [v for v in _views() if args.state is None or v["state"] == args.state]
    text = "".join(_line(v) for v in views) or "No tasks.\n"
    return Result({"schema": "orchestrate/tasks@1", "tasks": views}, text)


def _cmd_clean(args) -> Result:
    from orchestrator.drivers import tasks

    if not args.force:
        raise UsageError("clean-state removes every task's run: add --force")
    removed = tasks.clean_state()
    return Result({"schema": "orchestrate/clean-state@1", "removed": removed},
                  f"removed {len(removed)} task run(s)\n")
