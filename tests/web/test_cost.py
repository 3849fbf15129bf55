"""One cost derivation: the CLI's status, the page, the dossier and the budgets read the same
figure off the ledger's model calls, said in the same words."""

from __future__ import annotations

import json
from pathlib import Path

from crewchief.config import Config
from crewchief.ledger import cost, report, views
from crewchief.ledger.read import RecordedCall
from crewchief.ledger.store import Ledger
from crewchief.records import ModelCall
from crewchief.run.budget import over_budget
from ledger_runs import crewchief_at, recorded_run, task

from .runs import client_for

#: The manager planned (0.20), t1's worker made a priced call (0.05) and one of unknown cost,
#: t2's reviewer a priced one (0.05).
EXPECTED = "$0.3000 + 1 call of unknown cost"


def _priced_run(tmp_path: Path) -> tuple[Path, str]:
    repo, ledger, run_id = recorded_run(tmp_path / "repo", [task("t1", "a.py"), task("t2", "b.py")])
    ledger.record_calls(run_id, [ModelCall(role="manager", model="big", cost_usd=0.2)])
    worker_calls = [
        ModelCall(role="worker", model="small", input_tokens=100, cost_usd=0.05),
        ModelCall(role="worker", model="small", input_tokens=40),
    ]
    ledger.record_calls(run_id, worker_calls, task_id="t1")
    ledger.record_calls(
        run_id, [ModelCall(role="reviewer", model="big", cost_usd=0.05)], task_id="t2"
    )
    ledger.close()
    return repo, run_id


def test_status_the_run_page_and_the_runs_page_show_the_same_cost(tmp_path: Path) -> None:
    repo, run_id = _priced_run(tmp_path)
    shown = crewchief_at(repo, 160, "status")
    assert f"cost: {EXPECTED};" in shown
    data = json.loads(crewchief_at(repo, 160, "status", "--json"))
    assert (data["cost"]["total_usd"], data["cost"]["unknown_calls"]) == (0.3, 1)
    assert data["cost"]["text"] == EXPECTED
    client = client_for(repo)
    assert f"<dd>{EXPECTED}</dd>" in client.get(f"/runs/{run_id}").text
    assert EXPECTED in client.get("/").text
    page = client.get(f"/runs/{run_id}/report").text
    assert f"cost: {EXPECTED}." in page


def test_the_dossier_and_the_budget_count_the_same_spend(tmp_path: Path) -> None:
    repo, run_id = _priced_run(tmp_path)
    ledger = Ledger.existing(repo)
    summary = views.cost_breakdown(ledger, run_id)
    dossier = report.build(repo, ledger, run_id)
    assert dossier["cost"] == summary.model_dump(mode="json")
    t1 = next(t for t in dossier["tasks"] if t["task"] == "t1")
    assert (t1["cost_usd"], t1["cost"]) == (0.05, "$0.0500 + 1 call of unknown cost")
    assert t1["tokens"] == {"input": 140, "output": 0, "cached": 0}
    stopped = over_budget(ledger, Config(run_budget_usd=0.3), run_id, None)
    assert stopped == f"run budget $0.3 reached (spent {EXPECTED})"
    assert over_budget(ledger, Config(run_budget_usd=0.31), run_id, None) is None
    assert over_budget(ledger, Config(task_budget_usd=0.05), run_id, "t2") is not None
    assert over_budget(ledger, Config(task_budget_usd=0.05), run_id, "t1") is not None


def test_costs_are_said_in_one_wording() -> None:
    def said(*costs: float | None) -> str:
        rows = [RecordedCall(role="worker", model="m", cost_usd=c) for c in costs]
        return cost.summarise(rows).text

    assert said() == "no model calls"
    assert said(0.0123) == "$0.0123"
    assert said(0.5, 0.75) == "$1.25"
    assert said(0.01, None, None) == "$0.0100 + 2 calls of unknown cost"
    assert said(None) == "unknown (1 call)"
    assert said(None, None, None) == "unknown (3 calls)"
    assert said(0.00001) == "under $0.0001"  # not $0.0000: that would read as free
