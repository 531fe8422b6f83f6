"""Output helpers shared by the CLI modules."""

from __future__ import annotations

import sys


def print_json(data: dict) -> None:
    """One JSON object on stdout: indented for a person at a terminal, compact (and much
    faster to produce for large objects) for a program."""
    import json

    indent = 2 if sys.stdout.isatty() else None
    print(json.dumps(data, indent=indent, ensure_ascii=False))
