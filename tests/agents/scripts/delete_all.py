"""Deletes everything it can reach: the worktree, then (if it can) the main repository."""

import os
import shutil
import sys
from pathlib import Path

for entry in Path(".").iterdir():
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except OSError as e:
        print(f"could not delete {entry}: {type(e).__name__}")
if "--everything" in sys.argv:
    repo = Path(sys.argv[sys.argv.index("--everything") + 1])
    shutil.rmtree(repo, ignore_errors=True)
    print("repository still there:", os.path.exists(repo / "README.md"))
print("Cleaned up.")
