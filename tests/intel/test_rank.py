"""Ranking and the repository map: PageRank personalised to the focus, within a token budget."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from crewchief.intel.commands import map_command
from crewchief.intel.index import SymbolIndex
from crewchief.intel.rank import rank
from crewchief.intel.repomap import repo_map
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.tokens import CharEstimate, default_counter
from repo_helpers import make_repo

#: A hub everyone calls, two leaf packages, and a corner nobody uses.
HUB = {
    "core/util.py": "def normalize_text(s):\n    return s\n",
    "alpha/a.py": "from core.util import normalize_text\n\n\ndef alpha_entry(x):\n"
    "    return normalize_text(x)\n",
    "beta/b.py": "from core.util import normalize_text\n\n\ndef beta_entry(x):\n"
    "    return normalize_text(normalize_text(x))\n",
    "corner/c.py": "def lonely_function():\n    return 1\n",
}


def hub_snapshot(tmp_path: Path) -> Snapshot:
    with SymbolIndex(make_repo(tmp_path / "hub", HUB)) as idx:
        idx.update()
        return idx.snapshot()


def test_the_most_referenced_symbol_ranks_first_without_focus(tmp_path: Path) -> None:
    ranking = rank(hub_snapshot(tmp_path))
    assert ranking.symbols[0].definition.qualname == "normalize_text"
    assert ranking.files[0][0] == "core/util.py"


def test_focus_symbols_come_first(tmp_path: Path) -> None:
    ranking = rank(hub_snapshot(tmp_path), focus=["corner/"])
    assert ranking.symbols[0].definition.qualname == "lonely_function"
    assert ranking.symbols[0].in_focus
    assert not any(s.in_focus for s in ranking.symbols[1:])


def test_focus_personalises_the_rank_of_everything_else(tmp_path: Path) -> None:
    snap = hub_snapshot(tmp_path)
    ranks = dict(rank(snap, focus=["alpha/a.py"]).files)
    # alpha uses core; beta and corner are unrelated to the focus.
    assert ranks["core/util.py"] > ranks["beta/b.py"]
    assert ranks["core/util.py"] > ranks["corner/c.py"]


def test_the_map_stays_within_its_budget(snapshot: Snapshot) -> None:
    counter = default_counter()
    result = repo_map(snapshot, tokens=25, counter=counter)
    assert 0 < result.tokens <= 25
    assert counter.count(result.text) == result.tokens
    assert 0 < len(result.shown) < result.total_symbols


def test_the_map_shows_focus_signatures_under_their_file(snapshot: Snapshot) -> None:
    result = repo_map(snapshot, focus=["shop/pricing.py"], tokens=200)
    assert result.text.startswith("shop/pricing.py\n  def price_of(item)  # L4\n")
    assert result.shown[0] == "shop/pricing.py::price_of"


def test_a_shown_method_brings_its_class_header(snapshot: Snapshot) -> None:
    result = repo_map(snapshot, focus=["shop/cart.py"], tokens=500, counter=CharEstimate())
    assert "shop/cart.py\n  class Cart  # L6\n    def __init__(self)  # L9\n" in result.text
    assert not result.exact_tokens


def test_map_command_prints_the_map_to_stdout(shop: Path) -> None:
    app = typer.Typer()
    app.command()(map_command)
    result = CliRunner().invoke(
        app, ["--focus", str(shop / "shop" / "cart.py"), "--tokens", "300", "--repo", str(shop)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("shop/cart.py\n  class Cart  # L6\n")


def test_members_are_indented_only_inside_their_lexical_container(polyglot: Path) -> None:
    with SymbolIndex(polyglot) as idx:
        idx.update()
        result = repo_map(idx.snapshot(), focus=["svc/"], tokens=300)
    assert result.text.startswith(
        "svc/server.go\n"
        "  type Server struct  # L3\n"
        "  type Handler interface  # L8\n"
        "    Serve(path string) error  # L9\n"
        "  func (s *Server) Start(port int) error  # L12\n"
    )
