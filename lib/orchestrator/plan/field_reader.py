"""Reading one phase's body: its fields (Owner, Files, Depends on, Verify, ...), the shell
blocks under Verify and Run that the engine runs, and the prose kept for the agent. Shared
by the native readers and the readers of other tools' formats."""

from __future__ import annotations

import re

from orchestrator.errors import Diagnostic
from orchestrator.plan import fields
from orchestrator.plan.markdown import Block
from orchestrator.plan.model import Phase, Script

__all__ = ["FieldReader"]

_COMPLETE_STATUS = re.compile(r"^[\W_]*(?:complete|completed|done|finished)\b|^\s*[✅✓✔☑]",
                              re.IGNORECASE)
_DEFERRED_STATUS = re.compile(r"^[\W_]*(?:deferred|postponed)\b", re.IGNORECASE)
_LIST_FIELDS = {"files", "acceptance", "tasks", "dependencies_to_add", "depends_on", "verify",
                "run", "procedure"}
_CODE_FIELDS = {"verify", "run"}  # their fenced shell blocks are scripts the engine runs
_PROSE_FIELDS = _CODE_FIELDS | {"procedure"}  # prose below them is kept for the agent
_LABELS = {"verify": "Verify", "run": "Run", "procedure": "Testing"}


class FieldReader:
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


