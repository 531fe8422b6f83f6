"""What the engine keeps of any text is bounded: a few KB per event, whatever a step printed.

The full output of a step stays in its own log file; journal events, the state built from
them, the reports and the JSON answers carry at most these sizes.
"""

from __future__ import annotations

__all__ = ["MAX_TEXT", "MAX_LINE", "MAX_TAIL_LINES", "clip_text", "clip_line", "bound_event"]

MAX_TEXT = 4096  # any string in an event: paths, titles, errors, notes
MAX_LINE = 400  # one line of a step's output tail
MAX_TAIL_LINES = 20
_TAIL_KEYS = frozenset({"tail", "last_output"})


def clip_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` if short enough, else its head and end with the number of chars cut."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 16)
    head, end = keep * 3 // 4, keep // 4
    return f"{text[:head]} [... {len(text) - head - end} chars cut ...] {text[-end:]}"


def clip_line(line: str, limit: int = MAX_LINE) -> str:
    return line if len(line) <= limit else line[:limit] + f" [... {len(line) - limit} more]"


def bound_event(value, key: str | None = None):
    """A copy of ``value`` (an event or part of one) with every string clipped and output
    tails cut to their last lines. Lists and dicts are otherwise kept whole: a run's step
    specs are data, not output.
    """
    if isinstance(value, str):
        return clip_text(value)
    if isinstance(value, dict):
        return {name: bound_event(item, name) for name, item in value.items()}
    if isinstance(value, list):
        if key in _TAIL_KEYS:
            return [clip_line(item) if isinstance(item, str) else bound_event(item)
                    for item in value[-MAX_TAIL_LINES:]]
        return [bound_event(item) for item in value]
    return value
