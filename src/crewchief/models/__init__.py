"""Model access for the manager, workers and reviewer: provider strings to pydantic-ai models
(``providers``), a price table (``pricing``), and model calls as ledger records (``usage``).

Nothing here imports a provider SDK at import time: ``crewchief --help`` must stay fast.
"""
