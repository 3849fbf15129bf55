"""The context packer: named symbols in full, callee and caller signatures, within budget."""

from __future__ import annotations

from pathlib import Path

from crewchief.intel.index import SymbolIndex
from crewchief.intel.packer import pack_context
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.tokens import CharEstimate, default_counter


def keys(items: object) -> list[tuple[str, str, str]]:
    return [(i.key, i.role, i.detail) for i in items]  # type: ignore[attr-defined]


def test_named_symbols_come_in_full_with_callee_and_caller_signatures(
    snapshot: Snapshot,
) -> None:
    context = pack_context(snapshot, ["shop/cart.py"], ["Cart.total"], budget=2000)
    assert keys(context.included) == [
        ("shop/cart.py::Cart.total", "target", "source"),
        ("shop/pricing.py::price_of", "callee", "signature"),
        ("shop/checkout.py::checkout", "caller", "signature"),
    ]
    assert context.cut == ()
    text = context.render()
    assert "        return sum(price_of(item) * qty for item, qty in self.items)\n" in text
    assert "`def price_of(item)` — Price of one item, tax included." in text
    assert "shop/checkout.py:4 checkout: `def checkout(items)`" in text


def test_without_names_every_symbol_of_the_owned_files_is_a_target(snapshot: Snapshot) -> None:
    context = pack_context(snapshot, ["shop/cart.py"], budget=2000)
    targets = [i.key for i in context.included if i.role == "target"]
    # Methods are inside the class's source: only the outermost definitions are targets.
    assert targets == ["shop/cart.py::Cart", "shop/cart.py::_helper"]


def test_owned_directories_own_every_file_below_them(snapshot: Snapshot) -> None:
    context = pack_context(snapshot, ["shop/"], ["checkout", "price_of"], budget=2000)
    targets = [i.key for i in context.included if i.role == "target"]
    assert targets == ["shop/checkout.py::checkout", "shop/pricing.py::price_of"]


def test_the_packed_context_stays_within_budget_and_records_what_was_cut(
    snapshot: Snapshot,
) -> None:
    counter = default_counter()
    context = pack_context(snapshot, ["shop/checkout.py"], ["checkout"], budget=110)
    assert context.tokens <= 110
    assert counter.count(context.render()) == context.tokens
    assert context.cut, "a budget this small cannot hold every callee and caller"
    assert keys(context.included)[0] == ("shop/checkout.py::checkout", "target", "source")


def test_every_named_symbol_is_included_even_when_its_source_does_not_fit(
    snapshot: Snapshot,
) -> None:
    context = pack_context(snapshot, ["shop/cart.py"], ["Cart", "_helper"], budget=40)
    included = keys(context.included)
    assert ("shop/cart.py::Cart", "target", "signature") in included
    assert {k for k, _, _ in included} >= {"shop/cart.py::Cart", "shop/cart.py::_helper"}
    assert ("shop/cart.py::Cart", "target", "source") in keys(context.cut)


def test_names_not_defined_in_the_owned_files_are_reported_missing(snapshot: Snapshot) -> None:
    context = pack_context(snapshot, ["shop/cart.py"], ["Cart.add", "price_of", "nope"])
    assert context.missing == ("price_of", "nope")
    assert [i.key for i in context.included if i.role == "target"] == ["shop/cart.py::Cart.add"]


def test_the_context_says_which_tokenizer_counted(snapshot: Snapshot) -> None:
    estimated = pack_context(snapshot, ["shop/cart.py"], ["Cart.add"], counter=CharEstimate())
    assert estimated.tokenizer == "estimate: characters/4"
    assert not estimated.exact_tokens
    real = pack_context(snapshot, ["shop/cart.py"], ["Cart.add"])
    assert real.exact_tokens == default_counter().exact


def test_the_context_is_a_frozen_record(snapshot: Snapshot) -> None:
    context = pack_context(snapshot, ["shop/cart.py"], ["Cart.add"])
    again = type(context).model_validate_json(context.model_dump_json())
    assert again == context


def test_callees_and_callers_come_from_the_same_language_family(polyglot: Path) -> None:
    with SymbolIndex(polyglot) as idx:
        idx.update()
        snap = idx.snapshot()
    context = pack_context(snap, ["web/cart.ts"], ["total"], budget=2000)
    assert keys(context.included) == [
        ("web/cart.ts::total", "target", "source"),
        ("web/cart.ts::Item", "callee", "signature"),
    ]
