"""The engine: runs as event-sourced state, pure transitions, and next-action decisions."""
