"""CLI commands of the code-intelligence package: the only place in it that prints.

``map_command`` is a plain typer command function; the CLI registers it as ``crewchief map``.
The map goes to stdout, indexing progress and a one-line summary to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crewchief import git

if TYPE_CHECKING:
    from rich.console import Console

    from crewchief.intel.index import SymbolIndex
    from crewchief.intel.records import UpdateStats


def map_command(
    focus: Annotated[
        list[str] | None,
        typer.Option(
            "--focus", metavar="PATH", help="File or directory to centre the map on (repeatable)."
        ),
    ] = None,
    tokens: Annotated[int, typer.Option("--tokens", min=1, help="Token budget of the map.")] = 2048,
    repo: Annotated[Path, typer.Option("--repo", help="Repository (default: here).")] = Path("."),
) -> None:
    """Print the repository map: the most used symbols, centred on --focus, within --tokens."""
    # The index and the ranking (numpy, scipy, tree-sitter) load here, not at CLI start-up.
    from rich.console import Console

    from crewchief.intel.index import SymbolIndex
    from crewchief.intel.repomap import repo_map

    root = git.repo_root(repo)
    err = Console(stderr=True)
    with SymbolIndex(root) as index:
        stats = _update_with_progress(index, err)
        result = repo_map(index.snapshot(), focus=_relative(root, focus or []), tokens=tokens)
    typer.echo(result.text, nl=False)
    kind = "" if result.exact_tokens else " (estimated)"
    err.print(
        f"[dim]{result.tokens}/{result.budget} tokens{kind} by {result.counter} · "
        f"{len(result.shown)} of {result.total_symbols} symbols · "
        f"{stats.parsed} of {stats.files} files parsed in {stats.seconds:.2f}s[/dim]",
        highlight=False,
    )


def _update_with_progress(index: SymbolIndex, err: Console) -> UpdateStats:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("index", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return index.update(progress=report)


def _relative(root: Path, paths: list[str]) -> list[str]:
    """Focus paths as repository-relative POSIX paths (given relative to the current directory)."""
    result = []
    for p in paths:
        absolute = (Path.cwd() / p).resolve()
        try:
            relative = absolute.relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = p
        if relative in ("", "."):
            continue  # the whole repository: no focus at all
        result.append(relative + ("/" if absolute.is_dir() else ""))
    return result
