"""The engine, pure: a run's state as a fold of its journal events, the step specs a plan
gives, the decisions (what starts next, what a resume changes, how a run closes), policy
(cost cap, file conflicts), outcomes, the scheduler, failure classes and backoff, and the
/orchestrate workflow's phases. Every decision both drivers need lives here, once. No
I/O; it imports only ``plan`` and the base modules, and everything above may import it.
"""
