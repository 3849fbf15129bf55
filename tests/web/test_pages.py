"""The pages read a real ledger and a real repository: what a reviewer sees, route by route."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from repo_helpers import git, init_repo

from .runs import FILE_OF, Run, client_for


def test_runs_page_lists_each_run_with_goal_state_counts_and_no_cost_for_a_recipe(
    client: TestClient, run: Run
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert f'href="/runs/{run.run_id}"' in page.text
    assert "users.fetch_user($UID)" in page.text
    assert "awaiting_approval" in page.text
    assert "verified 5" in page.text
    assert "no model calls" in page.text and "$0" not in page.text


def test_runs_page_of_a_repository_without_runs_says_so(tmp_path: Path) -> None:
    init_repo(tmp_path)
    page = client_for(tmp_path).get("/")
    assert page.status_code == 200
    assert "No crewchief runs in this repository yet" in page.text


def test_runs_page_shows_known_cost_as_a_lower_bound_and_who_approved(rich_run: Run) -> None:
    client = client_for(rich_run.repo)
    page = client.get("/")
    assert "$0.0323" in page.text  # t1's worker 0.0123 + the manager's call 0.02
    assert "unknown cost" not in page.text  # the recipe attempts made no model calls: none unknown


def test_run_page_shows_plan_graph_tasks_suite_and_integration_order(
    client: TestClient, run: Run
) -> None:
    page = client.get(f"/runs/{run.run_id}")
    assert page.status_code == 200
    svg = re.search(r"<svg class=\"plan-graph\".*?</svg>", page.text, re.S)
    assert svg and svg.group(0).count("data-task-node=") == 5
    for task in FILE_OF:
        assert f'data-task-state="{task}">verified<' in page.text
    assert "green</strong> on" in page.text
    assert "no manager summary was recorded" in page.text
    assert page.text.count('class="needs-person"') == 0


def test_run_page_shows_provenance_trailers_of_each_integration_commit(
    client: TestClient, run: Run
) -> None:
    page = client.get(f"/runs/{run.run_id}").text
    section = page[page.index('id="provenance"') : page.index('id="decisions"')]
    tip = git(run.repo, "rev-parse", f"refs/crewchief/runs/{run.run_id}")
    trailers = git(run.repo, "log", "-1", "--format=%(trailers:only,unfold)", tip)
    digest = re.search(r"Crewchief-Instruction: (sha256:\w+)", trailers)
    attempt = re.search(r"Crewchief-Attempt: (\S+)", trailers)
    assert digest and attempt
    assert f'title="{digest.group(1)}"' in section
    assert f"<code>{attempt.group(1)}</code>" in section
    assert section.count("<td>git</td>") == 5


def test_run_page_shows_manager_summary_dependencies_risks_and_questions(rich_run: Run) -> None:
    page = client_for(rich_run.repo).get(f"/runs/{rich_run.run_id}").text
    assert "Every caller moves to the cached API." in page
    assert "profiles first: the others read them" in page
    assert page.count('class="edge"') == 3  # t1→t3, t1→t4, t2→t4
    assert "invoice totals might be cached &lt;stale&gt;" in page
    assert "Should reports keep the uncached call?" in page
    assert "needs a person: risk is high" in page


def test_task_page_shows_highlighted_diff_per_file_collapsed(client: TestClient, run: Run) -> None:
    page = client.get(f"/runs/{run.run_id}/tasks/t1").text
    assert page.count('<details class="file"') == 2
    assert "accounts/profile.py" in page and "accounts/settings.py" in page
    assert '<span class="pg-k">return</span>' in page  # Pygments' Python keyword
    assert 'class="ln ln-add"' in page and 'class="ln ln-del"' in page
    assert "get_user" in page and "fetch_user" in page


def test_task_page_shows_gate_checks_with_output_and_the_verdict(
    client: TestClient, run: Run
) -> None:
    page = client.get(f"/runs/{run.run_id}/tasks/t2").text
    review = page[page.index('id="review"') : page.index('id="attempts"')]
    for kind in ("scope", "apply", "fast"):
        assert f"<td>{kind}</td>" in review
    assert "all paths owned; policy ok" in review
    assert "<strong>approve</strong> by <code>rules</code>" in review
    assert "rewrote" in review  # the rationale


def test_task_page_shows_per_hunk_verdicts_transcript_usage_and_cost(rich_run: Run) -> None:
    page = client_for(rich_run.repo).get(f"/runs/{rich_run.run_id}/tasks/t1").text
    assert "reviewer on this hunk: cached call is equivalent" in page
    assert "reviewer on this hunk: check the locale fallback" in page
    assert "Rewrite &lt;b&gt;every&lt;/b&gt; call" in page  # the transcript, escaped
    assert "tool_call · edit" in page
    assert "1,200" in page and "340" in page and "$0.0123" in page
    assert "model calls: $0.0123" in page  # the ledger's spend on the attempt, in one wording
    assert "profiles are read-mostly" in page


def test_live_state_is_json_of_run_and_task_states(client: TestClient, run: Run) -> None:
    state = client.get(f"/runs/{run.run_id}/state").json()
    assert state["state"] == "awaiting_approval"
    assert state["tasks"] == {t: "verified" for t in FILE_OF}
    assert state["seq"] > 0


def test_unknown_run_and_task_are_404_pages_without_traceback(client: TestClient, run: Run) -> None:
    for url in ("/runs/nope", f"/runs/{run.run_id}/tasks/t99", "/runs/nope/state"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "Traceback" not in page.text
    assert "no run &#39;nope&#39;" in client.get("/runs/nope").text


def test_stylesheets_and_script_are_served(client: TestClient) -> None:
    assert ".pg-k" in client.get("/highlight.css").text
    assert client.get("/static/style.css").status_code == 200
    assert "data-live-url" in client.get("/static/live.js").text


def test_notice_names_the_action_only_from_fixed_texts(client: TestClient, run: Run) -> None:
    page = client.get(f"/runs/{run.run_id}?notice=rejected&task=t2").text
    assert "You rejected t2" in page
    forged = client.get(f"/runs/{run.run_id}?notice=<script>&task=t2").text
    assert 'class="notice"' not in forged and "<script>" not in forged
