"""What a step must leave behind, as one list: the single source of a step's contract.

The prompt's Checks section, the ``expects`` of a `wf next` agent action and the checks the
engine runs afterwards are all read off the items ``contract`` returns, so what an agent is
told and what it is held to cannot drift apart. Each item can say itself in words (for the
prompt) and as data (for ``expects``); ``checks.py`` checks the same items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.plan.model import Phase
from orchestrator.verify.checks import CheckResult, Command, check_commands

__all__ = ["FileItem", "VerdictItem", "DependencyItem", "CommandItem", "ChangeItem",
           "contract", "describe", "expects", "file_checks", "has_section", "read_verdict",
           "MAX_ITEMS", "COMMAND_SHOWN", "VERDICT_SCHEMA"]

MAX_ITEMS = 40  # items shown in one `expects` and in a prompt's Checks; the rest counted
COMMAND_SHOWN = 200  # characters of a check script shown in `expects`
READ_LIMIT = 4 << 20  # bytes of a file read for its headings
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def has_section(text: str, section: str) -> bool:
    """``text`` has a level-2 or level-3 heading that starts with ``section``.

    Case does not matter, nor a leading number ("## 2. Findings") or what follows the name
    after a space or punctuation ("## Findings: rate limits"); headings inside code fences
    do not count.
    """
    heading = re.compile(r"^#{2,3}[ \t]+(?:\d+[.)]?[ \t]+)?" + re.escape(section.strip())
                         + r"(?![\w-])", re.IGNORECASE)
    fence = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if opened:
            marker = opened.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is None and heading.match(line):
            return True
    return False


@dataclass(frozen=True, slots=True)
class FileItem:
    """A file that must exist, not be empty, and carry a heading for each section."""

    path: str  # as the phase names it, relative to the project root (or ~)
    sections: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"file {self.path} exists and is not empty"
        if self.sections:
            names = ", ".join(f"`## {name}`" for name in self.sections)
            text += f", with a level-2 or level-3 heading for each of {names}"
        return text

    def check(self, root: Path) -> list[CheckResult]:
        path = root / Path(self.path).expanduser()
        label = f"file {self.path}"
        if not path.exists():
            return [CheckResult(label, False, "missing")]
        if not path.is_file():
            return [CheckResult(label, True)]  # a folder the plan names: it exists
        if path.stat().st_size == 0:
            return [CheckResult(label, False, "empty")]
        results = [CheckResult(label, True)]
        if self.sections:
            try:
                with open(path, "rb") as handle:
                    text = handle.read(READ_LIMIT).decode("utf-8", errors="replace")
            except OSError as error:
                return [CheckResult(label, False, f"unreadable: {error.strerror}")]
            for name in self.sections:
                found = has_section(text, name)
                results.append(CheckResult(f"section `## {name}` in {self.path}", found,
                                           "" if found else "no such heading"))
        return results

    def expect(self, root: Path) -> dict:
        shown = self.path if self.path.startswith("~") else str(root / self.path)
        return {"kind": "file", "path": shown, "sections": list(self.sections)}


VERDICT_SCHEMA = {
    "type": "object",
    "required": ["verdict"],
    "properties": {"verdict": {"enum": ["approved", "rejected"]},
                   "concerns": {"type": "array", "items": {"type": "string"}}},
}
VERDICT_LIMIT = 64 << 10  # bytes of a verdict file read
MAX_CONCERNS, CONCERN_CHARS = 20, 500  # what is kept of a rejection's concerns


def read_verdict(path: Path) -> tuple[dict | None, str]:
    """A reviewer's verdict file: ({"verdict", "concerns"}, "") or (None, what is wrong).

    ``verdict`` is "approved" or "rejected"; a rejection names at least one concern.
    """
    import json

    try:
        with open(path, "rb") as handle:
            raw = handle.read(VERDICT_LIMIT + 1)
    except FileNotFoundError:
        return None, "missing"
    except OSError as error:
        return None, f"unreadable: {error.strerror}"
    if len(raw) > VERDICT_LIMIT:
        return None, f"larger than {VERDICT_LIMIT} bytes"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "not JSON"
    if not isinstance(data, dict) or data.get("verdict") not in ("approved", "rejected"):
        return None, 'no "verdict" of "approved" or "rejected"'
    concerns = data.get("concerns", [])
    if not isinstance(concerns, list) or not all(isinstance(c, str) for c in concerns):
        return None, '"concerns" is not a list of strings'
    if data["verdict"] == "rejected" and not any(c.strip() for c in concerns):
        return None, "a rejection names no concern"
    return {"verdict": data["verdict"],
            "concerns": [c.strip()[:CONCERN_CHARS] for c in concerns if c.strip()]
            [:MAX_CONCERNS]}, ""


@dataclass(frozen=True, slots=True)
class VerdictItem:
    """A reviewer's verdict: a JSON file that ``VERDICT_SCHEMA`` describes."""

    path: str

    def describe(self) -> str:
        return (f'file {self.path} holds your verdict as JSON: {{"verdict": "approved"}}, or '
                f'{{"verdict": "rejected", "concerns": ["...", "..."]}} naming each concern')

    def check(self, root: Path) -> list[CheckResult]:
        verdict, problem = read_verdict(root / self.path)
        return [CheckResult(f"verdict {self.path}", verdict is not None, problem)]

    def expect(self, root: Path) -> dict:
        return {"kind": "verdict", "path": str(root / self.path), "schema": VERDICT_SCHEMA}


