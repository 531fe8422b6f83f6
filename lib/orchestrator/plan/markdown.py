"""Markdown to a flat stream of line-anchored blocks, using markdown-it-py.

The readers never look at raw lines: a heading, field or "Checkpoint" inside a fenced code
block is part of a ``code`` block here, so it cannot be mistaken for structure.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

__all__ = ["Block", "blocks_from_markdown"]


@dataclass(slots=True)
class Block:
    """One element of the document, in reading order.

    kind is ``heading`` (text = heading text, level = 1..6), ``text`` (one source line of a
    paragraph or list item; level = list depth, item_start = first line of a list item),
    ``code`` (a fenced or indented block; text = its content, info = the fence's language,
    fenced = False for an indented block; line = the opening fence's line),
    ``list_open`` / ``list_close`` (level = the list's depth).
    """

    kind: str
    line: int
    text: str = ""
    level: int = 0
    info: str = ""
    item_start: bool = False
    fenced: bool = False
    codes: list[str] = field(default_factory=list)  # inline code spans on a text line


def _parser():
    from markdown_it import MarkdownIt

    # Block structure only. Inline parsing (emphasis, links, entities) is most of
    # markdown-it's time and plans need little of it: `_inline_text` does that part.
    # html=True so that HTML blocks, comments included, are recognised and skipped.
    return MarkdownIt("commonmark", {"html": True}).disable(["inline", "reference"])


_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_EMPHASIS = re.compile(r"(?<![\w\\])[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _plain(text: str) -> str:
    # Each pass runs only when its trigger character is present: most lines have none.
    if "[" in text:
        text = _LINK.sub(_first_group, text)
    if "*" in text or "_" in text:
        text = _EMPHASIS.sub("", text)
    if "\\" in text:
        text = _ESCAPE.sub(_first_group, text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _first_group(found: re.Match) -> str:
    return found.group(1)


def _inline_text(source: str) -> tuple[str, list[str]]:
    """Plain text of one line of inline Markdown, and its code spans' contents.

    Code spans are kept verbatim; outside them emphasis markers, backslash escapes and link
    targets are dropped and entities decoded.
    """
    if "`" not in source:
        return " ".join(_plain(source).split()), []
    parts: list[str] = []
    codes: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(source):
        parts.append(_plain(source[position:span.start()]))
        code = span.group(2)
        if len(code) > 2 and code[0] == code[-1] == " " and code.strip():
            code = code[1:-1]
        parts.append(code)
        codes.append(code)
        position = span.end()
    parts.append(_plain(source[position:]))
    return " ".join("".join(parts).split()), codes


def _strip_front_matter(text: str) -> str:
    """Blank out a leading YAML front matter block, keeping the line count."""
    if not text.startswith("---"):
        return text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return text
    for index in range(1, min(len(lines), 200)):
        if lines[index].strip() in ("---", "..."):
            return "\n" * (index + 1) + "\n".join(lines[index + 1 :])
    return text


def _inline_lines(token, first_line: int):
    """Split an inline token into (line, plain text, code spans) per source line."""
    return [
        (first_line + index, *_inline_text(source))
        for index, source in enumerate(token.content.split("\n"))
    ]


def blocks_from_markdown(text: str) -> list[Block]:
    """Parse Markdown text into the flat block stream the plan readers consume."""
    tokens = _parser().parse(_strip_front_matter(text))
    blocks: list[Block] = []
    list_depth = 0
    heading_level = 0
    item_pending = False
    for token in tokens:
        kind = token.type
        start = token.map[0] + 1 if token.map else (blocks[-1].line if blocks else 1)
        if kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
            blocks.append(Block("list_open", start, level=list_depth))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            blocks.append(Block("list_close", blocks[-1].line if blocks else 1, level=list_depth))
            list_depth -= 1
        elif kind == "list_item_open":
            item_pending = True
        elif kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "inline":
            if heading_level:
                text_line = " ".join(part for _, part, _ in _inline_lines(token, start) if part)
                blocks.append(Block("heading", start, text=text_line, level=heading_level))
                continue
            for index, (line, plain, codes) in enumerate(_inline_lines(token, start)):
                blocks.append(
                    Block(
                        "text",
                        line,
                        text=plain,
                        level=list_depth,
                        item_start=item_pending and index == 0,
                        codes=codes,
                    )
                )
            item_pending = False
        elif kind in ("fence", "code_block"):
            info = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
            blocks.append(Block("code", start, text=token.content, level=list_depth, info=info,
                                fenced=kind == "fence"))
            item_pending = False
    return blocks
