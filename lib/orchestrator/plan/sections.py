"""Where a plan's phases are: phase headings ("Phase 2: ...", "BLOQUE 3", dotted ids), the
status marks on them, and the sections (implementation, deferred, execution order) that
say which phases are steps to run and which are kept for later."""

from __future__ import annotations

import re
from typing import NamedTuple

from orchestrator.errors import Diagnostic
from orchestrator.plan.markdown import Block

__all__ = ["Section", "choose_sections", "phase_heading", "section_kind", "split_sections"]

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
_STATUS_MARKS = " \t✅❌⏳🔄✓✔☑⚠️🚧"

# Headings (level 2 or deeper) that say what the phases under them are.
_IMPLEMENTATION_SECTION = re.compile(r"\bimplementation\b", re.IGNORECASE)
_DEFERRED_SECTION = re.compile(
    r"\b(?:future\s+(?:enhancements?|work|phases?|improvements?|ideas?)|deferred|"
    r"out[\s-]+of[\s-]+scope|later|backlog|nice[\s-]+to[\s-]+haves?)\b",
    re.IGNORECASE,
)
_ORDER_SECTION = re.compile(r"\b(?:dependencies|execution\s+order)\b", re.IGNORECASE)

class _Heading(NamedTuple):
    word: str
    id: str
    title: str
    deferred: bool
    complete: bool = False


class Section:
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


def phase_heading(text: str) -> _Heading | None:
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


def section_kind(block: Block) -> str | None:
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


def split_sections(blocks: list[Block]):
    """Group blocks under phase headings; return (title, sections, parallel blocks).

    ``enclosing`` holds the (level, kind, line) of the headings around the current block; a
    phase-shaped heading under a Dependencies or Execution Order section is not a phase.
    """
    title = None
    sections: list[Section] = []
    parallel: list[Block] = []
    current: Section | None = None
    in_parallel_level = 0
    enclosing: list[tuple[int, str | None, int]] = []
    for block in blocks:
        if block.kind == "heading":
            if title is None and block.level == 1:
                title = block.text
            while enclosing and enclosing[-1][0] >= block.level:
                enclosing.pop()
            kinds = [kind for _, kind, _ in enclosing]
            heading = None if "order" in kinds else phase_heading(block.text)
            if heading:
                within = next((line for _, kind, line in reversed(enclosing)
                               if kind == "implementation"), None)
                current = Section(heading, block.line, block.level, within,
                                   heading.deferred or "deferred" in kinds)
                sections.append(current)
                enclosing.append((block.level, "phase", block.line))
                in_parallel_level = 0
                continue
            enclosing.append((block.level, section_kind(block), block.line))
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


def choose_sections(sections: list[Section], path: str, warnings: list[Diagnostic]):
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


