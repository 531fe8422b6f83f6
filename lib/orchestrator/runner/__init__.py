"""The headless driver: runs steps as processes, checks their evidence, reports outcomes."""
