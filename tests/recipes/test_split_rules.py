"""How files are grouped into units and how path selectors select files (pure functions)."""

from __future__ import annotations

import pytest

from crewchief.errors import UserError
from crewchief.recipes.files import path_matcher
from crewchief.recipes.split import group_files, unit_of

INITS = frozenset({"src/pkg", "src/pkg/sub", "tests/unit", "lib/mod"})


@pytest.mark.parametrize(
    "path, unit",
    [
        ("src/pkg/sub/m.py", "src/pkg"),
        ("src/pkg/data.json", "src/pkg"),
        ("tests/unit/test_a.py", "tests/unit"),
        ("lib/mod/x.py", "lib/mod"),
        ("src/app/x.ts", "src/app"),
        ("packages/ui/src/b.ts", "packages/ui"),
        ("src/main.go", "src"),
        ("cmd/tool/main.go", "cmd"),
        ("tests/conftest.py", "tests"),
        ("setup.py", "."),
    ],
)
def test_package_unit(path: str, unit: str) -> None:
    assert unit_of(path, "package", INITS) == unit


def test_package_chain_stops_at_the_first_directory_without_init() -> None:
    inits = frozenset({"a", "a/b/c"})
    assert unit_of("a/b/c/m.py", "package", inits) == "a/b/c"


def test_dir_unit_is_the_files_directory() -> None:
    assert unit_of("src/pkg/sub/m.py", "dir", INITS) == "src/pkg/sub"
    assert unit_of("setup.py", "dir", INITS) == "."


def test_groups_and_their_files_are_sorted() -> None:
    groups = group_files(
        ["z/b.py", "a.py", "z/a.py", "m/x.py"], "package", ["z/b.py", "a.py", "z/a.py", "m/x.py"]
    )
    assert groups == {".": ("a.py",), "m": ("m/x.py",), "z": ("z/a.py", "z/b.py")}


@pytest.mark.parametrize(
    "selector, selected, not_selected",
    [
        ("*.py", ["a.py", "x/y/b.py"], ["a.pyc", "py/a.txt"]),
        ("src/*.py", ["src/a.py"], ["src/x/a.py", "a.py"]),
        ("src/**/*.py", ["src/a.py", "src/x/y/a.py"], ["lib/a.py"]),
        ("test_?.py", ["t/test_a.py"], ["t/test_ab.py"]),
        ("[ab].py", ["a.py", "b.py"], ["c.py"]),
        ("src/pkg", ["src/pkg/a.py", "src/pkg"], ["src/pkg2/a.py"]),
        ("src/pkg/", ["src/pkg/a.py"], ["src/pkg2/a.py"]),
        (".", ["a.py", "x/y.py"], []),
    ],
)
def test_path_selector(selector: str, selected: list[str], not_selected: list[str]) -> None:
    matches = path_matcher([selector])
    assert all(matches(p) for p in selected)
    assert not any(matches(p) for p in not_selected)


@pytest.mark.parametrize("selector", ["../x", "/etc", "a/../../b", "a\\b"])
def test_unsafe_selector_is_a_user_error(selector: str) -> None:
    with pytest.raises(UserError):
        path_matcher([selector])
