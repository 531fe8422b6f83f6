"""Drivers move a run: the session (open, start, resume over a store) both share, the
headless loop with its processes, and the `wf` next-action protocol."""
