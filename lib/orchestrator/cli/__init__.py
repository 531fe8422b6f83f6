"""The command-line adapter: one parser module per command group (``main`` for plan,
run, status and runs; ``wf``, ``hook``, ``topic``, ``checkpoint``, ``error``,
``workflow``), the argument types they share in ``args``, and the one output renderer in
``output``. No decisions and no file access of its own: a handler turns arguments into a
call on a driver, a playbook or the plan layer. The top layer: nothing in the package
imports it. ``main`` is the console script's entry point."""

from orchestrator.cli.main import main

__all__ = ["main"]
