"""``crewchief demo``: the bundled sample project through the whole pipeline, no API key.

Copies ``demo_project`` into a fresh git repository, configures its pytest suite, and migrates
every ``users.fetch_user(uid)`` call to ``users.get_user(uid, cache=True)`` with the codemod
recipe: one task per package, four workers, the gate, integration, the full suite, approval and
the compare-and-swap merge. Prints the plan, live progress, merge order, diff stat and the log
with its provenance trailers.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from crewchief import config as config_mod
from crewchief import git
from crewchief.backends.base import load_recipe
from crewchief.cli import render
from crewchief.errors import UserError
from crewchief.ledger import views
from crewchief.records import ChangeRequest
from crewchief.run.intake import make_plan, open_run, preflight

PROJECT = Path(__file__).parent / "demo_project"
DEMO_WORKERS = 4
REQUEST = ChangeRequest(
    goal="Migrate users.fetch_user(uid) to users.get_user(uid, cache=True)",
    recipe="codemod",
    recipe_args={
        "lang": "python",
        "pattern": "users.fetch_user($UID)",
        "rewrite": "users.get_user($UID, cache=True)",
        "split": "package",
    },
)


def make_demo_repo(directory: Path | None) -> Path:
    """A new git repository holding the demo project and its crewchief.toml, committed."""
    return make_repo(PROJECT, "shopdemo", directory, demo_config())


NO_PLUGINS = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1"


def demo_config(**fields: object) -> config_mod.Config:
    """The demo projects' configuration: their pytest suite, a compile check, ``fields``."""
    py = sys.executable
    return config_mod.Config.model_validate(
        {
            "language": "python",
            # The demo's tests need no plugin: not loading those of crewchief's environment
            # makes each of the demo's suite runs start in a third of the time.
            "test_command": f"{NO_PLUGINS} {py} -m pytest -q -p no:cacheprovider",
            "fast_checks": [f"{py} -m compileall -q {{files}}"],
            "workers": DEMO_WORKERS,
            **fields,
        }
    )


def make_repo(source: Path, name: str, directory: Path | None, cfg: config_mod.Config) -> Path:
    """A new git repository (in ``directory``, else a fresh temporary one) holding a copy of
    ``source`` and ``cfg`` as its crewchief.toml, in one commit."""
    root = Path(tempfile.mkdtemp(prefix="crewchief-demo-")) if directory is None else directory
    if root.exists() and any(root.iterdir()):
        raise UserError(f"{root} is not empty: give --dir a new or empty directory")
    shutil.copytree(
        source,
        root,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
    )
    (root / config_mod.CONFIG_FILE).write_text(config_mod.render_toml(cfg))
    git.run(["init", "--quiet", "--initial-branch=main"], root)
    git.run(["add", "--all"], root)
    git.run(["commit", "--quiet", "-m", f"{name}: initial import"], root)
    return root


def run_demo(directory: Path | None, out: Console) -> None:
    import typer

    from crewchief.cli.runs import drive_and_report

    root = make_demo_repo(directory)
    out.print(f"[bold]demo repository:[/bold] {root}")
    out.print(f"[bold]goal:[/bold] {REQUEST.goal}")
    cfg = config_mod.load(root)
    target, base = preflight(root, cfg)
    plan = make_plan(root, REQUEST, load_recipe("codemod").planner, cfg)
    out.print(render.plan_table(plan))
    ledger, run_id = open_run(root, REQUEST, plan, cfg, target, base)
    code = drive_and_report(root, ledger, run_id, cfg, yes=True)
    if code:
        raise typer.Exit(code)
    out.rule("merge order")
    for i, link in enumerate(views.merge_order(ledger, run_id), 1):
        out.print(f"{i}. {link.task}  {link.commit[:12]}")
    out.rule("diff stat")
    out.print(git.out(["diff", "--stat", base, "main"], root))
    out.rule("git log (provenance trailers)")
    out.print(
        git.out(["log", "--format=%h %s%n%(trailers:only,unfold)", f"{base}..main"], root),
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"explore: cd {root} && crewchief status && crewchief log")
