"""Attempts and where they run: the attempt's two halves, the executors (local, Ray), worker
subprocesses and their pooled worktrees."""
