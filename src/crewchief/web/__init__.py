"""The review web page: runs, plans, diffs, checks, verdicts and the human gate, served locally.

Server-rendered (Starlette + Jinja2), readable without JavaScript; a small script only keeps task
states live. Every read is a query in ``crewchief.ledger.views``; every action is the same library
call the CLI makes (``crewchief.merge.land``), recorded in the ledger with who and when.
"""
