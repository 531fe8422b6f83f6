"""What /execute-plan keeps and asks beside the engine's own records: which plan file and
log a run keeps (``records``), the plan's ``## Execution Checkpoints`` section
(``checkpoints``), the day's execution log under .ai/logs (``day_log``), the questions
before the first phase (``opening``) and the final test and lint run (``closing``).
Imported by ``session`` (the listeners) and ``drivers`` (the asks)."""
