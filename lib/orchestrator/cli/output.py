"""Output helpers shared by the CLI modules."""

from __future__ import annotations

import sys

printed = False  # whether this process printed its JSON answer


def print_json(data: dict) -> None:
    """One JSON object on stdout: indented for a person at a terminal, compact (and much
    faster to produce for large objects) for a program."""
    import json

    global printed
    indent = 2 if sys.stdout.isatty() else None
    printed = True
    print(json.dumps(data, indent=indent, ensure_ascii=False))
