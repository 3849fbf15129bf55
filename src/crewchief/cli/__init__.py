"""The command line: parses, calls the library, renders. Errors become exit codes here only:
0 ok, 1 the run failed (or paused, or a task did not make it), 2 bad input (nothing was
changed), 130 interrupted (resumable)."""

from __future__ import annotations

import sys

import typer

from crewchief.cli import gate, helptext, host, hygiene, runs, tools
from crewchief.cli.common import app, err
from crewchief.errors import CrewchiefError
from crewchief.models.providers import refuse_requests_if_asked

__all__ = ["app", "gate", "host", "hygiene", "main", "runs", "tools"]

helptext.attach(app)


def main() -> None:
    refuse_requests_if_asked()
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of raising it
    except CrewchiefError as e:
        from rich.text import Text

        err.print(Text.assemble(("error: ", "red"), str(e)), soft_wrap=True)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # click usage errors carry their own exit code (2)
        code = getattr(e, "exit_code", None)
        if code is None:
            raise
        if hasattr(e, "show"):
            e.show()
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)
