"""The Django source distribution from PyPI (it includes its tests), committed into a git
repository under ``bench/.cache``: the large real-world tree every benchmark measures on."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
_ENV_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def _sdist() -> Path:
    found = sorted(CACHE.glob("[Dd]jango-*.tar.gz"))
    if found:
        return found[-1]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "django",
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    return sorted(CACHE.glob("[Dd]jango-*.tar.gz"))[-1]


def django_repo() -> Path:
    """A git repository (branch main, one commit) holding the unpacked Django sdist."""
    repo = CACHE / "django-repo"
    if (repo / ".git").is_dir():
        return repo
    sdist = _sdist()
    tmp = CACHE / "django-unpack"
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp, filter="data")
    top = next(tmp.iterdir())
    top.rename(repo)
    tmp.rmdir()
    subprocess.run(["git", "init", "-q", "--initial-branch=main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", *_ENV_ID, "commit", "-q", "-m", "django sdist"], cwd=repo, check=True)
    return repo
