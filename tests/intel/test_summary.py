"""The project summary: read what the project says about itself, or draft a skeleton."""

from __future__ import annotations

from pathlib import Path

from crewchief.intel.summary import read_project_summary, write_architecture_skeleton
from repo_helpers import make_repo, write_files


def test_no_summary_files_means_none(shop: Path) -> None:
    assert read_project_summary(shop) is None


def test_a_single_summary_file_is_returned_as_is(shop: Path) -> None:
    write_files(shop, {"AGENTS.md": "Run `make test`.\n"})
    assert read_project_summary(shop) == "Run `make test`.\n"


def test_several_summary_files_are_joined_in_order(shop: Path) -> None:
    write_files(shop, {"CLAUDE.md": "claude\n", "ARCHITECTURE.md": "arch\n"})
    assert read_project_summary(shop) == "# ARCHITECTURE.md\n\narch\n\n\n# CLAUDE.md\n\nclaude\n"


def test_a_long_summary_is_cut_and_says_so(shop: Path) -> None:
    write_files(shop, {"ARCHITECTURE.md": "x" * 100})
    assert read_project_summary(shop, max_chars=10) == "x" * 10 + "\n\n[cut at 10 characters]\n"


def test_the_skeleton_lists_packages_entry_points_and_dependency_edges(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "app",
        {
            "pyproject.toml": '[project]\nname = "app"\n[project.scripts]\napp = "app.cli:main"\n',
            "app/__init__.py": '"""The app: does things."""\n',
            "app/cli.py": "from app.core.engine import run_engine\n\n\ndef main():\n"
            "    run_engine()\n",
            "app/core/engine.py": "def run_engine():\n    return 1\n",
        },
    )
    path = write_architecture_skeleton(repo)
    assert path == repo / "ARCHITECTURE.md"
    text = path.read_text()
    assert "- `app/` (python, 2 files): The app: does things." in text
    assert "- `app/core/` (python, 1 files)" in text
    assert "- `app` → `app.cli:main` (pyproject.toml)" in text
    assert "- `app/cli.py:4` `def main()`" in text
    assert "- `app` → `app/core` (2 uses)" in text


def test_the_skeleton_never_overwrites_an_existing_file(shop: Path) -> None:
    write_files(shop, {"ARCHITECTURE.md": "mine\n"})
    assert write_architecture_skeleton(shop) is None
    assert (shop / "ARCHITECTURE.md").read_text() == "mine\n"
