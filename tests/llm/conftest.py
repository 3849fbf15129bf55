"""Scripted models only: real model requests are refused for every test in this package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai import models

from crewchief.backends.base import WorkContext
from repo_helpers import Files, make_repo

from .llm_repos import add_worktree

models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture(autouse=True)
def _no_model_requests() -> Iterator[None]:
    with models.override_allow_model_requests(False):
        yield


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small Python project in a real git repository."""
    return make_repo(tmp_path / "repo", SHOP)


@pytest.fixture
def work(repo: Path, tmp_path: Path) -> WorkContext:
    """A detached worktree of ``repo`` at HEAD, as a worker attempt gets it."""
    return add_worktree(repo, tmp_path / "wt", timeout_s=60.0)


SHOP: Files = {
    ".gitignore": ".crewchief/\n__pycache__/\n",
    "ARCHITECTURE.md": "# Shop\n\nCart totals live in shop/cart.py; prices in shop/prices.py.\n",
    "shop/__init__.py": "",
    "shop/prices.py": '"""Prices."""\n\n\ndef price(sku: str) -> int:\n    return len(sku)\n',
    "shop/cart.py": (
        '"""The cart."""\n\nfrom shop.prices import price\n\n\n'
        "def total(skus: list[str]) -> int:\n    return sum(price(s) for s in skus)\n"
    ),
    "shop/report.py": (
        '"""Reports."""\n\nfrom shop.cart import total\n\n\n'
        "def line(skus: list[str]) -> str:\n    return f'total {total(skus)}'\n"
    ),
}
