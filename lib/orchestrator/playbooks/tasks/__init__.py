"""The task lifecycle's files: tasks.yaml read with a line for every error (``taskfile``),
the steps a task gains as its planner, reviewers, implementer and quality gate finish
(``growth``, over engine/lifecycle.py and engine/routing.py), the gate's default checks
(``gate``), and the review queue read across every task's run (``queue``). Imported by
``session`` (the growth listener), ``drivers`` and ``cli``."""
