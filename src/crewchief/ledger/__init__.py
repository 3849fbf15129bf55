"""The ledger and its reads: the SQLite store, its migrations, the redactor, and the read models
every face shows."""
