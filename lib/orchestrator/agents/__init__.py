"""Subagents: the Markdown definitions (frontmatter plus a prompt) that say who does a
phase, looked up in the project, then the user's home, then the ones bundled here; and the
backends that run one (``claude -p``, or a command template). Nothing here decides or
keeps state. Imported by ``executors``, ``session`` and above; imports only ``config``
and the base modules.
"""
