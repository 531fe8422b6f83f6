"""Recognising phase fields and parsing their values; pure functions over strings."""

from __future__ import annotations

import math
import re

__all__ = [
    "FIELD_KEYS",
    "match_field",
    "parse_id_list",
    "parse_hours",
    "parse_timeout",
    "parse_files",
    "split_commands",
    "strip_checkbox",
    "is_none_value",
    "is_shell_info",
    "SHELL_LANGUAGES",
]

# Spelling seen in real plans -> the field it means.
FIELD_KEYS = {
    "owner": "owner",
    "agent": "owner",
    "principal owner": "owner",
    "assignee": "owner",
    "type": "type",
    "phase type": "type",
    "depends on": "depends_on",
    "depends_on": "depends_on",
    "depends-on": "depends_on",
    "dependencies": "depends_on",
    "dependency": "depends_on",
    "deps": "depends_on",
    "prerequisites": "depends_on",
    "after": "depends_on",
    "files": "files",
    "file": "files",
    "files to modify": "files",
    "files to create": "files",
    "files to change": "files",
    "files to create or modify": "files",
    "files modified": "files",
    "expected files": "files",
    "artifacts": "files",
    "blast radius": "blast_radius",
    "blast_radius": "blast_radius",
    "test scope": "blast_radius",
    "checkpoint": "verify",
    "checkpoints": "verify",
    "verify": "verify",
    "verification": "verify",
    "validation": "verify",
    "run": "run",
    "testing": "procedure",
    "manual testing": "procedure",
    "test procedure": "procedure",
    "testing procedure": "procedure",
    "test plan": "procedure",
    "tests": "procedure",
    "timeout": "timeout",
    "estimated hours": "estimate",
    "estimated time": "estimate",
    "estimated duration": "estimate",
    "estimate": "estimate",
    "duration": "estimate",
    "effort": "estimate",
    "acceptance criteria": "acceptance",
    "acceptance": "acceptance",
    "success criteria": "acceptance",
    "done when": "acceptance",
    "tasks": "tasks",
    "objective": "objective",
    "goal": "objective",
    "dependencies to add": "dependencies_to_add",
    "new dependencies": "dependencies_to_add",
    "status": "status",
    "phase status": "status",
}

_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z _/-]{0,40}?)\s*:\s*(.*)$", re.DOTALL)
_CHECKBOX = re.compile(r"^\[[ xX]\]\s*")
_NONE_VALUES = {"", "none", "n/a", "na", "-", "—", "nothing", "[]", "no", "()", "null", "nil"}


def strip_checkbox(text: str) -> str:
    """Drop a leading task-list box such as ``[ ]`` or ``[x]``."""
    return _CHECKBOX.sub("", text.strip())


def match_field(text: str) -> tuple[str, str] | None:
    """Return (field, value) when a line reads as ``Key: value`` for a known key."""
    found = _FIELD.match(text)
    if not found:
        return None
    key = " ".join(found.group(1).replace("_", " ").split()).lower()
    name = FIELD_KEYS.get(key) or FIELD_KEYS.get(found.group(1).strip().lower())
    if name is None:
        return None
    return name, found.group(2).strip()


def is_none_value(value: str) -> bool:
    return value.strip().strip(".").lower() in _NONE_VALUES


_ID_WORDS = re.compile(r"\b(?:phases?|bloques?|blocks?|stages?|steps?|and)\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)")
_NUMERIC_RANGE = re.compile(r"^(\d+)\s*(?:-|–|\.\.)\s*(\d+)$")
_DOTTED_RANGE = re.compile(r"^((?:\d+\.)+)(\d+)\s*(?:-|–)\s*\1(\d+)$")
_WORD = re.compile(r"\w")


def _range(chunk: str) -> list[str] | None:
    """``1-3`` as 1, 2, 3 and ``2.1-2.3`` as 2.1, 2.2, 2.3; None when not such a range."""
    span = _NUMERIC_RANGE.match(chunk)
    if span:
        prefix, first, last = "", int(span.group(1)), int(span.group(2))
    else:
        span = _DOTTED_RANGE.match(chunk)
        if not span:
            return None
        prefix, first, last = span.group(1), int(span.group(2)), int(span.group(3))
    if not first < last <= first + 100:
        return None
    return [f"{prefix}{n}" for n in range(first, last + 1)]


