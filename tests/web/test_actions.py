"""The human gate through the page: each action is the CLI's library call, recorded in the
ledger with who and when; refusals are clear pages with the right status."""

from __future__ import annotations

import getpass
import time

from starlette.testclient import TestClient

from repo_helpers import git

from .runs import FILE_OF, WHO, Run, client_for, post, states


def decide(
    client: TestClient, run: Run, task: str, decision: str, comment: str = "", who: str = ""
) -> int:
    page = f"/runs/{run.run_id}/tasks/{task}"
    data = {"decision": decision, "comment": comment, "who": who}
    return post(client, f"{page}/decision", data, page).status_code


def approvals(run: Run) -> list[tuple[str | None, str, str, str]]:
    ledger = run.ledger()
    try:
        return [(a.task_id, a.decision, a.who, a.comment) for a in ledger.approvals(run.run_id)]
    finally:
        ledger.close()


def test_approving_a_task_records_the_servers_approver_and_redirects_to_the_run(
    client: TestClient, run: Run
) -> None:
    page = f"/runs/{run.run_id}/tasks/t1"
    response = post(client, f"{page}/decision", {"decision": "approve"}, page)
    assert response.status_code == 303
    assert response.headers["location"] == f"/runs/{run.run_id}?notice=approved&task=t1#gate"
    assert states(run)["t1"] == "approved"
    assert approvals(run) == [("t1", "approve", WHO, "")]
    assert "You approved t1." in client.get(response.headers["location"]).text


def test_a_server_given_no_name_records_its_os_user(run: Run) -> None:
    client = client_for(run.repo, who="")
    assert decide(client, run, "t1", "approve") == 303
    assert approvals(run)[0][2] == getpass.getuser()


def test_a_forged_approver_field_is_ignored_the_server_side_name_is_recorded(
    client: TestClient, run: Run
) -> None:
    assert decide(client, run, "t1", "approve", who="the-boss") == 303
    page = f"/runs/{run.run_id}"
    assert post(client, f"{page}/approve", {"who": "the-boss"}, page).status_code == 303
    assert {w for _, _, w, _ in approvals(run)} == {WHO}
    assert "the-boss" not in client.get(page).text


def test_rejecting_with_a_comment_records_it_and_the_page_shows_it_escaped(
    client: TestClient, run: Run
) -> None:
    assert decide(client, run, "t2", "reject", "billing is frozen <script>x</script>") == 303
    assert states(run)["t2"] == "rejected"
    assert approvals(run) == [("t2", "reject", WHO, "billing is frozen <script>x</script>")]
    page = client.get(f"/runs/{run.run_id}/tasks/t2").text
    assert "billing is frozen &lt;script&gt;x&lt;/script&gt;" in page
    assert "only verified tasks await a decision" in page


def test_sending_back_queues_another_attempt_and_says_how_to_resume(
    client: TestClient, run: Run
) -> None:
    assert decide(client, run, "t3", "send_back", "also update the docstring") == 303
    assert states(run)["t3"] == "ready"
    page = client.get(f"/runs/{run.run_id}?notice=sent_back&task=t3").text
    assert f"crewchief resume {run.run_id}" in page
    assert "Resume in the background" in page
    ledger = run.ledger()
    try:
        assert ledger.run(run.run_id).state == "running"
        feedback = [v.feedback for _, v in ledger.verdicts(run.run_id, "t3")]
        assert feedback[-1] == "also update the docstring"
    finally:
        ledger.close()


def test_resume_button_drives_the_run_in_a_background_process(client: TestClient, run: Run) -> None:
    assert decide(client, run, "t3", "send_back", "once more") == 303
    response = post(client, f"/runs/{run.run_id}/resume", {}, f"/runs/{run.run_id}")
    assert response.status_code == 303
    log_file = run.repo / ".crewchief" / "web" / f"resume-{run.run_id}.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/runs/{run.run_id}/state").json()
        log = log_file.read_text() if log_file.exists() else "(no log)"
        # the ledger moves before the process prints its last line: wait for both
        done = state["state"] == "awaiting_approval" and state["tasks"]["t3"] == "verified"
        if done and "awaiting_approval" in log:
            break
        time.sleep(0.3)
    assert state["state"] == "awaiting_approval", f"{state}\n{log}"
    assert "awaiting_approval" in log
    ledger = run.ledger()
    try:
        assert len(ledger.attempts(run.run_id, "t3")) == 2
    finally:
        ledger.close()


def test_resume_of_a_run_awaiting_approval_is_refused(client: TestClient, run: Run) -> None:
    response = post(client, f"/runs/{run.run_id}/resume", {}, f"/runs/{run.run_id}")
    assert response.status_code == 409
    assert "nothing to resume" in response.text


