"""The review page's "Land what is ready": the same core call as ``merge --ready``."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import git
from web.runs import FILE_OF, Run, client_for, copy_run, finished_demo_run, post, states


def test_land_what_is_ready_lands_the_green_prefix_from_the_page(tmp_path: Path) -> None:
    run: Run = copy_run(finished_demo_run(tmp_path / "demo"), tmp_path / "repo")
    client = client_for(run.repo)
    base = git(run.repo, "rev-parse", "main")
    page = f"/runs/{run.run_id}"
    response = post(client, f"{page}/merge-ready", {"who": "grace"}, page)
    assert response.status_code == 303, response.text
    assert git(run.repo, "rev-parse", "main") != base
    assert set(states(run).values()) == {"merged"}
    for task in FILE_OF:
        assert "get_user" in git(run.repo, "show", f"main:{FILE_OF[task]}")
    assert "Landed the green, approved prefix" in client.get(response.headers["location"]).text
