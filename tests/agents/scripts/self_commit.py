"""Edits a file and commits it itself (twice), as some agents do."""

import subprocess
from pathlib import Path

Path("src/a.py").write_text("print('first')\n")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", "agent: first"], check=True)
Path("src/a.py").write_text("print('second')\n")
Path("src/new.py").write_text("NEW = 1\n")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", "agent: second"], check=True)
print("Committed my work in two commits.")
