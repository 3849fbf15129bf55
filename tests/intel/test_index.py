"""The symbol index: what it extracts, where it stores it, and what an update re-parses."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from crewchief.intel import index as index_module
from crewchief.intel.index import SymbolIndex
from crewchief.intel.snapshot import Snapshot
from repo_helpers import commit, git, make_repo, write_files


def defs(snapshot: Snapshot, path: str) -> list[tuple[object, ...]]:
    return [
        (d.kind, d.qualname, d.line_start, d.line_end, d.signature, d.docstring, d.public)
        for d in snapshot.definitions(path)
    ]


def refs(snapshot: Snapshot, path: str) -> list[tuple[object, ...]]:
    return [(r.scope, r.name, r.kind, r.line, r.uses) for r in snapshot.references(path)]


def polyglot_snapshot(repo: Path) -> Snapshot:
    with SymbolIndex(repo) as idx:
        idx.update()
        return idx.snapshot()


def test_python_definitions_carry_kind_qualname_lines_signature_docstring(
    snapshot: Snapshot,
) -> None:
    assert defs(snapshot, "shop/cart.py") == [
        ("class", "Cart", 6, 17, "class Cart", "A cart of items.", True),
        ("method", "Cart.__init__", 9, 10, "def __init__(self)", "", True),
        (
            "method",
            "Cart.add",
            12,
            14,
            "def add(self, item, qty=1)",
            "Add ``qty`` of ``item``.",
            True,
        ),
        ("method", "Cart.total", 16, 17, "def total(self)", "", True),
        ("function", "_helper", 20, 21, "def _helper()", "", False),
    ]


def test_python_references_name_their_enclosing_definition_and_count_uses(
    snapshot: Snapshot,
) -> None:
    assert refs(snapshot, "shop/checkout.py") == [
        ("", "Cart", "import", 1, 1),
        ("checkout", "Cart", "call", 5, 1),
        ("checkout", "add", "call", 7, 1),
        ("checkout", "item", "name", 7, 1),
        ("checkout", "total", "call", 8, 1),
    ]


POLYGLOT_DEFS = {
    "svc/server.go": [
        ("struct", "Server", 3, 6, "type Server struct", "Server serves requests.", True),
        ("interface", "Handler", 8, 10, "type Handler interface", "", True),
        ("method", "Handler.Serve", 9, 9, "Serve(path string) error", "", True),
        (
            "method",
            "Server.Start",
            12,
            15,
            "func (s *Server) Start(port int) error",
            "Start listens on the address.",
            True,
        ),
        ("function", "listen", 17, 19, "func listen(addr string, port int) error", "", False),
    ],
    "geo/point.rs": [
        ("struct", "Point", 1, 5, "pub struct Point", "A point in the plane.", True),
        ("trait", "Shape", 7, 9, "pub trait Shape", "", True),
        ("method", "Shape.area", 8, 8, "fn area(&self) -> f64", "", True),
        ("method", "Point.area", 12, 14, "fn area(&self) -> f64", "", True),
        ("function", "helper", 17, 19, "fn helper(x: i32) -> f64", "", False),
    ],
    "app/Main.java": [
        ("class", "Main", 3, 13, "public class Main", "Entry point.", True),
        (
            "method",
            "Main.greet",
            5,
            8,
            "public static String greet(String name)",
            "Greets someone.",
            True,
        ),
        ("method", "Main.format", 10, 12, "private static String format(String s)", "", False),
    ],
    "web/cart.ts": [
        (
            "function",
            "total",
            3,
            6,
            "function total(items: Item[]): number",
            "Sums a basket.",
            True,
        ),
        ("class", "Basket", 8, 11, "class Basket", "", True),
        ("method", "Basket.add", 9, 9, "add(item: Item): void", "", True),
        ("method", "Basket.reset", 10, 10, "private reset(): void", "", False),
        ("interface", "Item", 13, 13, "interface Item", "", True),
        ("function", "local", 15, 15, "const local = (x: number)", "", False),
    ],
    "web/widget.js": [
        ("function", "render", 1, 4, "function render(el)", "Renders a widget.", True),
        ("function", "paint", 6, 6, "function paint(el, n)", "", False),
    ],
}


@pytest.mark.parametrize("path", sorted(POLYGLOT_DEFS))
def test_definitions_in_each_language(polyglot: Path, path: str) -> None:
    assert defs(polyglot_snapshot(polyglot), path) == POLYGLOT_DEFS[path]


POLYGLOT_CALLS = {
    "svc/server.go": [("Server.Start", "listen", 14)],
    "geo/point.rs": [("Point.area", "helper", 13), ("helper", "from", 18)],
    "app/Main.java": [("Main.greet", "format", 7), ("Main.format", "trim", 11)],
    "web/cart.ts": [("total", "priceOf", 5), ("total", "reduce", 5)],
    "web/widget.js": [("render", "paint", 3)],
}


@pytest.mark.parametrize("path", sorted(POLYGLOT_CALLS))
def test_call_references_in_each_language(polyglot: Path, path: str) -> None:
    calls = [
        (r.scope, r.name, r.line)
        for r in polyglot_snapshot(polyglot).references(path)
        if r.kind == "call"
    ]
    assert calls == POLYGLOT_CALLS[path]


def test_type_and_import_references(polyglot: Path) -> None:
    snap = polyglot_snapshot(polyglot)
    assert ("Server.Start", "Server", "type", 13, 1) in refs(snap, "svc/server.go")
    assert ("", "Shape", "type", 11, 1) in refs(snap, "geo/point.rs")
    assert ("", "priceOf", "import", 1, 1) in refs(snap, "web/cart.ts")


def test_index_lives_in_dot_crewchief_as_sqlite_in_wal_mode(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
    db = shop / ".crewchief" / "index.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_files_git_ignores_are_skipped_and_untracked_ones_indexed(shop: Path) -> None:
    write_files(
        shop,
        {
            ".gitignore": "build/\n",
            "build/gen.py": "def gen(): pass\n",
            "shop/new.py": "def fresh(): pass\n",
        },
    )
    with SymbolIndex(shop) as idx:
        idx.update()
        snap = idx.snapshot()
    assert "build/gen.py" not in snap.paths
    assert [d.name for d in snap.definitions("shop/new.py")] == ["fresh"]


def test_update_with_nothing_changed_parses_nothing(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        first = idx.update()
        second = idx.update()
    assert (first.parsed, first.files) == (4, 4)
    assert (second.parsed, second.reused, second.files) == (0, 4, 4)


def test_update_after_a_patch_parses_only_the_changed_files(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
        write_files(
            shop,
            {
                "shop/pricing.py": "def price_of(item, discount=0):\n    return 1\n",
                "shop/extra.py": "def bonus(): pass\n",
            },
        )
        (shop / "shop" / "checkout.py").unlink()
        stats = idx.update()
        snap = idx.snapshot()
    assert (stats.parsed, stats.removed, stats.files) == (2, 1, 4)
    assert snap.definitions("shop/pricing.py")[0].signature == "def price_of(item, discount=0)"
    assert "shop/checkout.py" not in snap.paths


def test_a_reopened_index_reuses_what_it_parsed(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
    with SymbolIndex(shop) as idx:
        assert idx.update().parsed == 0


def test_update_limited_to_paths_looks_only_there(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
        write_files(shop, {"shop/cart.py": "def emptied(): pass\n", "shop/pricing.py": "X = 1\n"})
        stats = idx.update(paths=["shop/cart.py"])
        snap = idx.snapshot()
    assert stats.parsed == 1
    assert [d.name for d in snap.definitions("shop/cart.py")] == ["emptied"]
    assert [d.name for d in snap.definitions("shop/pricing.py")] == ["price_of"]


def test_a_commit_snapshot_shows_that_commit_not_the_working_tree(shop: Path) -> None:
    first = git(shop, "rev-parse", "HEAD")
    commit(shop, {"shop/pricing.py": "def cost(item):\n    return 1\n"})
    write_files(shop, {"shop/pricing.py": "def uncommitted(): pass\n"})
    with SymbolIndex(shop) as idx:
        old = idx.tree_snapshot(first)
        new = idx.tree_snapshot("HEAD")
    assert [d.name for d in old.definitions("shop/pricing.py")] == ["price_of"]
    assert [d.name for d in new.definitions("shop/pricing.py")] == ["cost"]
    assert new.source("shop/pricing.py") == "def cost(item):\n    return 1\n"


def test_parallel_parsing_gives_the_same_facts_as_serial(tmp_path: Path) -> None:
    count = index_module.PARALLEL_MIN_FILES + 6
    files = {
        f"pkg/m{i}.py": f"def f{i}(x):\n    return f{(i + 1) % count}(x)\n" for i in range(count)
    }
    repo = make_repo(tmp_path / "many", files)
    found = {}
    for workers in (1, 2):
        db = tmp_path / f"index-{workers}.db"
        with SymbolIndex(repo, db_path=db) as idx:
            assert idx.update(workers=workers).parsed == count
            snap = idx.snapshot()
            found[workers] = (snap.definitions(), snap.references())
    assert found[1] == found[2]


def test_progress_reports_every_file_parsed(shop: Path) -> None:
    seen: list[tuple[int, int]] = []
    with SymbolIndex(shop) as idx:
        idx.update(progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 4)
    assert seen[-1] == (4, 4)


def test_minified_and_oversized_files_are_skipped(shop: Path) -> None:
    write_files(shop, {"web/app.min.js": "function a(){" + "x();" * 2000 + "}\n"})
    with SymbolIndex(shop) as idx:
        stats = idx.update()
        snap = idx.snapshot()
    assert stats.skipped == 1
    assert snap.status["web/app.min.js"] == "skipped"
    assert snap.definitions("web/app.min.js") == []


def test_an_ignored_file_named_to_update_is_still_not_indexed(shop: Path) -> None:
    write_files(shop, {".gitignore": "gen/\n", "gen/out.py": "def generated(): pass\n"})
    with SymbolIndex(shop) as idx:
        idx.update()
        stats = idx.update(paths=["gen/out.py"])
        snap = idx.snapshot()
    assert stats.files == 4
    assert "gen/out.py" not in snap.paths


def test_an_edit_the_stat_guess_misses_is_still_found_by_git(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
        pricing = shop / "shop" / "pricing.py"
        before = pricing.stat()
        pricing.write_text(pricing.read_text().replace("item", "ITEM"))  # same size
        os.utime(pricing, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime
        stats = idx.update()
        snap = idx.snapshot()
    assert stats.parsed == 1
    assert snap.definitions("shop/pricing.py")[0].signature == "def price_of(ITEM)"


def test_the_index_directory_ignores_itself(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        idx.update()
    assert git(shop, "status", "--porcelain") == ""


def test_an_unreadable_index_file_is_rebuilt(shop: Path) -> None:
    db = shop / ".crewchief" / "index.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database" * 100)
    with SymbolIndex(shop) as idx:
        assert idx.update().parsed == 4
