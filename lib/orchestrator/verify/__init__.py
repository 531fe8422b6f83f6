"""Evidence that a step did its work: snapshots of the tree, checks, and the verdict."""
