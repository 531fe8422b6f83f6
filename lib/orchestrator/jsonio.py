"""JSON from files the project reads back (config, checkpoints, error reports, journals).

``json.loads`` recurses once per level of nesting, so a file nested 100,000 deep raises
RecursionError, which no ``except ValueError`` catches. ``loads_bounded`` measures the
nesting first (a cheap scan that skips strings) and refuses anything deeper than
``max_depth`` with JSONTooDeep, a ValueError: a damaged or hostile file is then one more kind
of invalid JSON.
"""

from __future__ import annotations

import json
from itertools import accumulate

__all__ = ["MAX_DEPTH", "JSONTooDeep", "loads_bounded", "nesting_depth"]

MAX_DEPTH = 64  # far deeper than anything the project writes
_NOT_MARK = bytes(b for b in range(256) if b not in b'"[]{}')  # UTF-8 keeps ASCII apart
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JSONTooDeep(ValueError):
    """JSON that nests arrays and objects more than ``max_depth`` levels deep."""

    def __init__(self, label: str, max_depth: int):
        self.label = label
        self.max_depth = max_depth
        super().__init__(f"{label}: JSON nested more than {max_depth} levels deep")


def nesting_depth(text: str) -> int:
    """How deeply ``text`` nests arrays and objects; brackets inside strings do not count.

    Byte operations only, no per-character Python: drop the escapes that matter (``\\\\``,
    ``\\"``), keep quotes and brackets, drop empty strings, then what is inside the rest.
    """
    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(None, _NOT_MARK).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, marks)), default=0)


def loads_bounded(data: str | bytes | bytearray, label: str, max_depth: int = MAX_DEPTH,
                  **options):
    """``json.loads(data, **options)`` that never raises RecursionError.

    Raises JSONTooDeep (a ValueError naming ``label``) when arrays and objects nest more
    than ``max_depth`` levels; otherwise exactly what ``json.loads`` raises for bad input:
    json.JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8/16/32 (both
    ValueErrors).
    """
    if isinstance(data, bytes | bytearray):
        data = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    # fewer brackets than the limit cannot nest past it: most texts need no scan
    if data.count("[") + data.count("{") > max_depth and nesting_depth(data) > max_depth:
        raise JSONTooDeep(label, max_depth)
    try:
        return json.loads(data, **options)
    except RecursionError:  # little stack left in the caller: still just bad input
        raise JSONTooDeep(label, max_depth) from None
