"""The session both drivers share: open a project and a run's store, start a run of a
plan or resume one, and attach the listeners that follow it (the reports: debug log,
run log, summary, error reports; and the playbooks' listeners). ``runs`` holds the
functions, ``reports`` the listeners. A run started by one driver is the same run to the
other. Imports every layer below it; imported by ``drivers`` only.
"""
