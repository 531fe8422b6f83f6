"""Turning the block stream of a plan document into the plan model.

The three native formats share one section reader: they differ in which headings start a
phase and in the dependencies a phase gets when it states none. Plans written by other tools
(spec-kit, superpowers) are detected first and read by ``tool_readers``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from orchestrator.errors import Diagnostic, PlanError
from orchestrator.plan import fields
from orchestrator.plan.markdown import Block, blocks_from_markdown
from orchestrator.plan.model import FORMATS, ParallelGroup, Phase, Plan, Script

__all__ = ["parse_plan_text", "detect_format"]

_PHASE_HEADING = re.compile(
    r"^(?P<word>phase|bloque|fase)\s+(?P<id>[^\W_][\w.\-]*)"
    r"\s*(?:(?:[:.)]|\s[-–—]|[–—])\s*(?P<title>.*))?$",
    re.IGNORECASE,
)
_STATUS_TAG = re.compile(
    r"\s*\[\s*(?:not started|in progress|in-progress|complete|completed|done|pending|blocked|"
    r"skipped|failed|todo|to do|wip|partial|deferred|x)\s*\]\s*",
    re.IGNORECASE,
)
_DEFERRED_TAG = re.compile(r"[\[(]\s*deferred\b[^\])]*[\])]", re.IGNORECASE)
_COMPLETE_TAG = re.compile(r"[\[(]\s*(?:complete|completed|done|finished|x)\s*[\])]",
                           re.IGNORECASE)
_COMPLETE_MARKS = "✅✓✔☑"
# "Phase 2: Handlers ✅ Complete", "Phase 2: Handlers - COMPLETE": the word goes with the mark
_TRAILING_COMPLETE = re.compile(
    r"\s*[-–—:|]?\s*(?:[✅✓✔☑]\s*(?i:complete|completed|done|finished)?|"
    r"\b(?:COMPLETE|COMPLETED|DONE))\s*$")
_COMPLETE_STATUS = re.compile(r"^[\W_]*(?:complete|completed|done|finished)\b|^\s*[✅✓✔☑]",
                              re.IGNORECASE)
_DEFERRED_STATUS = re.compile(r"^[\W_]*(?:deferred|postponed)\b", re.IGNORECASE)
_STATUS_MARKS = " \t✅❌⏳🔄✓✔☑⚠️🚧"
_GROUP_LINE = re.compile(r"^group\s+([\w.\-]+)\s*[:\-–—]\s*(.+)$", re.IGNORECASE)

# Headings (level 2 or deeper) that say what the phases under them are.
_IMPLEMENTATION_SECTION = re.compile(r"\bimplementation\b", re.IGNORECASE)
_DEFERRED_SECTION = re.compile(
    r"\b(?:future\s+(?:enhancements?|work|phases?|improvements?|ideas?)|deferred|"
    r"out[\s-]+of[\s-]+scope|later|backlog|nice[\s-]+to[\s-]+haves?)\b",
    re.IGNORECASE,
)
_ORDER_SECTION = re.compile(r"\b(?:dependencies|execution\s+order)\b", re.IGNORECASE)

_LIST_FIELDS = {"files", "acceptance", "tasks", "dependencies_to_add", "depends_on", "verify",
                "run", "procedure"}
_CODE_FIELDS = {"verify", "run"}  # their fenced shell blocks are scripts the engine runs
_PROSE_FIELDS = _CODE_FIELDS | {"procedure"}  # prose below them is kept for the agent
_LABELS = {"verify": "Verify", "run": "Run", "procedure": "Testing"}


class _Heading(NamedTuple):
    word: str
    id: str
    title: str
    deferred: bool
    complete: bool = False


class _Section:
    """The blocks that belong to one phase heading."""

    __slots__ = ("word", "id", "title", "line", "level", "blocks", "deferred", "within",
                 "complete")

    def __init__(self, heading: _Heading, line: int, level: int, within: int | None,
                 deferred: bool):
        self.word = heading.word
        self.id = heading.id
        self.title = heading.title
        self.line = line
        self.level = level
        self.blocks: list[Block] = []
        self.deferred = deferred  # tagged [DEFERRED] or under a Future Work-like section
        self.within = within  # line of the enclosing implementation section, if any
        self.complete = heading.complete  # tagged [COMPLETE], (Done), ✅ and the like


def _clean_title(title: str) -> str:
    title = _TRAILING_COMPLETE.sub("", _STATUS_TAG.sub(" ", _COMPLETE_TAG.sub(" ", title)))
    return " ".join(title.strip(_STATUS_MARKS).split())


def _phase_heading(text: str) -> _Heading | None:
    """The heading as a phase, or None when it is not one.

    The id needs a digit (``1``, ``2.1``, ``α1``), to be all capitals (``FINAL``) or a title
    separator after it: so ``Phase Dependencies`` is a heading, not a phase.
    """
    text = text.strip().strip("*_")
    complete_first = text[:1] in _COMPLETE_MARKS  # "✅ Phase 1: Base"
    text = text.lstrip(_STATUS_MARKS)
    deferred = bool(_DEFERRED_TAG.search(text))
    complete = complete_first or bool(_COMPLETE_TAG.search(text)
                                      or _TRAILING_COMPLETE.search(text)) or \
        any(mark in text for mark in _COMPLETE_MARKS)
    text = _STATUS_TAG.sub(" ", _DEFERRED_TAG.sub(" ", text)).strip()
    found = _PHASE_HEADING.match(text)
    if not found:
        return None
    phase_id = found.group("id").strip(".-")
    titled = found.group("title") is not None
    if not phase_id or not (titled or phase_id.isupper()
                            or any(char.isdigit() for char in phase_id)):
        return None
    return _Heading(found.group("word").lower(), phase_id,
                    _clean_title(found.group("title") or ""), deferred, complete)


def _section_kind(block: Block) -> str | None:
    """What a heading that is not a phase says about the phases under it."""
    if block.level < 2:
        return None
    if _DEFERRED_SECTION.search(block.text):
        return "deferred"
    if _IMPLEMENTATION_SECTION.search(block.text):
        return "implementation"
    if _ORDER_SECTION.search(block.text):
        return "order"
    return None


def _split_sections(blocks: list[Block]):
    """Group blocks under phase headings; return (title, sections, parallel blocks).

    ``enclosing`` holds the (level, kind, line) of the headings around the current block; a
    phase-shaped heading under a Dependencies or Execution Order section is not a phase.
    """
    title = None
    sections: list[_Section] = []
    parallel: list[Block] = []
    current: _Section | None = None
    in_parallel_level = 0
    enclosing: list[tuple[int, str | None, int]] = []
    for block in blocks:
        if block.kind == "heading":
            if title is None and block.level == 1:
                title = block.text
            while enclosing and enclosing[-1][0] >= block.level:
                enclosing.pop()
            kinds = [kind for _, kind, _ in enclosing]
            heading = None if "order" in kinds else _phase_heading(block.text)
            if heading:
                within = next((line for _, kind, line in reversed(enclosing)
                               if kind == "implementation"), None)
                current = _Section(heading, block.line, block.level, within,
                                   heading.deferred or "deferred" in kinds)
                sections.append(current)
                enclosing.append((block.level, "phase", block.line))
                in_parallel_level = 0
                continue
            enclosing.append((block.level, _section_kind(block), block.line))
            if current is not None and block.level <= current.level:
                current = None
            if in_parallel_level and block.level <= in_parallel_level:
                in_parallel_level = 0
            if current is None and "parallel" in block.text.lower():
                in_parallel_level = block.level
                continue
        if current is not None:
            current.blocks.append(block)
        elif in_parallel_level:
            parallel.append(block)
    return title, sections, parallel


def _lines(numbers: list[int]) -> str:
    return ("lines " if len(numbers) > 1 else "line ") + ", ".join(map(str, numbers))


def _choose_sections(sections: list[_Section], path: str, warnings: list[Diagnostic]):
    """Split sections into (steps, deferred).

    When phases sit in an implementation section, only those are steps: phase headings
    elsewhere (a design section's own "Phase 1..3") are ignored, with one warning.
    """
    deferred = [section for section in sections if section.deferred]
    steps = [section for section in sections if not section.deferred]
    within = sorted({section.within for section in steps if section.within is not None})
    if not within:
        return steps, deferred
    ignored = [section for section in steps if section.within is None]
    if ignored:
        warnings.append(Diagnostic(
            path, ignored[0].line,
            f"the plan's phases are read from its implementation section ({_lines(within)}); "
            f"phase headings outside it are ignored: "
            f"{_lines([section.line for section in ignored])}",
            "warning"))
    return [section for section in steps if section.within is not None], deferred


class _FieldReader:
    """Walks one section's blocks, filling a Phase; a small state machine.

    A field with no value on its line (``**Checkpoint:**``, ``Tasks:``) is *pending*: the
    code block or list that follows is its value. Only a fenced shell block under Run or
    Verify becomes a script; the other text of those fields and of Testing becomes the
    phase's procedures, which the agent is shown and the engine never runs.
    """

    def __init__(self, phase: Phase, path: str, warnings: list[Diagnostic]):
        self.phase = phase
        self.path = path
        self.warnings = warnings
        self.pending: str | None = None
        self.value_list_depth: int | None = None
        self.description: list[str] = []
        self.loose: list[str] = []  # lines of prose below a pending Verify/Run/Testing field
        self.loose_next = 0  # the line that would continue that prose's paragraph
        self.warned: set[str] = set()  # fields already warned about inline commands
        self.continues = 0  # the line that would continue an inline Testing/Verify value

    def read(self, blocks: list[Block]) -> None:
        for block in blocks:
            handler = getattr(self, "_on_" + block.kind)
            handler(block)
        self._pend(None)

    def _pend(self, name: str | None) -> None:
        """Make ``name`` the pending field; prose kept for the previous one is a procedure."""
        self._flush_loose()
        self.pending = name
        self.continues = 0

    def _flush_loose(self) -> None:
        if self.loose:
            self.phase.procedures.append(" ".join(self.loose))
            self.loose = []

    def _keep_loose(self, block: Block) -> None:
        if block.line != self.loose_next:
            self._flush_loose()
        self.loose.append(block.text)
        self.loose_next = block.line + 1

    def _on_list_open(self, block: Block) -> None:
        if self.pending in _LIST_FIELDS and self.value_list_depth is None:
            self._flush_loose()
            self.value_list_depth = block.level

    def _on_list_close(self, block: Block) -> None:
        if self.value_list_depth is not None and block.level == self.value_list_depth:
            self.value_list_depth = None
            self._pend(None)

    def _on_heading(self, block: Block) -> None:
        found = fields.match_field(block.text.rstrip(":") + ":")
        self.value_list_depth = None
        self._pend(found[0] if found and not found[1] else None)

    def _on_code(self, block: Block) -> None:
        name = self.pending
        if name in _CODE_FIELDS and block.fenced and fields.is_shell_info(block.info):
            self.loose = []  # the prose before a script only introduces it
            self._add_script(name, block)
        elif name in _PROSE_FIELDS:
            self._flush_loose()
            if name in _CODE_FIELDS:
                self._warn_not_run(name, block)
            if block.text.strip():
                self.phase.procedures.append(block.text.rstrip("\n"))
        if self.value_list_depth is None:
            self._pend(None)

    def _add_script(self, name: str, block: Block) -> None:
        commands = fields.split_commands(block.text)
        if not commands:
            return
        target = self.phase.verify if name == "verify" else self.phase.run
        target.extend(commands)
        self.phase.scripts.append(Script(name, block.text, block.line + 1))

    def _warn_not_run(self, name: str, block: Block) -> None:
        what = f"```{block.info} block" if block.fenced else "indented code block"
        self._warn(block.line, f"phase {self.phase.id}: the {what} under {_LABELS[name]} is "
                               "not a shell block, so it is not run; the agent is shown it "
                               "instead (a fenced ```bash block is run)")

    def _on_text(self, block: Block) -> None:
        inside_value_list = (
            self.value_list_depth is not None and block.level >= self.value_list_depth
        )
        if inside_value_list:
            if block.item_start:
                self._add_item(self.pending, block)
            elif block.text:
                self._extend_item(self.pending, block)
            return
        found = fields.match_field(block.text)
        if found:
            name, value = found
            self._set(name, value, block)
            return
        if block.text:
            if block.line == self.continues and not block.item_start:
                self.phase.procedures[-1] += " " + block.text
                self.continues += 1
            elif self.pending in _PROSE_FIELDS:
                self._keep_loose(block)
            else:
                self._pend(None)
        if block.text and block.level == 0:
            self.description.append(block.text)

    def _set(self, name: str, value: str, block: Block) -> None:
        phase = self.phase
        self._pend(name if not value else None)
        self.value_list_depth = None
        if name == "depends_on":
            phase.depends_stated = True
            phase.depends_line = block.line
            phase.depends_on.extend(i for i in fields.parse_id_list(value)
                                    if i not in phase.depends_on)
        elif name == "owner":
            phase.owner = value.strip("`*_ ") or None
        elif name == "type":
            self._set_type(value, block.line)
        elif name == "files":
            phase.files.extend(fields.parse_files(value, block.codes))
        elif name == "blast_radius":
            phase.blast_radius = (block.codes[0] if block.codes else value.strip("`")) or None
        elif name in _PROSE_FIELDS and value and self._add_procedure(name, value, block):
            self.continues = block.line + 1
        elif name == "timeout" and value:
            phase.timeout_s = fields.parse_timeout(value)
            if phase.timeout_s is None:
                self._warn(block.line, f"phase {phase.id}: cannot read timeout {value!r}")
        elif name == "estimate" and value:
            phase.estimated_hours = fields.parse_hours(value)
        elif name == "objective" and value:
            phase.objective = value
        elif name == "status" and _COMPLETE_STATUS.search(value):
            phase.marked = "complete"
        elif name == "status" and _DEFERRED_STATUS.search(value):
            phase.marked = "deferred"  # moved to the plan's deferred phases
        elif name in ("acceptance", "tasks") and value:
            getattr(phase, name).append(fields.strip_checkbox(value))
        elif name == "dependencies_to_add" and value and not fields.is_none_value(value):
            phase.dependencies_to_add.append(value)

    def _set_type(self, value: str, line: int) -> None:
        word = value.strip("`*_ ").lower()
        if word.startswith("design"):
            self.phase.type = "design"
        elif word.startswith(("impl", "code", "build")):
            self.phase.type = "implementation"
        else:
            self._warn(line, f"phase {self.phase.id}: unknown type {value!r}, "
                             "expected design or implementation; treated as implementation")

    def _add_procedure(self, name: str, text: str, block: Block) -> bool:
        """Text of a Verify, Run or Testing field that is not a fenced block: for the agent."""
        if fields.is_none_value(text):
            return False
        self.phase.procedures.append(text)
        if name in _CODE_FIELDS and block.codes and name not in self.warned:
            self.warned.add(name)
            self._warn(block.line, f"phase {self.phase.id}: inline code under {_LABELS[name]} "
                                   "is not run; the agent is shown it instead (put a command "
                                   "the engine should run in a fenced ```bash block)")
        return True

    def _add_item(self, name: str | None, block: Block) -> None:
        phase = self.phase
        text = fields.strip_checkbox(block.text)
        if name == "files":
            phase.files.extend(fields.parse_files(text, block.codes))
        elif name == "depends_on":
            phase.depends_on.extend(i for i in fields.parse_id_list(text)
                                    if i not in phase.depends_on)
        elif name in _PROSE_FIELDS and text:
            self._add_procedure(name, text, block)
        elif name in ("acceptance", "tasks", "dependencies_to_add") and text:
            getattr(phase, name).append(text)

    def _extend_item(self, name: str | None, block: Block) -> None:
        if name in ("acceptance", "tasks"):
            items = getattr(self.phase, name)
        elif name in _PROSE_FIELDS:
            items = self.phase.procedures
        else:
            return
        if items:
            items[-1] = f"{items[-1]} {block.text}"

    def _warn(self, line: int, message: str) -> None:
        self.warnings.append(Diagnostic(self.path, line, message, "warning"))


def detect_format(sections: list[_Section], blocks: list[Block]) -> str:
    """Guess the format: BLOQUE headings mean a spec; owners or level-2 phases a plan."""
    if any(section.word == "bloque" for section in sections):
        return "spec"
    for section in sections:
        if section.level <= 2:
            return "plan"
        for block in section.blocks:
            found = block.kind == "text" and fields.match_field(block.text)
            if found and found[0] == "owner":
                return "plan"
    return "implementation-plan"


def _parallel_groups(blocks: list[Block]) -> list[ParallelGroup]:
    groups = []
    for block in blocks:
        if block.kind != "text":
            continue
        found = _GROUP_LINE.match(block.text.strip())
        if not found:
            continue
        value = re.split(r"\s[-–—]\s|\(|:", found.group(2))[0]
        groups.append(ParallelGroup(found.group(1), fields.parse_id_list(value), block.line))
    return groups


def _apply_default_dependencies(plan_format: str, phases: list[Phase], path: str,
                                warnings: list[Diagnostic]) -> None:
    """Fill in the dependencies a phase gets when it states none.

    Spec BLOQUEs run in order and FINAL after the last numbered one. In the other formats a
    phase that says nothing follows the phase before it: the safe reading of a plan written
    top to bottom; ``Depends on: none`` makes a phase independent.
    """
    if plan_format == "spec":
        numbered = [phase for phase in phases if phase.id.upper() != "FINAL"]
        for previous, phase in zip(numbered, numbered[1:], strict=False):
            if previous.id not in phase.depends_on:
                phase.depends_on.insert(0, previous.id)
        for phase in phases:
            if phase.id.upper() == "FINAL" and numbered and numbered[-1].id not in phase.depends_on:
                phase.depends_on.insert(0, numbered[-1].id)
        return
    for previous, phase in zip(phases, phases[1:], strict=False):
        if not phase.depends_stated:
            phase.depends_on = [previous.id]
            warnings.append(Diagnostic(
                path, phase.line,
                f"phase {phase.id} states no dependencies; it is taken to follow phase "
                f"{previous.id} (write 'Depends on: none' to run it independently)",
                "warning"))


def _read_phase(section: _Section, path: str, warnings: list[Diagnostic]) -> Phase:
    phase = Phase(id=section.id, title=section.title, line=section.line,
                  marked="complete" if section.complete else None)
    reader = _FieldReader(phase, path, warnings)
    reader.read(section.blocks)
    if phase.objective is None and reader.description:
        phase.objective = " ".join(reader.description)[:2000]
    return phase


def _read_other_tool(blocks: list[Block], path: str, plan_format: str | None):
    """(Plan, warnings) for a spec-kit or superpowers document, else None."""
    from orchestrator.plan import tool_readers

    chosen = plan_format or tool_readers.detect_tool_format(blocks)
    if chosen not in ("spec-kit", "superpowers"):
        return None
    title = next((block.text for block in blocks
                  if block.kind == "heading" and block.level == 1), None)
    warnings: list[Diagnostic] = []
    if chosen == "spec-kit":
        phases = tool_readers.read_spec_kit(blocks, path, warnings)
    else:
        phases = tool_readers.read_superpowers(blocks)
    return Plan(path=path, format=chosen, title=title, phases=phases), warnings


def parse_plan_text(text: str, path: str, plan_format: str | None = None):
    """Parse plan text into (Plan, warnings). ``plan_format`` overrides detection."""
    if plan_format is not None and plan_format not in FORMATS:
        raise PlanError(path, 0, f"unknown format {plan_format!r} "
                                 f"(expected one of {', '.join(FORMATS)})")
    blocks = blocks_from_markdown(text)
    tool_plan = _read_other_tool(blocks, path, plan_format)
    if tool_plan is not None:
        return tool_plan
    title, sections, parallel_blocks = _split_sections(blocks)
    warnings: list[Diagnostic] = []
    steps, later = _choose_sections(sections, path, warnings)
    chosen = plan_format or detect_format(steps + later, blocks)
    phases = [_read_phase(section, path, warnings) for section in steps]
    deferred = [_read_phase(section, path, []) for section in later]  # never run: no warnings
    deferred += [phase for phase in phases if phase.marked == "deferred"]  # "Status: Deferred"
    phases = [phase for phase in phases if phase.marked != "deferred"]
    _apply_default_dependencies(chosen, phases, path, warnings)
    plan = Plan(path=path, format=chosen, title=title, phases=phases,
                parallel_groups=_parallel_groups(parallel_blocks), deferred=deferred)
    return plan, warnings
