"""An example per command, shown at the end of its ``--help``: one place for all of them, so a
command without one is caught by a test rather than by a reader."""

from __future__ import annotations

import typer

EXAMPLES: dict[str, tuple[str, ...]] = {
    "init": ("crewchief init", "crewchief init --no-architecture"),
    "plan": ('crewchief plan "Add a CSV export to reports" --focus reports/',),
    "run": (
        "crewchief run --plan crewchief-plan.json",
        'crewchief run "Add a CSV export to reports" --focus reports/',
        "crewchief run --recipe codemod --lang python "
        "--pattern 'fetch_user($A)' --rewrite 'get_user($A, cache=True)'",
        "crewchief run --recipe command --command 'ruff check --fix {files}' --path 'src/**/*.py'",
    ),
    "resume": ("crewchief resume", "crewchief resume 20261201-0907 --run-budget 5 --yes"),
    "status": ("crewchief status", "crewchief status --all", "crewchief status RUN --json"),
    "log": ("crewchief log", "crewchief log RUN --json"),
    "show": ("crewchief show t3", "crewchief show t3 --run RUN"),
    "review": (
        "crewchief review",
        "crewchief review RUN --approve t1 --reject t2",
        'crewchief review RUN --send-back t3 --comment "keep the old signature"',
    ),
    "merge": ("crewchief merge", "crewchief merge RUN"),
    "hygiene": ("crewchief hygiene", "crewchief hygiene --every 3600"),
    "serve": ("crewchief serve", "crewchief serve --port 8765"),
    "map": ("crewchief map --focus src/billing --tokens 1024",),
    "doctor": ("crewchief doctor", "crewchief doctor --no-tests --json"),
    "blame": ("crewchief blame src/billing/invoice.py:10-20",),
    "demo": ("crewchief demo", "crewchief demo --dir /tmp/shop", "crewchief demo --feature"),
    "cancel": ("crewchief cancel RUN",),
    "mcp": (
        "crewchief mcp",
        "claude mcp add crewchief -- crewchief mcp --repo . --host-name claude-code",
    ),
    "report": (
        "crewchief report RUN > report.md",
        "crewchief report > report.md && gh pr create --body-file report.md",
        "crewchief report RUN --json",
    ),
    "export": (
        "crewchief export RUN --branch crewchief/rename",
        "crewchief export --branch crewchief/rename --push origin",
    ),
}


def command_name(info: typer.models.CommandInfo) -> str:
    assert info.callback is not None
    return info.name or info.callback.__name__.lower().replace("_", "-")
