"""``crewchief serve``: the review web page on a local port. The only printing in ``web``.

Register it in the CLI with ``app.command("serve")(serve_command)``. Runs standalone too:
``python -m crewchief.web.commands --port 0`` (what the browser tests do). The web stack is
imported only when the server starts, so registering the command costs the CLI nothing.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from crewchief import git
from crewchief.errors import CrewchiefError, UserError

DEFAULT_PORT = 8765
_BACKLOG = 64


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one); UserError if impossible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
    except OSError as e:
        hint = " (try another --port, or --port 0 for any free one)" if port else ""
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from e
    return sock


def url_of(host: str, sock: socket.socket, token: str | None) -> str:
    """The address a person opens: loopback as given, a wildcard bind as this machine's name."""
    from crewchief.web.security import TOKEN_PARAM

    port = sock.getsockname()[1]
    shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + (f"?{TOKEN_PARAM}={token}" if token else "")


def serve_command(
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = (
        DEFAULT_PORT
    ),
    host: Annotated[
        str, typer.Option(help="Address to bind. Anything but loopback requires a token.")
    ] = "127.0.0.1",
    repo: Annotated[Path, typer.Option("--repo", "-C", help="Repository (default: cwd).")] = Path(
        "."
    ),
    token: Annotated[
        str | None,
        typer.Option(
            help="Access token every request must carry (default: the one kept in "
            ".crewchief/serve-token, made on first use).",
            envvar="CREWCHIEF_SERVE_TOKEN",
        ),
    ] = None,
    approver: Annotated[
        str | None,
        typer.Option(help="Name approvals are recorded under (default: your OS user name)."),
    ] = None,
) -> None:
    """Serve the review web page: runs, plans, diffs, checks, and the human gate."""
    import uvicorn

    from crewchief.attempts.workspace import crewchief_dir
    from crewchief.sandbox.confinement import refuse_inside_sandbox
    from crewchief.web.app import create_app
    from crewchief.web.security import Guard, stored_token
    from crewchief.web.site import approver_name

    refuse_inside_sandbox("serve")
    root = git.repo_root(repo.resolve())
    try:
        token = token or stored_token(crewchief_dir(root))
        guard = Guard.for_bind(host, token)
        who = approver_name(approver)
    except ValueError as e:
        raise UserError(str(e)) from e
    sock = bind(host, port)
    typer.echo(f"crewchief review page for {root}")
    typer.echo(f"  open {url_of(host, sock, token)}")
    typer.echo("  every request needs the token: ?token=… once (then a cookie), or a header")
    typer.echo(f"  approvals are recorded as {who}")
    typer.echo("  Ctrl-C stops it")
    sys.stdout.flush()
    config = uvicorn.Config(
        create_app(root, guard, who),
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    """Standalone entry point (until the CLI registers ``serve``): errors become exit codes."""
    import click

    cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    cli.command()(serve_command)
    try:
        cli(standalone_mode=False)
    except CrewchiefError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as e:  # bad usage: click's own message and exit code (2)
        e.show()
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
