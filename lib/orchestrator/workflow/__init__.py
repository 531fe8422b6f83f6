"""The building blocks of the `/orchestrate` workflow: topic folders for its artifacts,
the analysis of a feature description, and the metadata read back from its reports."""
