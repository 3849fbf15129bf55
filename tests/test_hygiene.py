"""The hygiene loop: duplication found deterministically, small refactor tasks opened for the
workers, the manager triaging their patches, each duplicate proposed once."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from crewchief.intel.hygiene import find_duplicates, normalized_body
from repo_helpers import GIT_ENV, PY, default_config, make_repo, status_json, task_states

TESTS = Path(__file__).parent
BODY = """    total = 0
    for item in {items}:
        if item.{flag}:
            total += item.{amount} * {rate}
    if total > {cap}:
        total = {cap}
    return total
"""
FILES = {
    "shop/__init__.py": "",
    "shop/orders.py": "def order_total(orders):\n"
    + BODY.format(items="orders", flag="paid", amount="price", rate=2, cap=100),
    "shop/refunds.py": "def refund_total(refunds):\n"
    + BODY.format(items="refunds", flag="done", amount="value", rate=3, cap=50)
    + "\n\ndef unrelated(x):\n    return x + 1\n",
    "tests/test_shop.py": "from shop.orders import order_total\n"
    "from shop.refunds import refund_total\n\n\n"
    "def test_empty_totals():\n    assert order_total([]) == 0 and refund_total([]) == 0\n",
}


def test_bodies_that_only_rename_things_normalize_equal() -> None:
    a = normalized_body("def f(xs):\n    # sum\n    return sum(x.price for x in xs)  # all\n")
    b = normalized_body("def g(ys):\n    return sum(y.value for y in ys)\n")
    assert a == b


def test_duplicated_functions_are_found_and_nothing_else(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    [dup] = find_duplicates(repo)
    assert [(s.path, s.qualname) for s in dup.sites] == [
        ("shop/orders.py", "order_total"),
        ("shop/refunds.py", "refund_total"),
    ]


def test_a_sweep_opens_refactor_tasks_for_workers_and_manager_triage_once(tmp_path: Path) -> None:
    config = default_config(
        manager_model="scripted:llm_cli_models:reviewer",
        worker_model="scripted:crewchief.models.scripted:appender?line=%23%20deduplicated",
    )
    repo = make_repo(tmp_path / "r", FILES, config)
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [PY, "-m", "crewchief", "hygiene", "--every", "0", "--sweeps", "2"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": path, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sweep: 1 refactor task(s)" in proc.stdout
    assert "sweep: no new duplication found" in proc.stdout
    assert task_states(repo) == {"d1": "verified"}
    status = status_json(repo)
    assert status["state"] == "awaiting_approval"
    row = status["task_list"][0]
    assert row["owned"] == ["shop/orders.py", "shop/refunds.py"]
    assert row["verdict"] == "approve" and row["backend"] == "llm:worker"
    log = json.loads(
        subprocess.run(
            [PY, "-m", "crewchief", "log", "--json"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert any(e["kind"] == "model_call" and e["data"]["role"] == "reviewer" for e in log)
