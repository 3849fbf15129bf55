"""The review dossier on the page: the same content as ``crewchief report``."""

from __future__ import annotations

from starlette.testclient import TestClient

from crewchief.ledger import report

from .runs import Run, client_for

SECTIONS = ["report-plan", "report-suite", "report-order", "report-provenance"]


def test_the_report_page_shows_every_section_of_the_runs_dossier(demo_run: Run) -> None:
    page = client_for(demo_run.repo).get(f"/runs/{demo_run.run_id}/report")
    assert page.status_code == 200
    data = report.build(demo_run.repo, demo_run.ledger(), demo_run.run_id)
    for section in SECTIONS + [f"report-task-{t['task']}" for t in data["tasks"]]:
        assert f'id="{section}"' in page.text
    assert data["cost"]["total_usd"] is None and "cost: no model calls." in page.text
    for link in data["merge_order"]:
        assert f'title="{link["commit"]}"' in page.text
    assert data["suite"] is not None and data["suite"]["commit"] in page.text
    assert page.text.count("no check ran") == 0


def test_the_run_page_links_to_its_report(client: TestClient, run: Run) -> None:
    page = client.get(f"/runs/{run.run_id}")
    assert f'href="/runs/{run.run_id}/report"' in page.text


def test_the_report_of_an_unknown_run_is_a_404(client: TestClient) -> None:
    assert client.get("/runs/nope/report").status_code == 404
