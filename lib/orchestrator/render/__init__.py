"""Turning a run into text for people and agents: prompts, the debug log, the run log,
the summary, the /orchestrate workflow's summary and PR body, progress lines, status
text, Mermaid charts and the dry run. Functions of state in, text out; the few that write
go through ``store.safefs``. Imports ``engine``, ``plan``, ``verify`` and ``store``;
imported by ``executors``, ``session``, ``drivers`` and ``cli``.
"""
