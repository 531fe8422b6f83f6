"""The gist of a research report: what the next agent is handed instead of the report.

The seed passes each report on as its path, a title, a summary of about 50 words and 3-5
key findings; the rest stays in the file. The output is bounded whatever the file holds:
only its first ``READ_LIMIT`` bytes are read, every string is clipped, the lists capped.
"""

from __future__ import annotations

import re

from orchestrator.errors import OrchestrateError
from orchestrator.store import safefs

__all__ = ["MetadataError", "extract_report_metadata", "READ_LIMIT", "BINARY_PROBE", "MAX_TITLE",
           "MAX_SUMMARY", "SUMMARY_WORDS", "MAX_FINDINGS", "MAX_FINDING", "MAX_SECTIONS",
           "MAX_SECTION"]

READ_LIMIT = 1 << 20  # bytes read from the report; the rest is not looked at
BINARY_PROBE = 8192  # a NUL byte in this many first bytes: a binary file, not a report
MAX_TITLE = 200
MAX_SUMMARY = 300
SUMMARY_WORDS = 50
MAX_FINDINGS = 5
MAX_FINDING = 160
MAX_SECTIONS = 20
MAX_SECTION = 80

_SUMMARY_HEADING = re.compile(r"(?:executive summary|summary|overview)")
_FINDINGS_HEADING = re.compile(r"(?:key |main |top )?(?:findings|recommendations)\b")
_LABEL_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # terminal colours and cursor moves
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffd]+")


class MetadataError(OrchestrateError):
    """A report that cannot be read."""


def extract_report_metadata(path) -> dict:
    """``{"path", "title", "summary", "key_findings", "sections", "truncated", "binary"}``
    of the Markdown report at ``path``.

    ``title`` is the first heading (None without one); ``summary`` the first paragraph
    under an "Executive Summary", "Summary" or "Overview" heading, else the first after
    the title; ``key_findings`` the items of the first list under a "Key Findings",
    "Findings" or "Recommendations" heading; ``sections`` the level-2 headings;
    ``truncated`` whether the file is longer than what was read; ``binary`` whether it
    holds a NUL byte early on (then nothing else is extracted). The file is read
    without following a symbolic link: a report a repository planted as a link to a
    private file is refused, not summarised into a prompt.
    """
    try:
        raw = safefs.read_regular(path, limit=READ_LIMIT + 1)
    except FileNotFoundError:
        raise MetadataError(f"{path}: no such file") from None
    except safefs.UnsafePath:
        raise
    except OSError as error:
        raise MetadataError(f"{path}: cannot read: {error.strerror or error}") from None
    if b"\0" in raw[:BINARY_PROBE]:  # not text: nothing in it is a title or a finding
        return {"path": str(path), "title": None, "summary": None, "key_findings": [],
                "sections": [], "truncated": len(raw) > READ_LIMIT, "binary": True}
    from orchestrator.plan.markdown import blocks_from_markdown

    blocks = blocks_from_markdown(raw[:READ_LIMIT].decode("utf-8", "replace"))
    headings = [index for index, block in enumerate(blocks) if block.kind == "heading"]
    title = _clip(blocks[headings[0]].text, MAX_TITLE) if headings else None
    return {"path": str(path), "title": title or None,
            "summary": _summary(blocks, headings),
            "key_findings": _findings(blocks, headings),
            "sections": [_clip(blocks[index].text, MAX_SECTION) for index in headings
                         if blocks[index].level == 2][:MAX_SECTIONS],
            "truncated": len(raw) > READ_LIMIT, "binary": False}


def _clip(text: str, limit: int, words: int | None = None) -> str:
    """``text`` on one line, at most ``words`` words and ``limit`` characters, cut at a
    space and marked with an ellipsis when shortened."""
    parts = _CONTROL.sub(" ", _ANSI.sub(" ", text) if "\x1b" in text else text).split()
    cut = words is not None and len(parts) > words
    line = " ".join(parts[:words] if cut else parts)
    if len(line) > limit:
        line = line[:limit - 1]
        line = line.rsplit(" ", 1)[0] if " " in line else line
        cut = True
    return f"{line.rstrip(' ,;:')}…" if cut else line


def _label(text: str) -> str:
    """A heading as words to compare: "## 2. Key Findings:" is "key findings"."""
    return _LABEL_EDGES.sub("", " ".join(text.lower().split()))


def _section(blocks, headings: list[int], start: int) -> list:
    """The blocks under the heading at ``start``, up to the next heading of its level or
    a higher one."""
    level = blocks[start].level
    end = next((index for index in headings if index > start and blocks[index].level <= level),
               len(blocks))
    return blocks[start + 1:end]


def _first_paragraph(blocks, *, top_level_only: bool) -> str | None:
    """The first run of text lines on consecutive source lines, at one list depth."""
    run = []
    for block in blocks:
        if block.kind == "heading" and run:
            break
        if block.kind != "text" or (top_level_only and block.level) or not block.text:
            if run:
                break
            continue
        if run and (block.line != run[-1].line + 1 or block.level != run[-1].level):
            break
        run.append(block)
    return " ".join(block.text for block in run) or None


def _summary(blocks, headings: list[int]) -> str | None:
    for index in headings:
        if _SUMMARY_HEADING.fullmatch(_label(blocks[index].text)):
            text = _first_paragraph(_section(blocks, headings, index), top_level_only=False)
            if text:
                return _clip(text, MAX_SUMMARY, SUMMARY_WORDS)
    after_title = blocks[headings[0] + 1:] if headings else blocks
    text = _first_paragraph(after_title, top_level_only=True)
    return _clip(text, MAX_SUMMARY, SUMMARY_WORDS) if text else None


def _findings(blocks, headings: list[int]) -> list[str]:
    for index in headings:
        if not _FINDINGS_HEADING.match(_label(blocks[index].text)):
            continue
        items = _list_items(_section(blocks, headings, index))
        if items:
            return [_clip(item, MAX_FINDING) for item in items[:MAX_FINDINGS]]
    return []


def _list_items(blocks) -> list[str]:
    """The texts of the items of the first list in ``blocks``, nested lists left out."""
    items: list[list[str]] = []
    depth = None
    for block in blocks:
        if block.kind == "list_open" and depth is None:
            depth = block.level
        elif block.kind == "list_close" and block.level == depth:
            break
        elif block.kind == "text" and depth is not None and block.level == depth:
            if block.item_start or not items:
                items.append([])
                if len(items) > MAX_FINDINGS:
                    break
            items[-1].append(block.text)
    return [text for text in (" ".join(lines).strip() for lines in items) if text]
