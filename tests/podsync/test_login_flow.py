"""Nextcloud Login Flow v2 as AntennaPod runs it (``NextcloudLoginFlow.java``: ``POST /index.php/login/v2`` with
an empty form body, open ``login`` in a browser, then ``POST`` the ``poll.endpoint`` with ``token=…`` until
200 and read ``server``, ``loginName``, ``appPassword``); the learner approves on our French page."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from learning.accounts.auth import SESSION_COOKIE
from learning.app import create_app
from learning.config import Settings
from learning.lib.logging import JsonFormatter
from tests.helpers.accounts import LONG_WINDOW, Account
from tests.helpers.database import sql
from tests.podsync.conftest import MODULE, basic, enrolled

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
AGENT = "AntennaPod/3.6.0"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def start(client: TestClient[Any]) -> dict[str, Any]:
    started = client.post("/index.php/login/v2", content=b"", headers=FORM | {"User-Agent": AGENT})
    assert started.status_code == 200, started.text
    body = started.json()
    assert set(body) == {"poll", "login"}
    assert set(body["poll"]) == {"token", "endpoint"}
    return body


def poll(client: TestClient[Any], flow: dict[str, Any]) -> httpx.Response:
    endpoint = httpx.URL(flow["poll"]["endpoint"])
    return client.post(endpoint.path, content=f"token={flow['poll']['token']}".encode(), headers=FORM)


def answer_on_the_page(client: TestClient[Any], learner: Account, flow: dict[str, Any], action: str) -> httpx.Response:
    client.cookies.set(SESSION_COOKIE, learner.token)
    try:
        path = httpx.URL(flow["login"]).path
        shown = client.get(path)
        assert shown.status_code == 200, shown.text
        assert "Autoriser l’application" in shown.text
        assert AGENT in shown.text
        csrf = _CSRF.findall(shown.text)[-1]  # the page's own form (the header has a sign-out form too)
        return client.post(path, data={"_csrf_token": csrf, "action": action})
    finally:
        client.cookies.delete(SESSION_COOKIE)


def test_login_flow_round_trip_gives_a_working_app_password_once(client: TestClient[Any]) -> None:
    learner = enrolled(client)
    flow = start(client)
    assert poll(client, flow).status_code == 404  # not approved yet
    approved = answer_on_the_page(client, learner, flow, "approve")
    assert approved.status_code == 200, approved.text
    assert "est autorisée" in approved.text
    given = poll(client, flow)
    assert given.status_code == 200, given.text
    credentials = given.json()
    assert set(credentials) == {"server", "loginName", "appPassword"}
    assert credentials["loginName"] == learner.email
    assert poll(client, flow).status_code == 404  # once, never again
    # the app signs in with what it was given, and is offered the learner's private feed
    synced = client.get(
        "/index.php/apps/gpoddersync/subscriptions", params={"since": 0},
        headers=basic(credentials["loginName"], credentials["appPassword"]),
    )  # fmt: skip
    assert synced.status_code == 200, synced.text
    assert any(f"/modules/{MODULE}.xml" in url for url in synced.json()["add"])
    listed = client.get("/api/v1/me/app-passwords", headers=learner.headers).json()
    assert [row["name"] for row in listed] == [AGENT]
    assert "appPassword" not in str(listed)
    assert credentials["appPassword"] not in str(listed)


def test_the_login_request_token_is_never_logged(client: TestClient[Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    learner = enrolled(client)
    flow = start(client)
    answer_on_the_page(client, learner, flow, "approve")
    given = poll(client, flow).json()
    login_token = httpx.URL(flow["login"]).path.rsplit("/", 1)[1]
    served = [record for record in caplog.records if record.name == "learning.access"]
    assert served, "the request log was not captured"
    logged = "\n".join(
        JsonFormatter().format(record) for record in caplog.records if record.name.startswith("learning")
    )
    assert "/compte/applications/connexion/***" in logged
    for secret in (login_token, flow["poll"]["token"], given["appPassword"]):
        assert secret not in logged


def test_a_refused_login_flow_never_gives_a_password(client: TestClient[Any]) -> None:
    learner = enrolled(client)
    flow = start(client)
    refused = answer_on_the_page(client, learner, flow, "refuse")
    assert refused.status_code == 200
    assert "Demande refusée" in refused.text
    assert poll(client, flow).status_code == 404
    assert client.get("/api/v1/me/app-passwords", headers=learner.headers).json() == []


def test_an_expired_login_flow_can_neither_be_approved_nor_polled(client: TestClient[Any], synced: Any) -> None:
    learner = enrolled(client)
    flow = start(client)
    sql(synced.database_url, "UPDATE login_flow SET expires_at = now() - interval '1 second'")
    client.cookies.set(SESSION_COOKIE, learner.token)
    try:
        assert client.get(httpx.URL(flow["login"]).path).status_code == 404
    finally:
        client.cookies.delete(SESSION_COOKIE)
    assert poll(client, flow).status_code == 404


def test_an_approved_flow_expires_unpolled(client: TestClient[Any], synced: Any) -> None:
    learner = enrolled(client)
    flow = start(client)
    assert answer_on_the_page(client, learner, flow, "approve").status_code == 200
    sql(synced.database_url, "UPDATE login_flow SET expires_at = now() - interval '1 second'")
    assert poll(client, flow).status_code == 404
    assert client.get("/api/v1/me/app-passwords", headers=learner.headers).json() == []


def test_a_visitor_is_sent_to_sign_in_before_approving(client: TestClient[Any]) -> None:
    flow = start(client)
    shown = client.get(httpx.URL(flow["login"]).path, follow_redirects=False)
    assert shown.status_code == 303
    assert shown.headers["location"].startswith("/connexion")
    assert poll(client, flow).status_code == 404


def test_login_flow_starts_are_limited_per_client(synced: Settings) -> None:
    limited = synced.model_copy(update={"login_ip_limit": 3, "login_window_seconds": LONG_WINDOW})
    with TestClient(app=create_app(limited)) as client:
        for _ in range(3):
            start(client)
        refused = client.post("/index.php/login/v2", content=b"", headers=FORM | {"User-Agent": AGENT})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0


def test_a_poll_without_a_token_is_a_404(client: TestClient[Any]) -> None:
    assert client.post("/index.php/login/v2/poll", content=b"", headers=FORM).status_code == 404
    assert client.post("/index.php/login/v2/poll", content=b"token=inconnu", headers=FORM).status_code == 404
