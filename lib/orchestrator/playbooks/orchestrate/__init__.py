"""The /orchestrate workflow's files and folders: the topic folder ``specs/NNN_slug``
(``location``), what a feature description asks for (``analysis``), the metadata read
back from its reports (``metadata``), the phases it gains as steps finish (``growth``)
and its closing steps, the workflow summary and the pull request (``closing``). Its
phases themselves are decided in engine/workflow.py. Imported by ``session``, ``drivers``
and ``cli``."""