def parse_id_list(value: str) -> list[str]:
    """Parse a dependency value: ``Phase 1, Phase 2``, ``[1, 2]``, ``none``, ``1-3``.

    Ids keep their spelling ("2a", "2.1", "FINAL"); ``2.1-2.3`` is a range of dotted ids;
    order is kept and repeats are dropped.
    """
    if is_none_value(value):
        return []
    text = _PARENS.sub(" ", value)
    text = text.replace("[", " ").replace("]", " ").replace('"', " ").replace("'", " ")
    text = _ID_WORDS.sub(",", text)
    ids: list[str] = []
    for chunk in re.split(r"[,;&/+]", text):
        chunk = chunk.strip()
        if not chunk or is_none_value(chunk):
            continue
        for word in _range(chunk) or chunk.split():
            word = word.strip(".:`*#")
            if word and _WORD.search(word) and word not in ids:
                ids.append(word)
    return ids


_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(_NUMBER + r"\s*(?:-|–|to)\s*" + _NUMBER)
_SINGLE = re.compile(_NUMBER)
_UNIT = re.compile(r"(min|minute|m\b|hour|hr|h\b|day|d\b|week|w\b|sec|second|s\b)", re.IGNORECASE)
_UNIT_HOURS = {"min": 1 / 60, "minute": 1 / 60, "m": 1 / 60, "hour": 1.0, "hr": 1.0, "h": 1.0,
               "day": 8.0, "d": 8.0, "week": 40.0, "w": 40.0,
               "sec": 1 / 3600, "second": 1 / 3600, "s": 1 / 3600}


def parse_hours(value: str) -> float | None:
    """Parse an estimate in hours: ``6``, ``2-3`` (midpoint), ``30 min``, ``1.5 hours``."""
    text = value.strip().lstrip("~≈").strip()
    ranged = _RANGE.search(text)
    if ranged:
        amount = (float(ranged.group(1)) + float(ranged.group(2))) / 2
        rest = text[ranged.end():]
    else:
        single = _SINGLE.search(text)
        if not single:
            return None
        amount = float(single.group(1))
        rest = text[single.end():]
    unit = _UNIT.search(rest[:12])
    factor = _UNIT_HOURS[unit.group(1).lower()] if unit else 1.0
    hours = round(amount * factor, 4)
    return hours if math.isfinite(hours) else None


_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)?",
    re.IGNORECASE,
)
_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
            "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
            "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
            "millisecond": 0.001, "milliseconds": 0.001}


def parse_timeout(value: str) -> int | None:
    """Parse a timeout into seconds: ``15m``, ``1h30m``, ``90s``, ``90`` (seconds)."""
    text = value.strip().lower()
    if is_none_value(text):
        return None
    total = 0.0
    matched = False
    for number, unit in _DURATION_PART.findall(text):
        matched = True
        total += float(number) * _SECONDS[unit or "s"]
    if not matched or total <= 0:
        return None
    return max(1, round(total))


def parse_files(value: str, codes: list[str]) -> list[str]:
    """Files from a field value: its code spans when it has any, else comma-separated words."""
    if codes:
        return [code.strip() for code in codes if code.strip()]
    if is_none_value(value):
        return []
    files = []
    for part in re.split(r",|;", value):
        part = _PARENS.sub("", part).strip().strip("`*")
        if part and not is_none_value(part):
            files.append(part.split()[0])
    return files


SHELL_LANGUAGES = frozenset({"", "bash", "sh", "shell", "zsh"})


def is_shell_info(info: str) -> bool:
    """True when a fence's info string names a shell, or nothing: such a block can be run."""
    return info.strip().lower() in SHELL_LANGUAGES


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def split_commands(script: str) -> list[str]:
    """Split a shell block into commands: one per non-empty, non-comment line.

    A line ending in a backslash continues on the next; a here-document stays with its
    command up to the terminator, so multi-line constructs are never cut in half.
    """
    commands: list[str] = []
    lines = script.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [line.rstrip()]
        while parts[-1].endswith("\\") and index < len(lines):
            parts.append(lines[index].rstrip())
            index += 1
        heredoc = _HEREDOC.search(parts[-1])
        if heredoc:
            terminator = heredoc.group(2)
            while index < len(lines):
                parts.append(lines[index].rstrip())
                index += 1
                if parts[-1].strip() == terminator:
                    break
        commands.append("\n".join(parts).strip() if len(parts) > 1 else stripped)
    return commands