def test_approve_run_approves_every_task_that_needs_no_person(rich_run: Run) -> None:
    client = client_for(rich_run.repo)
    page = f"/runs/{rich_run.run_id}"
    response = post(client, f"{page}/approve", {}, page)
    assert response.status_code == 303
    assert states(rich_run) == {
        "t1": "approved",
        "t2": "verified",  # billing/** is protected
        "t3": "approved",
        "t4": "approved",
        "t5": "verified",  # high risk
    }
    assert {(t, w) for t, _, w, _ in approvals(rich_run)} == {
        ("t1", WHO),
        ("t3", WHO),
        ("t4", WHO),
    }
    after = client.get(response.headers["location"]).text
    assert "2 task(s) await a decision" in after
    assert "needs a person: risk is high" in after
    assert "needs a person: billing/invoice.py matches protected path billing/**" in after


def test_a_protected_task_can_still_be_approved_by_a_person(rich_run: Run) -> None:
    client = client_for(rich_run.repo)
    page = f"/runs/{rich_run.run_id}/tasks/t2"
    assert "Needs a person: billing/refunds.py matches protected path" in client.get(page).text
    response = post(client, f"{page}/decision", {"decision": "approve"}, page)
    assert response.status_code == 303
    assert states(rich_run)["t2"] == "approved"


def test_merge_lands_the_approved_tasks_and_leaves_the_rejected_one_out(
    client: TestClient, run: Run
) -> None:
    base = git(run.repo, "rev-parse", "main")
    assert decide(client, run, "t2", "reject", "not now") == 303
    page = f"/runs/{run.run_id}"
    assert post(client, f"{page}/approve", {}, page).status_code == 303
    response = post(client, f"{page}/merge", {}, page)
    assert response.status_code == 303, response.text
    assert git(run.repo, "rev-parse", "main") != base
    assert git(run.repo, "diff", "--name-only", base, "main", "--", "billing") == ""
    for task in ("t1", "t3", "t4", "t5"):
        assert "get_user" in git(run.repo, "show", f"main:{FILE_OF[task]}")
    assert states(run)["t2"] == "rejected"
    after = client.get(response.headers["location"]).text
    assert "Merged:" in after and "merged by" in after and WHO in after


def test_merge_with_undecided_tasks_is_a_409_and_changes_nothing(
    client: TestClient, run: Run
) -> None:
    base = git(run.repo, "rev-parse", "main")
    response = post(client, f"/runs/{run.run_id}/merge", {}, f"/runs/{run.run_id}")
    assert response.status_code == 409
    assert "5 task(s) still await a decision" in response.text
    assert "Traceback" not in response.text
    assert git(run.repo, "rev-parse", "main") == base


def test_merge_after_the_target_moved_is_refused_with_the_reason(
    client: TestClient, run: Run
) -> None:
    page = f"/runs/{run.run_id}"
    assert post(client, f"{page}/approve", {}, page).status_code == 303
    git(run.repo, "commit", "--allow-empty", "-q", "-m", "someone else landed first")
    moved = git(run.repo, "rev-parse", "main")
    response = post(client, f"{page}/merge", {}, page)
    assert response.status_code == 409
    assert "main moved from" in response.text and "nothing was changed" in response.text
    assert git(run.repo, "rev-parse", "main") == moved


def test_deciding_a_task_twice_is_a_409(client: TestClient, run: Run) -> None:
    assert decide(client, run, "t1", "approve") == 303
    page = f"/runs/{run.run_id}/tasks/t1"
    response = post(client, f"{page}/decision", {"decision": "reject"}, f"/runs/{run.run_id}")
    assert response.status_code == 409
    assert "task t1 is approved; only verified tasks await a decision" in response.text


def test_bad_form_input_is_a_400_and_changes_nothing(client: TestClient, run: Run) -> None:
    assert decide(client, run, "t1", "maybe") == 400
    assert decide(client, run, "t1", "send_back", "   ") == 400
    assert decide(client, run, "t1", "approve", "x" * 5000) == 400
    assert states(run)["t1"] == "verified"
    assert approvals(run) == []


def test_actions_on_unknown_runs_and_tasks_are_404(client: TestClient, run: Run) -> None:
    page = f"/runs/{run.run_id}"
    assert (
        post(client, f"{page}/tasks/t99/decision", {"decision": "approve"}, page).status_code == 404
    )
    assert post(client, "/runs/nope/merge", {}, page).status_code == 404


def test_get_on_an_action_is_not_allowed(client: TestClient, run: Run) -> None:
    assert client.get(f"/runs/{run.run_id}/merge").status_code == 405


def test_an_oversized_form_is_refused_before_it_is_read(client: TestClient, run: Run) -> None:
    assert decide(client, run, "t1", "approve", "x" * 300_000) == 413
    assert states(run)["t1"] == "verified"
