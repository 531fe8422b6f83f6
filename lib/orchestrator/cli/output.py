"""The CLI's one renderer: a command's core returns a Result, and this prints it, as text
or as one JSON object (``--json``), with its warnings on stderr.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

__all__ = ["Result", "render", "print_json", "write_text", "printed"]

printed = False  # whether this call printed its JSON answer (errors then add none)


@dataclass(slots=True)
class Result:
    """What a command hands the CLI to print.

    ``data`` is the ``--json`` answer (with its ``schema``); ``text`` what a person reads
    (printed byte for byte, odd bytes from argv included, but for terminal escapes and
    control characters, which are dropped); ``warnings`` go to stderr
    first; ``code`` is the exit code. A command that has no JSON form leaves ``data`` None.
    """

    data: dict | None = None
    text: str = ""
    warnings: list[str] = field(default_factory=list)
    code: int = 0


def render(result: Result | int, as_json: bool) -> int:
    """Print ``result`` and return its exit code (an int is a code already printed for)."""
    if isinstance(result, int):
        return result
    from orchestrator.fmt import clean

    for warning in result.warnings:
        print(clean(warning), file=sys.stderr)
    if as_json and result.data is not None:
        print_json(result.data)  # JSON escapes control characters itself
    elif result.text:
        write_text(clean(result.text))  # no terminal escape from a planted file gets out
    return result.code


def print_json(data: dict) -> None:
    """One JSON object on stdout: indented for a person at a terminal, compact (and much
    faster to produce for large objects) for a program."""
    import json

    global printed
    indent = 2 if sys.stdout.isatty() else None
    printed = True
    write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def write_text(text: str) -> None:
    """``text`` on stdout byte for byte: a string read from odd bytes (surrogate escapes)
    goes back out as those bytes."""
    sys.stdout.flush()
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a test's StringIO
        sys.stdout.write(data.decode("utf-8", "replace"))
        return
    buffer.write(data)
    buffer.flush()
