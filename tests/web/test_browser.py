"""End to end in a real headless Chromium against a real server process: a person reviews a
finished demo run, rejects one task, approves the rest and merges; the ledger and the target
branch say exactly that afterwards. Screenshots land in the test's directory and test-output/."""

from __future__ import annotations

import getpass
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from repo_helpers import crewchief, git

from .runs import FILE_OF, Run, Served, states

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output"
LIVE_TIMEOUT_MS = 10_000
MERGE_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it "
            "(apt-get install -y chromium; CI installs it)",
            pytrace=False,
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page that fails the test on any script error or failed request."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert not [p for p in problems if "403" not in p], problems


def shoot(page: Page, name: str, tmp_path: Path) -> None:
    """A full-page screenshot in the test's directory, copied to test-output/ for people."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SCREENSHOTS / name)


def show(repo: Path, rev: str, path: str) -> str:
    return git(repo, "show", f"{rev}:{path}")


def review_in_browser(page: Page, run: Run, url: str, tmp_path: Path) -> None:
    page.goto(url)
    page.click(f"a[href='/runs/{run.run_id}']")
    expect(page.locator("h1 [data-run-state]")).to_have_text("awaiting_approval")
    shoot(page, "run-page.png", tmp_path)
    page.click("table.tasks a[href$='/tasks/t2']")
    first = page.locator("details.file").first
    expect(first.locator("table.code")).to_be_hidden()
    first.locator("summary").click()
    added = first.locator("tr.ln-add").first
    expect(added).to_be_visible()
    expect(added).to_contain_text("get_user")
    shoot(page, "task-page.png", tmp_path)
    page.fill("#comment", "billing is frozen this quarter")
    expect(page.locator("form.decide .who")).to_contain_text(getpass.getuser())
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("You rejected t2")
    page.get_by_role("button", name="Approve the run").click()
    expect(page.locator(".notice")).to_contain_text("Every verified task that needs no person")
    page.get_by_role("button", name="Merge into main").click()
    expect(page.locator(".notice")).to_contain_text("Merged:", timeout=MERGE_TIMEOUT_MS)
    expect(page.locator("h1 [data-run-state]")).to_have_text("merged")
    shoot(page, "run-page-merged.png", tmp_path)


def test_reject_one_approve_the_rest_and_merge_in_the_browser(
    page: Page, run: Run, tmp_path: Path
) -> None:
    base = git(run.repo, "rev-parse", "main")
    with Served(run.repo) as served:
        review_in_browser(page, run, served.url, tmp_path)
    ledger = run.ledger()
    try:
        assert ledger.run(run.run_id).state == "merged"
        decisions = {(a.task_id, a.decision, a.who) for a in ledger.approvals(run.run_id)}
        comments = {a.task_id: a.comment for a in ledger.approvals(run.run_id)}
        merged = {t for t, s in ledger.task_states(run.run_id).items() if s == "merged"}
    finally:
        ledger.close()
    assert ("t2", "reject", getpass.getuser()) in decisions
    assert comments["t2"] == "billing is frozen this quarter"
    assert {t for t, d, _ in decisions if d == "approve"} == {"t1", "t3", "t4", "t5"}
    assert merged == {"t1", "t3", "t4", "t5"}
    assert show(run.repo, "main", FILE_OF["t2"]) == show(run.repo, base, FILE_OF["t2"])
    assert "fetch_user" in (run.repo / FILE_OF["t2"]).read_text()  # checkout fast-forwarded
    for task in ("t1", "t3", "t4", "t5"):
        assert "get_user" in show(run.repo, "main", FILE_OF[task])
        assert "get_user" in (run.repo / FILE_OF[task]).read_text()
    for name in ("run-page.png", "task-page.png", "run-page-merged.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_task_states_update_live_without_a_reload(page: Page, run: Run) -> None:
    with Served(run.repo) as served:
        page.goto(served.at(f"runs/{run.run_id}"))
        marker = page.evaluate("() => (window.notReloaded = true)")
        proc = crewchief(run.repo, "review", run.run_id, "--approve", "t1")
        assert proc.returncode == 0, proc.stderr
        cell = page.locator("table.tasks [data-task-state='t1']")
        expect(cell).to_have_text("approved", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("g[data-task-node='t1']")).to_have_attribute(
            "class", "node state-approved"
        )
        expect(page.locator("#live-note")).to_be_visible()
        assert page.evaluate("() => window.notReloaded") is marker
        page.goto("about:blank")  # stop polling before the server stops


def test_pages_read_and_act_without_javascript(browser: Browser, run: Run, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    page = context.new_page()
    try:
        with Served(run.repo) as served:
            page.goto(served.at(f"runs/{run.run_id}/tasks/t1"))
            expect(page.locator("h1")).to_contain_text("t1")
            expect(page.locator("[data-expand-all]")).to_be_hidden()
            first = page.locator("details.file").first
            first.locator("summary").click()
            expect(first.locator("tr.ln-add").first).to_be_visible()
            page.get_by_role("button", name="Approve", exact=True).click()
            expect(page.locator(".notice")).to_contain_text("You approved t1")
            shoot(page, "run-page-no-js.png", tmp_path)
    finally:
        context.close()
    assert states(run)["t1"] == "approved"


def test_a_form_posted_from_another_page_is_refused_by_the_browser_path(
    browser: Browser, run: Run
) -> None:
    # its own context: the refusal page's stylesheet is refused too (no token), which the
    # ``page`` fixture would count as a console error
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        with Served(run.repo) as served:
            target = f"{served.base}runs/{run.run_id}/tasks/t1/decision"
            page.set_content(
                f'<form method="post" action="{target}">'
                '<input name="decision" value="approve"><input name="csrf" value="x">'
                "</form>"
            )
            with page.expect_navigation():
                page.evaluate("() => document.forms[0].submit()")
            # a page of another origin has no token to send (origin and CSRF checks follow)
            expect(page.locator("h1")).to_contain_text("401")
            expect(page.locator(".message")).to_contain_text("needs its access token")
    finally:
        context.close()
    assert states(run)["t1"] == "verified"


def test_a_model_driven_run_shows_its_graph_summary_verdicts_and_transcript(
    page: Page, rich_run: Run, tmp_path: Path
) -> None:
    with Served(rich_run.repo) as served:
        page.goto(served.at(f"runs/{rich_run.run_id}"))
        expect(page.locator("svg.plan-graph path.edge")).to_have_count(3)
        expect(page.locator(".summary")).to_contain_text("Every caller moves to the cached API.")
        expect(page.locator("#gate")).to_contain_text("needs a person: risk is high")
        shoot(page, "rich-run-page.png", tmp_path)
        page.click("svg.plan-graph a[href$='/tasks/t1']")
        page.get_by_role("button", name="expand all").click()
        expect(page.locator("tr.hunk-verdict.bad")).to_contain_text("check the locale fallback")
        expect(page.locator("ol.transcript")).to_contain_text("Rewrite <b>every</b> call")
        shoot(page, "rich-task-page.png", tmp_path)


def test_the_token_leaves_the_address_bar_once_the_cookie_holds_it(page: Page, run: Run) -> None:
    with Served(run.repo, "--token", "tok-456") as served:
        page.goto(served.url)
        expect(page.locator("h1")).to_have_text("Runs")
        assert "token" not in page.url
        page.click(f"a[href='/runs/{run.run_id}']")
        expect(page.locator("h1 [data-run-state]")).to_have_text("awaiting_approval")
