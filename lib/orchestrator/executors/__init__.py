"""One attempt of one step: ``command`` runs a command step's Run block and checks,
``agent`` runs an agent and then checks its evidence, ``agent_request`` builds what the
agent is given (prompt, model, budget), ``blocking`` drives one to its end in this
process (the `wf` calls), and ``watched`` and ``procs`` own the process group, its
bounded output and its watchdog.

The interface an executor offers its driver is small: ``start()``, ``fds()``,
``owns_pipe(fd)``, ``read_output()``, ``poll(now) -> Outcome | None`` and ``kill()``. A
remote or durable executor plugs in by offering the same six, and the headless runner
drives it unchanged. Executors decide nothing about the run: they return an ``Outcome``
and the driver records it. Imports ``agents``, ``render``, ``store``, ``verify``,
``engine`` and ``plan``; imported by ``session`` and ``drivers``.
"""
