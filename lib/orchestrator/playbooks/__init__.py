"""What each slash command adds around the engine's runs, one folder per command:
``orchestrate`` (the /orchestrate workflow: topic folders, description analysis, report
metadata, its growth as steps finish, its closing steps) and ``execute_plan`` (the plan's
checkpoints section, the day log, the opening questions, the final test and lint run).
Their listeners follow a run whichever driver moves it; their decisions of run state
come from ``engine``. Imports ``engine``, ``store``, ``render``, ``plan`` and ``config``;
imported by ``session``, ``drivers`` and ``cli``, never by each other.
"""
