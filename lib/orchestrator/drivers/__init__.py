"""Drivers move a run from outside, as thin adapters over the session layer: ``run`` and
``headless`` (`orchestrate run`, holding the lock for the whole run and driving several
executions at once), ``wf`` with ``wf_start`` and ``wf_actions`` (the next-action
protocol, one call and one short lock at a time), ``hooks`` (Claude Code's hook events)
and ``closing`` (the /orchestrate workflow's summary and PR steps). What starts next, and
what an outcome means, they ask ``engine``. Imported only by ``cli``.
"""
