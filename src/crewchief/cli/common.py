"""What every command shares: the typer app, the consoles, common options and small helpers."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from crewchief.config import Config
    from crewchief.ledger.store import Ledger

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: human type names (TEXT, PATH, INTEGER) and no rich/markdown/pygments
    # import on every `--help` (start-up is a feature).
    rich_markup_mode=None,
    help="Plan a change, run scoped workers in parallel, gate, merge in order.",
)


class _LazyConsole:
    """A rich Console made when something is first printed through it: a command that prints
    only JSON (``status --json``) never imports rich."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    # rich's Live and Progress enter the console they are given (dunders bypass __getattr__).
    def __enter__(self) -> Console:
        return self._made().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._made().__exit__(*exc)


# The terminal's width (COLUMNS when piped); tables wrap their cells to it, never cut them.
out = cast("Console", _LazyConsole(stderr=False))
err = cast("Console", _LazyConsole(stderr=True))

RepoOpt = Annotated[
    Path, typer.Option("--repo", "-C", metavar="DIR", help="Repository (default: cwd).")
]
RunArg = Annotated[
    str | None, typer.Argument(metavar="RUN", help="Run id or prefix (default: newest).")
]
RunOpt = Annotated[
    str | None, typer.Option("--run", metavar="RUN", help="Run id or prefix (default: newest).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def repo_root(path: Path) -> Path:
    from crewchief import git

    return git.repo_root(path.resolve())


def who() -> str:
    """The person acting: the OS user (recorded with every decision)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_run(repo: Path, run_id: str | None) -> tuple[Path, Ledger, str, Config]:
    """Repository root, its ledger, the resolved run id and that run's configuration."""
    from crewchief.ledger.store import Ledger

    root = repo_root(repo)
    ledger = Ledger.existing(root)
    rid = ledger.resolve_run(run_id)
    return root, ledger, rid, run_config(ledger, rid)


def run_config(ledger: Ledger, run_id: str) -> Config:
    from crewchief.config import Config

    return Config.model_validate_json(ledger.run(run_id).config_json)


def emit(data: Any, as_json: bool, show: Callable[[], None]) -> None:
    """``data`` as JSON on stdout with ``--json``, else the rich rendering ``show`` prints."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        show()
