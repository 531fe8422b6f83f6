"""Evidence that a step did its work: snapshots of the tree and their diff, the checks a
phase asks for, the contract (one list of items that becomes the prompt's checks, `wf`'s
``expects`` and the engine's file checks) and the verdict that turns evidence into an
outcome. Imports ``plan``, ``engine`` and the base modules; imported by ``render``,
``executors`` and above.
"""
