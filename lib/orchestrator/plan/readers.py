"""Turning the block stream of a plan document into the plan model.

The three formats share one section reader: they differ in which headings start a phase and
in the dependencies a phase gets when it states none.
"""

from __future__ import annotations

import re

from ..errors import Diagnostic, PlanError
from . import fields
from .markdown import Block, blocks_from_markdown
from .model import FORMATS, ParallelGroup, Phase, Plan

__all__ = ["parse_plan_text", "detect_format"]

_PHASE_HEADING = re.compile(
    r"^(?P<word>phase|bloque|fase)\s+(?P<id>[A-Za-z0-9][\w.\-]*?)\.?"
    r"\s*(?:(?:[:.)]|\s[-–—]|[–—])\s*(?P<title>.*))?$",
    re.IGNORECASE,
)
_STATUS_TAG = re.compile(
    r"\s*\[\s*(?:not started|in progress|in-progress|complete|completed|done|pending|blocked|"
    r"skipped|failed|todo|to do|wip|partial|deferred|x)\s*\]\s*",
    re.IGNORECASE,
)
_STATUS_MARKS = " \t✅❌⏳🔄✓✔☑⚠️🚧"
_GROUP_LINE = re.compile(r"^group\s+([\w.\-]+)\s*[:\-–—]\s*(.+)$", re.IGNORECASE)
_LIST_FIELDS = {"files", "acceptance", "tasks", "dependencies_to_add", "depends_on", "verify",
                "run"}
_CODE_FIELDS = {"verify", "run"}


class _Section:
    """The blocks that belong to one phase heading."""

    __slots__ = ("word", "id", "title", "line", "level", "blocks")

    def __init__(self, word: str, phase_id: str, title: str, line: int, level: int):
        self.word = word
        self.id = phase_id
        self.title = title
        self.line = line
        self.level = level
        self.blocks: list[Block] = []


def _clean_title(title: str) -> str:
    title = _STATUS_TAG.sub(" ", title)
    return " ".join(title.strip(_STATUS_MARKS).split())


def _phase_heading(text: str):
    found = _PHASE_HEADING.match(text.strip().strip("*_"))
    if not found:
        return None
    phase_id = found.group("id").strip(".-")
    if not phase_id:
        return None
    return found.group("word").lower(), phase_id, _clean_title(found.group("title") or "")


def _split_sections(blocks: list[Block]):
    """Group blocks under phase headings; return (title, sections, parallel blocks)."""
    title = None
    sections: list[_Section] = []
    parallel: list[Block] = []
    current: _Section | None = None
    in_parallel_level = 0
    for block in blocks:
        if block.kind == "heading":
            if title is None and block.level == 1:
                title = block.text
            heading = _phase_heading(block.text)
            if heading:
                current = _Section(*heading, block.line, block.level)
                sections.append(current)
                in_parallel_level = 0
                continue
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


class _FieldReader:
    """Walks one section's blocks, filling a Phase; a small state machine.

    A field with no value on its line (``**Checkpoint:**``, ``Tasks:``) is *pending*: the
    code block or list that follows is its value.
    """

    def __init__(self, phase: Phase, path: str, warnings: list[Diagnostic]):
        self.phase = phase
        self.path = path
        self.warnings = warnings
        self.pending: str | None = None
        self.pending_line = 0
        self.value_list_depth: int | None = None
        self.description: list[str] = []

    def read(self, blocks: list[Block]) -> None:
        for block in blocks:
            handler = getattr(self, "_on_" + block.kind)
            handler(block)

    def _on_list_open(self, block: Block) -> None:
        if self.pending in _LIST_FIELDS and self.value_list_depth is None:
            self.value_list_depth = block.level

    def _on_list_close(self, block: Block) -> None:
        if self.value_list_depth is not None and block.level == self.value_list_depth:
            self.value_list_depth = None
            self.pending = None

    def _on_heading(self, block: Block) -> None:
        found = fields.match_field(block.text.rstrip(":") + ":")
        self.value_list_depth = None
        self.pending = found[0] if found and not found[1] else None
        self.pending_line = block.line

    def _on_code(self, block: Block) -> None:
        if self.pending in _CODE_FIELDS:
            target = self.phase.verify if self.pending == "verify" else self.phase.run
            target.extend(fields.split_commands(block.text))
        if self.value_list_depth is None:
            self.pending = None

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
        if block.text and self.pending not in _CODE_FIELDS:
            self.pending = None
        if block.text and block.level == 0:
            self.description.append(block.text)

    def _set(self, name: str, value: str, block: Block) -> None:
        phase = self.phase
        self.pending = name if not value else None
        self.pending_line = block.line
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
        elif name in _CODE_FIELDS and value:
            target = phase.verify if name == "verify" else phase.run
            if block.codes:
                target.extend(code.strip() for code in block.codes if code.strip())
            elif not fields.is_none_value(value):
                target.append(value)
        elif name == "timeout" and value:
            phase.timeout_s = fields.parse_timeout(value)
            if phase.timeout_s is None:
                self._warn(block.line, f"phase {phase.id}: cannot read timeout {value!r}")
        elif name == "estimate" and value:
            phase.estimated_hours = fields.parse_hours(value)
        elif name == "objective" and value:
            phase.objective = value
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

    def _add_item(self, name: str | None, block: Block) -> None:
        phase = self.phase
        text = fields.strip_checkbox(block.text)
        if name == "files":
            phase.files.extend(fields.parse_files(text, block.codes))
        elif name == "depends_on":
            phase.depends_on.extend(i for i in fields.parse_id_list(text)
                                    if i not in phase.depends_on)
        elif name in _CODE_FIELDS:
            target = phase.verify if name == "verify" else phase.run
            target.extend(block.codes or [text])
        elif name in ("acceptance", "tasks", "dependencies_to_add") and text:
            getattr(phase, name).append(text)

    def _extend_item(self, name: str | None, block: Block) -> None:
        if name in ("acceptance", "tasks"):
            items = getattr(self.phase, name)
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


def parse_plan_text(text: str, path: str, plan_format: str | None = None):
    """Parse plan text into (Plan, warnings). ``plan_format`` overrides detection."""
    if plan_format is not None and plan_format not in FORMATS:
        raise PlanError(path, 0, f"unknown format {plan_format!r} "
                                 f"(expected one of {', '.join(FORMATS)})")
    blocks = blocks_from_markdown(text)
    title, sections, parallel_blocks = _split_sections(blocks)
    chosen = plan_format or detect_format(sections, blocks)
    warnings: list[Diagnostic] = []
    phases = []
    for section in sections:
        phase = Phase(id=section.id, title=section.title, line=section.line)
        reader = _FieldReader(phase, path, warnings)
        reader.read(section.blocks)
        if phase.objective is None and reader.description:
            phase.objective = " ".join(reader.description)[:2000]
        phases.append(phase)
    _apply_default_dependencies(chosen, phases, path, warnings)
    plan = Plan(path=path, format=chosen, title=title, phases=phases,
                parallel_groups=_parallel_groups(parallel_blocks))
    return plan, warnings
