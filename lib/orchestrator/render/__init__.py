"""Turning results into text: Mermaid diagrams and, later, logs and reports."""
