"""Commands that meet a team where it works: ``mcp`` (crewchief as a host agent's tools),
``report`` (a run's review dossier) and ``export`` (its integration as a branch)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from crewchief.cli.common import JsonOpt, RepoOpt, RunArg, app, emit, open_run, out, repo_root
from crewchief.errors import UserError


@app.command("mcp")
def mcp_cmd(
    repo: RepoOpt = Path("."),
    host_name: Annotated[
        str,
        typer.Option(
            "--host-name", metavar="NAME", help="Name recorded as reviewer, e.g. claude-code."
        ),
    ] = "mcp-host",
) -> None:
    """Serve crewchief to a host agent over MCP (stdio): plan, run, review, merge, blame."""
    from crewchief.host.mcp import serve

    serve(repo_root(repo), host_name)


@app.command("report")
def report_cmd(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A run's review dossier in Markdown (or JSON): plan, tasks, checks, verdicts, cost, suite,
    merge order and provenance."""
    from crewchief.ledger import report

    root, ledger, rid, _ = open_run(repo, run_id)
    data = report.build(root, ledger, rid)

    def show() -> None:
        sys.stdout.write(report.markdown(data))

    emit(data, as_json, show)


@app.command("export")
def export_cmd(
    run_id: RunArg = None,
    branch: Annotated[
        str, typer.Option(metavar="NAME", help="Branch to create at the integration commit.")
    ] = "",
    push: Annotated[
        str | None, typer.Option(metavar="REMOTE", help="Remote to push the branch to.")
    ] = None,
    repo: RepoOpt = Path("."),
) -> None:
    """Write a run's integration commits to a branch (and push it), e.g. to open a pull request."""
    from crewchief.merge.export import export

    if not branch:
        raise UserError("say which branch to write: --branch NAME")
    root, ledger, rid, _ = open_run(repo, run_id)
    done = export(root, ledger, rid, branch, push)
    where = f" and pushed to {done.remote}" if done.remote else ""
    out.print(f"{done.branch} → {done.commit[:12]} ({len(done.commits)} commit(s)){where}")
