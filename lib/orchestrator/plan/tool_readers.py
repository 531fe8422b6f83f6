"""Readers for plans written by other tools: spec-kit ``tasks.md`` and superpowers plans.

Both read the same block stream as the native formats and produce the same plan model; they
differ in what a step is. In spec-kit a step is one task line (``- [ ] T001 [P] ...``) and
the phases only place tasks in the graph; in superpowers a step is one ``### Task N:``.
"""

from __future__ import annotations

import re

from orchestrator.errors import Diagnostic
from orchestrator.plan import fields
from orchestrator.plan.field_reader import FieldReader
from orchestrator.plan.markdown import Block
from orchestrator.plan.model import Phase, Script
from orchestrator.plan.sections import phase_heading, section_kind

__all__ = ["detect_tool_format", "read_spec_kit", "read_superpowers"]

_TASK_LINE = re.compile(r"^\[(?P<box>[ xX])\]\s*(?P<id>T\d{3,})\b[\s:.\-–—]*(?P<rest>.*)$")
_TAG = re.compile(r"^\[\s*(?P<tag>[^\]\s]+)\s*\]\s*")
_STORY_TAG = re.compile(r"^(?:US|STORY)-?\d+$", re.IGNORECASE)
_STORY_PHASE = re.compile(r"\buser\s+story\b|\bUS\s?\d+\b", re.IGNORECASE)
_EXTENSION = re.compile(r"[\w\-]\.[A-Za-z][A-Za-z0-9]{0,7}$")
_NOT_PATHS = {"e.g", "i.e", "etc", "vs", "and/or", "either/or", "i/o", "input/output",
              "read/write", "n/a"}
_TOKEN_TRIM = "`'\"()[]{}<>,;:!?*"

_SP_TASK = re.compile(r"^task\s+(?P<id>\d+(?:\.\d+)*[a-z]?)\s*(?:[:.)\-–—]\s*(?P<title>.*))?$",
                      re.IGNORECASE)
_SP_FILE = re.compile(r"^(?:create|modify|test|tests|delete|remove|rename|move|update)\s*:\s*(.*)$",
                      re.IGNORECASE)
_LINE_RANGE = re.compile(r":\d+(?:\s*[-–]\s*\d+)?$")
_STEP = re.compile(r"^step\s+\d+", re.IGNORECASE)
_EXPECTED = re.compile(r"^expected\s*:\s*(.*)$", re.IGNORECASE)
_EXPECTS_FAILURE = re.compile(r"\b(?:fail|fails|failing|failure|error|errors)\b", re.IGNORECASE)


# --- detection ----------------------------------------------------------------------------

def detect_tool_format(blocks: list[Block]) -> str | None:
    """``spec-kit`` for T001-style task lines under a ``Phase`` heading; ``superpowers`` for
    ``Task N:`` headings holding a ``Files:`` field; None for the native formats."""
    in_phase = False
    task_level = 0  # level of the current superpowers-shaped Task heading, 0 outside one
    for block in blocks:
        if block.kind == "heading":
            if task_level and block.level <= task_level:
                task_level = 0
            if phase_heading(block.text):
                in_phase = True
            elif _SP_TASK.match(block.text.strip().strip("*_")):
                task_level = block.level
        elif block.kind == "text":
            if in_phase and block.item_start and _TASK_LINE.match(block.text.strip()):
                return "spec-kit"
            if task_level:
                found = fields.match_field(block.text)
                if found and found[0] == "files":
                    return "superpowers"
    return None


# --- spec-kit ------------------------------------------------------------------------------

def paths_in(text: str) -> list[str]:
    """The words of a task description that name files: with a ``/`` or a file extension."""
    found: list[str] = []
    for word in text.split():
        word = word.strip(_TOKEN_TRIM).rstrip(".")
        if (not word or word.lower() in _NOT_PATHS or "://" in word
                or word.startswith("/") or any(char in word for char in "{}<>$")):
            continue  # not a project file: a URL, a route, an absolute path, a template
        named = ("/" in word and any(char.isalnum() for char in word)) or _EXTENSION.search(word)
        if named and word not in found:
            found.append(word)
    return found


class _Task:
    __slots__ = ("id", "line", "done", "parallel", "story", "text")

    def __init__(self, found: re.Match, line: int):
        self.id = found.group("id")
        self.line = line
        self.done = found.group("box").lower() == "x"
        self.parallel = False
        self.story: str | None = None
        rest = found.group("rest")
        while tag := _TAG.match(rest):
            value = tag.group("tag")
            if value.upper() == "P":
                self.parallel = True
            elif _STORY_TAG.match(value):
                self.story = value.upper()
            else:
                break
            rest = rest[tag.end():]
        self.text = rest.strip()


