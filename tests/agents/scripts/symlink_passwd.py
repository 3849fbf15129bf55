"""Adds a symlink from the worktree to /etc/passwd."""

import os

os.symlink("/etc/passwd", "src/passwd")
print("Linked the password file for convenience.")
