"""CLI start-up benchmark: how long a person waits for `--help` and `status` on the demo repo.

    .venv/bin/python bench/cli.py [--runs 10]

Builds the demo repository once (``crewchief demo --dir``, the real pipeline), then times each
command as a fresh process, ``--runs`` times interleaved so machine noise hits them alike, against
``python -c pass`` measured in the same run (the floor no Python CLI can go under) and the import
of the libraries every command needs (typer, rich, pydantic: crewchief's own floor). Prints the
median of each and its ratio to ``python -c pass``; the target is 0.5 s warm for each command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "typer+rich+pydantic": [sys.executable, "-c", "import typer, rich.console, pydantic"],
    "crewchief --help": [sys.executable, "-m", "crewchief", "--help"],
    "crewchief status": [sys.executable, "-m", "crewchief", "status"],
    "crewchief status --json": [sys.executable, "-m", "crewchief", "status", "--json"],
}


def _time(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crewchief-bench-cli-") as tmp:
        repo = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "crewchief", "demo", "--dir", str(repo)],
            check=True,
            capture_output=True,
        )
        for argv in COMMANDS.values():  # warm the page cache and the bytecode caches
            _time(argv, repo)
        samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(args.runs):
            for name, argv in COMMANDS.items():
                samples[name].append(_time(argv, repo))
    floor = statistics.median(samples["python -c pass"])
    print(f"{'command':<26} {'median':>8} {'× python':>9} {'target':>8}")
    for name, times in samples.items():
        median = statistics.median(times)
        measured = name.startswith("crewchief")
        target = ("ok" if median <= TARGET_S else "MISSED") if measured else ""
        print(f"{name:<26} {median:>7.3f}s {median / floor:>8.1f}× {target:>8}")


if __name__ == "__main__":
    main()