class _SpecKitPhase:
    """One ``## Phase N:`` section: its tasks, in groups split by sub-headings, and the rest."""

    def __init__(self, phase_id: str, title: str, line: int, level: int):
        self.id = phase_id
        self.title = title
        self.line = line
        self.level = level
        self.groups: list[list[_Task]] = [[]]
        self.other: list[Block] = []  # everything but task lines: Goal, Checkpoint, ...

    @property
    def tasks(self) -> list[_Task]:
        return [task for group in self.groups for task in group]

    def is_story(self) -> bool:
        tasks = self.tasks
        return bool(_STORY_PHASE.search(self.title)) or bool(
            tasks and all(task.story for task in tasks))


def _spec_kit_phases(blocks: list[Block]) -> list[_SpecKitPhase]:
    phases: list[_SpecKitPhase] = []
    current: _SpecKitPhase | None = None
    order_level = 0  # level of an enclosing Dependencies / Execution Order heading
    task: _Task | None = None
    for block in blocks:
        if block.kind == "heading":
            task = None
            if order_level and block.level <= order_level:
                order_level = 0
            if current is not None and block.level <= current.level:
                current = None
            heading = None if order_level else phase_heading(block.text)
            if heading:
                current = _SpecKitPhase(heading.id, heading.title, block.line, block.level)
                phases.append(current)
                continue
            if current is None:
                if not order_level and section_kind(block) == "order":
                    order_level = block.level
                continue
            if current.groups[-1]:
                current.groups.append([])  # "### Implementation for User Story 1": in order
            current.other.append(block)
            continue
        if current is None:
            continue
        if block.kind == "text":
            found = _TASK_LINE.match(block.text.strip()) if block.item_start else None
            if found:
                task = _Task(found, block.line)
                current.groups[-1].append(task)
                continue
            if task is not None and not block.item_start and block.level > 0 and block.text:
                task.text = f"{task.text} {block.text}".strip()  # a wrapped task line
                continue
            task = None
        elif block.kind != "list_close":
            task = None
        current.other.append(block)
    return phases


def _chain(groups: list[list[_Task]], entry: list[str], steps: dict[str, Phase]) -> list[str]:
    """Give each task its dependencies; return the ids the phase ends on.

    A task follows every task since the previous sequential point; a ``[P]`` task shares the
    dependencies of the sequential task before it, so it runs alongside it. A sub-heading
    is a sequential point: its tasks follow everything above it.
    """
    base = list(entry)
    since: list[str] = []  # the last sequential task and the [P] tasks beside it
    for group in groups:
        if since:
            base, since = since, []
        for task in group:
            if task.id not in steps:
                continue  # already done
            if not task.parallel and since:
                base, since = since, []
            steps[task.id].depends_on = list(dict.fromkeys(base))
            since.append(task.id)
    return since or base


def read_spec_kit(blocks: list[Block], path: str, warnings: list[Diagnostic]) -> list[Phase]:
    """The steps of a spec-kit ``tasks.md``: one per open task, in the order written.

    Setup and Foundational phases (any phase that is not a user story) are barriers: a phase
    follows everything before it. User-story phases all follow the barrier before them and
    not each other; the next barrier (Polish) follows every story.
    """
    steps: dict[str, Phase] = {}
    done: list[str] = []
    sections = _spec_kit_phases(blocks)
    for section in sections:
        context = _phase_context(section, path, warnings)
        open_tasks = [task for task in section.tasks if not task.done]
        done.extend(task.id for task in section.tasks if task.done)
        for task in open_tasks:
            title = task.text or task.id
            objective = title
            if context.objective:
                objective = (f"{title}\n\nPart of phase {section.id} ({section.title}): "
                             f"{context.objective}")
            steps.setdefault(task.id, Phase(
                id=task.id, title=title, line=task.line, depends_stated=True,
                files=paths_in(task.text), objective=objective[:2000]))
        if open_tasks:
            last = steps[open_tasks[-1].id]
            last.procedures.extend(context.procedures)
            last.scripts.extend(context.scripts)
            last.verify.extend(context.verify)
            last.run.extend(context.run)
    barrier: list[str] = []
    stories: list[str] = []
    for section in sections:
        if section.is_story():
            stories.extend(_chain(section.groups, barrier, steps))
        else:
            entry = stories or barrier
            barrier, stories = _chain(section.groups, entry, steps), []
    _close_checkpoints(sections, steps)
    if done:
        warnings.append(Diagnostic(path, 1, f"tasks already done ([x]) are not steps: "
                                            f"{', '.join(done)}", "warning"))
    return sorted(steps.values(), key=lambda phase: phase.line)


def _close_checkpoints(sections: list[_SpecKitPhase], steps: dict[str, Phase]) -> None:
    """A phase's checkpoint script runs on its last task: after all its tasks, then."""
    for section in sections:
        open_ids = [task.id for task in section.tasks if task.id in steps]
        if not open_ids or not steps[open_ids[-1]].scripts:
            continue
        last = steps[open_ids[-1]]
        depended = {dep for task_id in open_ids for dep in steps[task_id].depends_on}
        for task_id in open_ids[:-1]:
            if task_id not in depended and task_id not in last.depends_on:
                last.depends_on.append(task_id)


