"""Fixtures for the web tests: a finished demo run per test process, copied per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .runs import PROTECT_BILLING, Run, client_for, copy_run, enrich, finished_demo_run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Made once: read it, never change it (copy it with ``run``)."""
    return finished_demo_run(tmp_path_factory.mktemp("demo") / "repo")


@pytest.fixture(scope="session")
def rich_demo_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A run with billing/** protected, then enriched as a model-driven run would be."""
    run = finished_demo_run(tmp_path_factory.mktemp("rich") / "repo", env=PROTECT_BILLING)
    enrich(run)
    return run


@pytest.fixture
def run(demo_run: Run, tmp_path: Path) -> Run:
    """A private copy of the finished demo run: actions may change it."""
    return copy_run(demo_run, tmp_path / "repo")


@pytest.fixture
def rich_run(rich_demo_run: Run, tmp_path: Path) -> Run:
    return copy_run(rich_demo_run, tmp_path / "repo")


@pytest.fixture
def client(run: Run) -> TestClient:
    return client_for(run.repo)
