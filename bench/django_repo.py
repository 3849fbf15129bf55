"""The Django source distribution from PyPI (it includes its tests), committed into a git
repository: the large real-world tree every benchmark measures on. The sdist is downloaded once
into ``bench/.cache`` (git-ignored)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def sdist() -> Path:
    """The newest Django sdist in the cache, downloaded from PyPI when there is none."""
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


def fresh_repo(parent: Path) -> Path:
    """The sdist unpacked under ``parent`` and committed (branch main, one commit)."""
    with tarfile.open(sdist()) as tar:
        tar.extractall(parent, filter="data")
    repo = next(p for p in parent.iterdir() if p.is_dir() and p.name.lower().startswith("django"))
    for args in (
        ["init", "-q", "--initial-branch=main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "django sdist"],
    ):
        subprocess.run(["git", *_ID, *args], cwd=repo, check=True, capture_output=True)
    return repo


def django_repo() -> Path:
    """A cached fresh_repo under ``bench/.cache`` (made once, reused by later runs)."""
    repo = CACHE / "django-repo"
    if (repo / ".git").is_dir():
        return repo
    unpack = CACHE / "django-unpack"
    unpack.mkdir(parents=True, exist_ok=True)
    fresh_repo(unpack).rename(repo)
    unpack.rmdir()
    return repo