@dataclass(frozen=True, slots=True)
class DependencyItem:
    """A dependency the phase adds, which must appear in its manifest."""

    entry: str

    def describe(self) -> str:
        return f"`{self.entry}` appears in its manifest"

    def expect(self, root: Path) -> dict:
        return {"kind": "dependency", "entry": self.entry}


@dataclass(frozen=True, slots=True)
class CommandItem:
    """A check script that must exit 0."""

    command: Command

    def describe(self) -> str:
        return f"`{self.command.label}` exits 0"

    def expect(self, root: Path) -> dict:
        script = self.command.script.strip()
        if len(script) > COMMAND_SHOWN:
            script = script[:COMMAND_SHOWN - 3] + "..."
        return {"kind": "command", "field": self.command.field, "line": self.command.line,
                "script": script}


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """An implementation step must change the working tree."""

    def describe(self) -> str:
        return ("the working tree changes (an implementation step that changes nothing on "
                "disk fails)")

    def expect(self, root: Path) -> dict:
        return {"kind": "change"}


Item = FileItem | VerdictItem | DependencyItem | CommandItem | ChangeItem


def contract(phase: Phase, blast_radius_command: str | None) -> list[Item]:
    """Everything the engine will check of an attempt at ``phase``, in checking order."""
    items: list[Item] = [VerdictItem(name) if name in phase.verdicts
                         else FileItem(name, tuple(phase.sections.get(name, ())))
                         for name in phase.files]
    items += [DependencyItem(entry) for entry in phase.dependencies_to_add]
    items += [CommandItem(command) for command in check_commands(phase, blast_radius_command)]
    if phase.type != "design":
        items.append(ChangeItem())
    return items


def file_checks(phase: Phase, root: Path) -> list[CheckResult]:
    """The in-process checks of the contract's files: each exists, is not empty, and has
    a heading for each of its sections; a verdict file holds a valid verdict."""
    return [result for item in contract(phase, None)
            if isinstance(item, FileItem | VerdictItem) for result in item.check(root)]


def describe(phase: Phase, blast_radius_command: str | None) -> list[str]:
    """The contract in words: the prompt's Checks section."""
    return [item.describe() for item in contract(phase, blast_radius_command)]


def expects(phase: Phase, blast_radius_command: str | None, root: Path) -> list[dict]:
    """The contract as data: an agent action's ``expects`` (bounded; the rest counted)."""
    items = contract(phase, blast_radius_command)
    shown = [item.expect(root) for item in items[:MAX_ITEMS]]
    if len(items) > MAX_ITEMS:
        shown.append({"kind": "more", "count": len(items) - MAX_ITEMS,
                      "see": "the prompt's Checks section"})
    return shown
