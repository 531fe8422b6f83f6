"""Argument types shared by the parsers of every command group (`run`, `wf start`, ...),
so that one flag means one thing and gives one error wherever it appears. argparse loads
only when a value is checked: `orchestrate --version` must not pay for it."""

from __future__ import annotations

__all__ = ["amount", "positive_int"]


def amount(text: str) -> float:
    """A cost cap in USD: a finite number, 0 or more."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {text!r}") from None
    if not math.isfinite(value):  # inf, nan, 1e309: JSON (the journal) has no such number
        raise argparse.ArgumentTypeError(f"expected a finite amount in USD, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def positive_int(text: str) -> int:
    """A count such as --jobs: a whole number, 1 or more."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