def _phase_context(section: _SpecKitPhase, path: str, warnings: list[Diagnostic]) -> Phase:
    """The phase's own fields (Goal, Checkpoint, ...) read as a native phase would be."""
    context = Phase(id=section.id, title=section.title, line=section.line)
    reader = FieldReader(context, path, warnings)
    reader.read(section.other)
    if context.objective is None and reader.description:
        context.objective = " ".join(reader.description)
    return context


# --- superpowers -----------------------------------------------------------------------------

def _sp_sections(blocks: list[Block]) -> list[tuple[str, str, int, list[Block]]]:
    sections: list[tuple[str, str, int, list[Block]]] = []
    level = 0
    for block in blocks:
        if block.kind == "heading":
            found = _SP_TASK.match(block.text.strip().strip("*_"))
            if found:
                level = block.level
                title = " ".join((found.group("title") or "").split())
                sections.append((found.group("id"), title, block.line, []))
                continue
            if level and block.level <= level:
                level = 0
        if level:
            sections[-1][3].append(block)
    return sections


def _sp_file(text: str, codes: list[str]) -> list[str]:
    names = [code.strip() for code in codes if code.strip()]
    if not names:
        names = [text.split()[0]] if text.split() else []
    return [_LINE_RANGE.sub("", name) for name in names if not fields.is_none_value(name)]


def _read_sp_task(task_id: str, title: str, line: int, blocks: list[Block]) -> Phase:
    """One superpowers task: Files become the phase's files; every step's text and code is
    a procedure for the agent. A fenced shell block under Run or Verify is a check the
    engine runs after the agent (``verify``), unless its Expected line says it fails."""
    phase = Phase(id=task_id, title=title, line=line)
    in_files = False
    pending: str | None = None  # a Run/Verify field waiting for its fenced block
    last_script: Script | None = None  # the script just added, until its Expected line
    paragraph: list[str] = []
    next_line = 0
    started = False  # past the task's opening prose (at its Files or first step)

    def flush() -> None:
        if paragraph:
            phase.procedures.append(" ".join(paragraph))
            paragraph.clear()

    for block in blocks:
        if block.kind == "heading":
            flush()
            in_files, pending, last_script = False, None, None
            phase.procedures.append(block.text)
            continue
        if block.kind == "code":
            flush()
            in_files = False
            if pending and block.fenced and fields.is_shell_info(block.info) and \
                    fields.split_commands(block.text):
                last_script = Script("verify", block.text, block.line + 1)
                phase.scripts.append(last_script)
                phase.verify.extend(fields.split_commands(block.text))
            elif block.text.strip():
                fence = f"```{block.info}\n" if block.fenced else ""
                phase.procedures.append(f"{fence}{block.text.rstrip()}"
                                        f"{chr(10) + '```' if block.fenced else ''}")
            pending = None
            continue
        if block.kind != "text" or not block.text:
            continue
        text = fields.strip_checkbox(block.text)
        found = fields.match_field(text)
        if found and found[0] == "files":
            flush()
            in_files = started = True
            phase.files.extend(_sp_file(found[1], block.codes) if found[1] else [])
            continue
        item = _SP_FILE.match(text)
        if in_files and block.level > 0 and item:
            for name in _sp_file(item.group(1), block.codes):
                if name not in phase.files:
                    phase.files.append(name)
            continue
        in_files = False
        expected = _EXPECTED.match(text)
        if expected and last_script is not None:
            if _EXPECTS_FAILURE.search(expected.group(1)):
                phase.scripts.remove(last_script)  # "run it to see it fail": agent's job
                commands = fields.split_commands(last_script.text)
                phase.verify = phase.verify[:len(phase.verify) - len(commands)]
                phase.procedures.append(last_script.text.rstrip())
            last_script = None
        if found and found[0] in ("run", "verify"):
            pending = None if found[1] else found[0]
        if found and found[0] == "objective" and found[1] and phase.objective is None:
            phase.objective = found[1]
        elif _STEP.match(text) or block.level > 0:
            started = True
        elif not (started or found or phase.objective):
            phase.objective = text  # the task's opening prose
            continue
        if block.line != next_line or block.item_start:
            flush()
        paragraph.append(text)
        next_line = block.line + 1
    flush()
    return phase


def read_superpowers(blocks: list[Block]) -> list[Phase]:
    """The steps of a superpowers plan: one per ``### Task N:``, each after the one before."""
    phases = [_read_sp_task(*section) for section in _sp_sections(blocks)]
    for previous, phase in zip(phases, phases[1:], strict=False):
        phase.depends_on = [previous.id]
    for phase in phases:
        phase.depends_stated = True
        if phase.objective is None:
            phase.objective = phase.title
    return phases
