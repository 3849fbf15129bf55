"""Commands around the pipeline: doctor, blame, map, demo, serve."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crewchief.cli.common import JsonOpt, RepoOpt, app, emit, out, repo_root
from crewchief.errors import UserError
from crewchief.intel.commands import map_command
from crewchief.web.commands import serve_command

if TYPE_CHECKING:
    from crewchief.config import Config

app.command("serve")(serve_command)
app.command("map")(map_command)


@app.command("doctor")
def doctor_cmd(
    repo: RepoOpt = Path("."),
    agent: Annotated[
        list[str],
        typer.Option(metavar="NAME", help="Agent CLI to check (repeatable; default: configured)."),
    ] = [],  # noqa: B006
    no_tests: Annotated[bool, typer.Option("--no-tests", help="Do not run the suite.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check git, the suite, worker CLIs, the sandbox and model keys; advise when to hold off.

    A repository with no tests, a failing suite or thin coverage gets the advice to use a single
    agent with human review instead.
    """
    from crewchief import config as config_mod
    from crewchief.cli import doctor, render

    root = repo_root(repo)
    cfg = config_mod.load(root)
    report = doctor.diagnose(
        root,
        cfg.test_command,
        list(agent) or _agent_names(cfg),
        model_keys=_model_key_names(cfg),
        agent_tables=cfg.agents,
        run_tests=not no_tests,
        test_timeout_s=cfg.suite_timeout_s,
        suite_sandbox=cfg.check_sandbox(),
    )
    emit(report.model_dump(mode="json"), as_json, lambda: out.print(render.doctor_view(report)))
    if any(f.level == "fail" for f in report.findings):
        raise typer.Exit(1)


def _agent_names(cfg: Config) -> list[str]:
    """Every agent a run may use: each ``[agents.NAME]`` and the one in ``worker_backend``."""
    kind, _, name = cfg.worker_backend.partition(":")
    return sorted({*cfg.agents, *([name] if kind == "agent" and name else [])})


def _model_key_names(cfg: Config) -> list[str]:
    """Environment variables the configured models read their keys from."""
    from crewchief.models.providers import parse_model

    models = (cfg.manager_model, cfg.worker_model, cfg.reviewer_model)
    return sorted({env for m in models if m and (env := parse_model(m).key_env)})


@app.command("blame")
def blame_cmd(
    target: Annotated[str, typer.Argument(help="FILE, FILE:LINE or FILE:START-END.")],
    rev: Annotated[str, typer.Option(metavar="REV", help="Revision to blame.")] = "HEAD",
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Who changed each line: run, task, attempt, worker, model and the exact instruction."""
    from crewchief.cli import render
    from crewchief.ledger import provenance

    path, _, span = target.partition(":")
    start, _, end = span.partition("-")
    try:
        first, last = int(start or 1), int(end) if end else (int(start) if start else None)
    except ValueError:
        raise UserError(f"bad line range {span!r}: use FILE:LINE or FILE:START-END") from None
    origins = provenance.blame(repo_root(repo), path, rev, first, last)
    emit([o.__dict__ for o in origins], as_json, lambda: out.print(render.blame_view(origins)))


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="New or empty directory for it (default: a temporary one)."
        ),
    ] = None,
    feature: Annotated[
        bool, typer.Option("--feature", help="A model-planned feature on scripted models.")
    ] = False,
) -> None:
    """Copy a bundled sample project and run a change through the whole pipeline, no key.

    Default: a codemod. With --feature: a feature across layers, planned by a (scripted)
    manager, edited by (scripted) LLM workers, one patch revised on review, report printed.
    """
    if feature:
        from crewchief.cli.demo_feature import run_feature_demo

        run_feature_demo(directory, out)
        return
    from crewchief.cli.demo import run_demo

    run_demo(directory, out)
