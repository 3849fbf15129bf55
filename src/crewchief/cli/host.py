"""Commands that meet a team where it works: ``mcp`` (crewchief as a host agent's tools),
``report`` (a run's review dossier) and ``export`` (its integration as a branch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crewchief.cli.common import RepoOpt, app, repo_root


@app.command("mcp")
def mcp_cmd(
    repo: RepoOpt = Path("."),
    host_name: Annotated[
        str, typer.Option("--host-name", help="Name recorded as reviewer, e.g. claude-code.")
    ] = "mcp-host",
) -> None:
    """Serve crewchief to a host agent over MCP (stdio): plan, run, review, merge, blame.

    Example: claude mcp add crewchief -- crewchief mcp --repo . --host-name claude-code
    """
    from crewchief.mcp_server import serve

    serve(repo_root(repo), host_name)
