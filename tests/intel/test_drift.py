"""Signature drift: changed or removed public symbols, and the tasks that refer to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewchief.errors import UserError
from crewchief.intel.drift import affected_tasks, detect_drift, signature_changes
from crewchief.intel.index import SymbolIndex
from repo_helpers import commit, git, write_files

RENAMED_PARAMETER = "def price_of(product):\n    return product.price\n"


def worker_patch(repo: Path, files: dict[str, str]) -> bytes:
    """What a worker hands back: the working tree's diff against HEAD, then reset."""
    write_files(repo, files)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "--binary").encode() + b"\n"
    git(repo, "reset", "-q", "--hard")
    return patch


def test_a_renamed_parameter_is_a_signature_change(shop: Path) -> None:
    patch = worker_patch(shop, {"shop/pricing.py": RENAMED_PARAMETER})
    with SymbolIndex(shop) as idx:
        changes = signature_changes(idx, "HEAD", patch=patch)
    assert [(c.path, c.qualname, c.change, c.old_signature, c.new_signature) for c in changes] == [
        ("shop/pricing.py", "price_of", "signature", "def price_of(item)", "def price_of(product)")
    ]


def test_a_removed_function_is_reported_between_two_commits(shop: Path) -> None:
    base = git(shop, "rev-parse", "HEAD")
    head = commit(
        shop, {"shop/cart.py": "class Cart:\n    def add(self, item, qty=1):\n        pass\n"}
    )
    with SymbolIndex(shop) as idx:
        changes = signature_changes(idx, base, head=head)
    assert sorted((c.qualname, c.change) for c in changes) == [
        ("Cart.__init__", "removed"),
        ("Cart.total", "removed"),
    ]


def test_private_and_body_only_changes_are_not_drift(shop: Path) -> None:
    patch = worker_patch(
        shop,
        {
            "shop/cart.py": (shop / "shop/cart.py")
            .read_text()
            .replace("def _helper():", "def _h(x):")
            .replace("self.items = []", "self.items = list()"),
        },
    )
    with SymbolIndex(shop) as idx:
        assert signature_changes(idx, "HEAD", patch=patch) == ()


def test_a_moved_file_moves_its_public_symbols(shop: Path) -> None:
    base = git(shop, "rev-parse", "HEAD")
    git(shop, "mv", "shop/pricing.py", "shop/prices.py")
    git(shop, "commit", "-q", "-m", "move")
    with SymbolIndex(shop) as idx:
        changes = signature_changes(idx, base, head="HEAD")
    assert [(c.qualname, c.change, c.new_path) for c in changes] == [
        ("price_of", "moved", "shop/prices.py")
    ]


def test_tasks_whose_owned_or_context_code_refers_to_a_change_are_affected(shop: Path) -> None:
    patch = worker_patch(shop, {"shop/pricing.py": RENAMED_PARAMETER})
    tasks = [
        ("owns-cart", ["shop/cart.py"], []),
        ("reads-cart", ["shop/checkout.py"], ["shop/cart.py"]),
        ("unrelated", ["shop/checkout.py"], []),
    ]
    with SymbolIndex(shop) as idx:
        report = detect_drift(idx, "HEAD", patch=patch, tasks=tasks)
    assert [(a.task_id, a.symbols, a.evidence) for a in report.affected] == [
        ("owns-cart", ("shop/pricing.py::price_of",), ("shop/cart.py:17", "shop/cart.py:3")),
        ("reads-cart", ("shop/pricing.py::price_of",), ("shop/cart.py:17", "shop/cart.py:3")),
    ]


def test_no_changes_affect_no_task(shop: Path) -> None:
    with SymbolIndex(shop) as idx:
        assert affected_tasks(idx, "HEAD", [], [("t", ["shop/"], [])]) == ()


def test_a_patch_that_does_not_apply_is_a_user_error(shop: Path) -> None:
    patch = worker_patch(shop, {"shop/pricing.py": RENAMED_PARAMETER})
    commit(shop, {"shop/pricing.py": "completely = 'different'\n"})
    with SymbolIndex(shop) as idx, pytest.raises(UserError, match="does not apply"):
        signature_changes(idx, "HEAD", patch=patch)
