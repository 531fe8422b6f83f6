"""The command-line adapter: argument parsing per command group, no decisions, no file
access of its own. ``main`` is the console script's entry point."""

from orchestrator.cli.main import main

__all__ = ["main"]
