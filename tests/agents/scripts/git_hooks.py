"""Tries to plant a git hook, rewrite the repository config, move a branch and repoint .git."""

import subprocess
from pathlib import Path

admin = Path(Path(".git").read_text().split(":", 1)[1].strip())
common = (admin / (admin / "commondir").read_text().strip()).resolve()
attempts = {
    "hook": lambda: (common / "hooks" / "pre-commit").write_text("#!/bin/sh\necho pwned\n"),
    "config": lambda: (common / "config").write_text("[core]\n\thooksPath = /tmp/evil\n"),
    "fsmonitor": lambda: subprocess.run(
        ["git", "config", "core.fsmonitor", "echo pwned"], check=True, capture_output=True
    ),
    "admin-commondir": lambda: (admin / "commondir").write_text("/tmp/evil\n"),
    "dotgit": lambda: Path(".git").write_text("gitdir: /tmp/evil\n"),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print(f"{name}: done")
    except Exception as e:  # report and carry on, like a determined attacker
        print(f"{name}: failed ({type(e).__name__})")
Path("src/a.py").write_text("print('innocent change')\n")
print("All set.")
