"""Who may reach the server and which posts it believes: host names, token, origin, CSRF."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from crewchief.web.security import Guard, is_loopback

from .runs import ORIGIN, Run, client_for, csrf_from, states

TOKEN = "s3cret-token-for-tests"


def approve_t1(client: TestClient, run: Run, csrf: str, **headers: str) -> int:
    response = client.post(
        f"/runs/{run.run_id}/tasks/t1/decision",
        data={"decision": "approve", "csrf": csrf},
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code


def test_loopback_server_refuses_other_host_names(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    refused = client.get("/", headers={"Host": "evil.example:8000"})
    assert refused.status_code == 400
    assert "answers only to" in refused.text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_need_a_token_too_and_answer_only_loopback_names(host: str) -> None:
    assert is_loopback(host)
    with pytest.raises(ValueError, match="needs an access token"):
        Guard.for_bind(host, "")
    allowed = Guard.for_bind(host, TOKEN).allowed_hosts
    assert allowed is not None and "localhost" in allowed


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "myhost.example"])
def test_binding_beyond_loopback_answers_any_host_name_with_the_token(host: str) -> None:
    assert not is_loopback(host)
    assert Guard.for_bind(host, TOKEN).allowed_hosts is None


def test_without_the_token_every_request_is_refused(run: Run) -> None:
    client = client_for(run.repo, Guard.for_bind("0.0.0.0", TOKEN))
    for url in ("/", f"/runs/{run.run_id}", "/static/style.css", f"/runs/{run.run_id}/state"):
        assert client.get(url).status_code == 401, url
    assert client.get("/?token=wrong").status_code == 401
    assert "needs its access token" in client.get("/").text


def test_token_in_the_query_once_then_a_strict_cookie_carries_it(run: Run) -> None:
    client = client_for(run.repo, Guard.for_bind("0.0.0.0", TOKEN))
    first = client.get(f"/?token={TOKEN}")
    assert first.status_code == 200
    token_cookie = next(c for c in first.headers.get_list("set-cookie") if TOKEN in c)
    assert "HttpOnly" in token_cookie and "SameSite=Strict" in token_cookie
    assert client.get(f"/runs/{run.run_id}").status_code == 200  # the cookie now


def test_token_in_a_header_is_accepted(run: Run) -> None:
    client = client_for(run.repo, Guard.for_bind("0.0.0.0", TOKEN))
    assert client.get("/", headers={"X-Crewchief-Token": TOKEN}).status_code == 200
    assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_token_server_accepts_an_action_with_token_origin_and_csrf(run: Run) -> None:
    client = client_for(run.repo, Guard.for_bind("0.0.0.0", TOKEN))
    client.get(f"/?token={TOKEN}")
    csrf = csrf_from(client, f"/runs/{run.run_id}")
    assert approve_t1(client, run, csrf, Origin=ORIGIN) == 303
    assert states(run)["t1"] == "approved"


def test_post_from_another_origin_is_refused_and_changes_nothing(
    client: TestClient, run: Run
) -> None:
    csrf = csrf_from(client, f"/runs/{run.run_id}")
    assert approve_t1(client, run, csrf, Origin="http://evil.example") == 403
    assert approve_t1(client, run, csrf, Origin="null") == 403
    assert approve_t1(client, run, csrf, Origin=ORIGIN, **{"Sec-Fetch-Site": "cross-site"}) == 403
    assert approve_t1(client, run, csrf, Referer="http://evil.example/page") == 403
    assert states(run)["t1"] == "verified"


def test_post_without_origin_or_referer_is_refused(client: TestClient, run: Run) -> None:
    csrf = csrf_from(client, f"/runs/{run.run_id}")
    response = client.post(
        f"/runs/{run.run_id}/tasks/t1/decision",
        data={"decision": "approve", "csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "neither Origin nor Referer" in response.text


def test_same_origin_referer_is_enough_without_origin(client: TestClient, run: Run) -> None:
    csrf = csrf_from(client, f"/runs/{run.run_id}")
    assert approve_t1(client, run, csrf, Referer=f"{ORIGIN}/runs/{run.run_id}") == 303


def test_post_without_the_sessions_csrf_token_is_refused(client: TestClient, run: Run) -> None:
    client.get(f"/runs/{run.run_id}")
    assert approve_t1(client, run, "", Origin=ORIGIN) == 403
    assert approve_t1(client, run, "0" * 64, Origin=ORIGIN) == 403
    stranger = client_for(run.repo)  # another browser: its own session, its own token
    other = csrf_from(stranger, f"/runs/{run.run_id}")
    assert approve_t1(client, run, other, Origin=ORIGIN) == 403
    assert (
        "CSRF token is missing or stale"
        in client.post(
            f"/runs/{run.run_id}/merge", data={"csrf": other}, headers={"Origin": ORIGIN}
        ).text
    )
    assert states(run)["t1"] == "verified"


def test_session_cookie_is_strict_and_http_only(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("crewchief_session_")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


def test_pages_forbid_framing_inline_script_and_foreign_form_targets(client: TestClient) -> None:
    headers = client.get("/").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/nope").headers["x-frame-options"] == "DENY"


def test_refusals_carry_the_security_headers_too(run: Run) -> None:
    client = client_for(run.repo, Guard.for_bind("0.0.0.0", TOKEN))
    assert client.get("/").headers["x-frame-options"] == "DENY"
