"""tasks.yaml: the tasks to run, each with an id, a goal, a risk and an area, and optionally
a plan to start from and acceptance lines. Either a list of tasks, or a mapping with a
``tasks:`` list. Every problem is reported with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.config import yaml_node
from orchestrator.engine.lifecycle import Task
from orchestrator.errors import OrchestrateError

__all__ = ["TaskFileError", "load_tasks", "RISKS", "MAX_BYTES"]

RISKS = ("low", "medium", "high")
MAX_BYTES = 1 << 20
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KEYS = {"id", "goal", "risk", "area", "plan", "acceptance"}


class TaskFileError(OrchestrateError):
    """A task file that cannot be run; the message names the file and line."""


def load_tasks(path: str) -> list[Task]:
    """The tasks of the file at ``path``, or TaskFileError with every problem found."""
    import yaml

    file = Path(path)
    try:
        if not file.is_file():
            raise TaskFileError(f"{path}: no such file" if not file.exists()
                                else f"{path}: not a regular file")
        with open(file, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise TaskFileError(f"{path}: cannot read it: {error.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise TaskFileError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TaskFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    loader = yaml.SafeLoader(text)
    try:
        return _tasks(loader, yaml_node(loader, path, TaskFileError), path)
    finally:
        loader.dispose()


def _tasks(loader, document, path: str) -> list[Task]:
    import yaml

    if document is None:
        raise TaskFileError(f"{path}:1: no tasks")
    node = document
    if isinstance(node, yaml.MappingNode):
        found = [value for key, value in node.value if key.value == "tasks"]
        if not found:
            raise TaskFileError(f"{path}:{node.start_mark.line + 1}: expected a list of tasks, "
                                f"or a `tasks:` list")
        node = found[0]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise TaskFileError(f"{path}:{node.start_mark.line + 1}: expected a list of tasks "
                            f"(`- id: ...` entries)")
    problems: list[str] = []
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(f"{path}:{line}: a task is a mapping of id, goal, risk, area, "
                            f"plan and acceptance")
            continue
        lines = {key.value: key.start_mark.line + 1 for key, _ in item.value}
        try:
            data = loader.construct_mapping(item, deep=True)
        except (yaml.YAMLError, TypeError) as exc:
            problems.append(f"{path}:{line}: {exc}")
            continue
        task = _task(data, lines, line, path, problems)
        if task is None:
            continue
        if task.id in seen:
            problems.append(f"{path}:{line}: task id {task.id!r} is given twice (first on "
                            f"line {seen[task.id]})")
            continue
        seen[task.id] = line
        tasks.append(task)
    if problems:
        raise TaskFileError("\n".join(problems))
    return tasks


def _task(data: dict, lines: dict, line: int, path: str, problems: list[str]) -> Task | None:
    before = len(problems)

    def where(key: str) -> str:
        return f"{path}:{lines.get(key, line)}"

    for key in data:
        if key not in _KEYS:
            problems.append(f"{where(key)}: unknown key {key!r} (known: "
                            f"{', '.join(sorted(_KEYS))})")
    task_id = data.get("id")
    if not isinstance(task_id, str | int) or isinstance(task_id, bool) \
            or not _ID.match(str(task_id)):
        problems.append(f"{where('id')}: a task needs an id of letters, digits, '.', '_' "
                        f"and '-' (got {str(task_id)[:40]!r})")
    goal = data.get("goal")
    if not isinstance(goal, str) or not goal.strip():
        problems.append(f"{where('goal')}: task {task_id}: `goal` must be a non-empty string")
    risk = data.get("risk", "medium")
    if risk not in RISKS:
        problems.append(f"{where('risk')}: task {task_id}: `risk` must be one of "
                        f"{', '.join(RISKS)} (got {str(risk)[:40]!r})")
    area = data.get("area", "general")
    if not isinstance(area, str) or not area.strip():
        problems.append(f"{where('area')}: task {task_id}: `area` must be a string")
    plan = data.get("plan")
    if plan is not None and not isinstance(plan, str):
        problems.append(f"{where('plan')}: task {task_id}: `plan` must be a file's path")
    acceptance = data.get("acceptance", [])
    if isinstance(acceptance, str):
        acceptance = [acceptance]
    if not isinstance(acceptance, list) or not all(isinstance(a, str) for a in acceptance):
        problems.append(f"{where('acceptance')}: task {task_id}: `acceptance` must be a list "
                        f"of strings")
    if len(problems) > before:
        return None
    return Task(id=str(task_id), goal=goal.strip()[:2000], risk=risk, area=area.strip(),
                plan=plan, acceptance=[a[:500] for a in acceptance][:20], line=line,
                folder=f"specs/tasks/{task_id}")
