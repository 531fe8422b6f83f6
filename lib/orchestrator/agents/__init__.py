"""Subagent definitions: the Markdown files (frontmatter plus a prompt) that say who does a
phase, looked up in the project, then the user's home, then the ones bundled here.
"""
