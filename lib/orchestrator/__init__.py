"""orchestrate: verified, resumable multi-agent development workflows for Claude Code.

The package is layered, lowest first: the base modules here (``errors``, ``jsonio``,
``redact``, ``fmt``), then ``plan``, ``engine``, ``verify``, ``config``, ``store``,
``render``, ``agents``, ``executors``, ``playbooks``, ``session``, ``drivers`` and ``cli``.
A module imports only from its own layer or a lower one; docs/architecture.md draws the
layers and tests/test_layers.py holds them.
"""

__version__ = "0.1.0"
