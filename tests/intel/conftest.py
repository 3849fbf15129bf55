"""Fixtures for the intel tests: committed multi-language repositories and their indexes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crewchief.intel.index import SymbolIndex
from crewchief.intel.snapshot import Snapshot
from repo_helpers import make_repo

from .repos import POLYGLOT, SHOP


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A small Python package: cart, pricing, checkout."""
    return make_repo(tmp_path / "shop", SHOP)


@pytest.fixture
def polyglot(tmp_path: Path) -> Path:
    """One small file each in Go, Rust, Java, TypeScript and JavaScript, plus the shop."""
    return make_repo(tmp_path / "polyglot", {**SHOP, **POLYGLOT})


@pytest.fixture
def index(shop: Path) -> Iterator[SymbolIndex]:
    """The shop's index, updated once."""
    with SymbolIndex(shop) as idx:
        idx.update()
        yield idx


@pytest.fixture
def snapshot(index: SymbolIndex) -> Snapshot:
    return index.snapshot()
