"""Small text helpers shared by the run renderings: times, durations, money, tables.

Local times follow the process time zone (``TZ``); machine-facing times are UTC. Every helper
is total: an impossible figure read from a damaged state file (NaN, infinity, a time before
1970 or after 9999) prints as ``?`` (None for machines) instead of raising.
"""

from __future__ import annotations

import math
import re
import time

__all__ = [
    "clean",
    "clock",
    "duration",
    "first_line",
    "iso_utc",
    "local_time",
    "money",
    "same_local_day",
    "seconds",
    "table",
    "truncate",
]

UNKNOWN = "?"  # what an impossible time, duration or amount prints as
LATEST = 253402300799  # 9999-12-31T23:59:59Z: the last second a date has four digits for

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """``text`` without terminal escapes and control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", text)


def first_line(text: str | None, limit: int = 200) -> str:
    """The first non-blank line of ``text``, cleaned and cut to ``limit`` characters."""
    for line in clean(text or "").splitlines():
        if line.strip():
            return truncate(line.strip(), limit)
    return ""


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def _struct(at, convert=time.localtime) -> time.struct_time | None:
    """``convert(at)`` for a time from 1970 to 9999; None for anything else."""
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at <= LATEST:
        return None  # NaN fails the comparison too
    try:
        return convert(at)
    except (OverflowError, OSError, ValueError):
        return None


def local_time(at: float | None, with_date: bool = True) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (or ``HH:MM:SS``) in local time; ``-`` when unknown, ``?``
    when impossible."""
    if at is None:
        return "-"
    moment = _struct(at)
    if moment is None:
        return UNKNOWN
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S", moment)


def same_local_day(at: float | None, other: float | None) -> bool:
    """Whether both times fall on the same local date (False when either is not a time)."""
    first, second = _struct(at), _struct(other)
    return first is not None and second is not None and first[:3] == second[:3]


def clock(at: float) -> str:
    """``HH:MM:SS`` in local time."""
    return local_time(at, with_date=False)


def iso_utc(at: float | None) -> str | None:
    """``2026-11-21T19:40:01Z``, or None when unknown or impossible."""
    moment = _struct(at, time.gmtime)
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)


def seconds(value: float) -> str:
    """A limit as configured: ``900 s``, ``1.5 s``."""
    return f"{value:g} s"


def duration(value: float | None) -> str:
    """``0.4 s``, ``12.3 s``, ``4 min 05 s``, ``1 h 05 min``; ``-`` when unknown."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return UNKNOWN
    value = max(value, 0.0)
    if value < 60:
        return f"{value:.1f} s"
    whole = int(round(value))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def money(value: float) -> str:
    """Dollars with cents, or four decimals below ten cents; ``?`` for NaN or infinity."""
    if not math.isfinite(value):
        return UNKNOWN
    return f"${value:.4f}" if 0 < value < 0.1 else f"${value:.2f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns aligned with two spaces; no trailing whitespace."""
    cells = [headers] + rows
    widths = [max(len(row[col]) for row in cells) for col in range(len(headers))]
    lines = []
    for row in cells:
        padded = [value.ljust(widths[col]) for col, value in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"
