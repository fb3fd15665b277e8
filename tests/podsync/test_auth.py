"""HTTP Basic on the sync routes: an app password (never the account's password), revoked → refused at once in
every process, failures limited per account and client (429 with Retry-After), the URL's account checked, and
the password never logged."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import LONG_WINDOW, PASSWORD, register
from tests.podsync.conftest import AppLogin, app_password, basic, enrolled

SUBSCRIPTIONS = "/index.php/apps/gpoddersync/subscriptions"


def _refused(response: Any, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic realm=")


def test_no_credentials_get_a_basic_challenge(client: TestClient[Any]) -> None:
    _refused(client.get(SUBSCRIPTIONS))
    _refused(client.get("/api/2/devices/quelquun@example.org.json"))


def test_the_account_password_is_not_an_app_password(client: TestClient[Any]) -> None:
    learner = enrolled(client)
    _refused(client.get(SUBSCRIPTIONS, headers=basic(learner.email, PASSWORD)))
    _refused(client.get(SUBSCRIPTIONS, headers=learner.headers))  # nor is a bearer token


def test_an_app_password_works_only_with_its_own_account(client: TestClient[Any], app_login: AppLogin) -> None:
    assert client.get(SUBSCRIPTIONS, headers=app_login.basic).status_code == 200
    assert (
        client.get(SUBSCRIPTIONS, headers=basic(app_login.account.email.upper(), app_login.password)).status_code == 200
    )
    other = register(client)
    _refused(client.get(SUBSCRIPTIONS, headers=basic(other.email, app_login.password)))


def test_a_revoked_app_password_is_refused_at_once_in_every_process(
    synced: Settings, client: TestClient[Any], app_login: AppLogin
) -> None:
    with TestClient(app=create_app(synced)) as second_process:
        assert second_process.get(SUBSCRIPTIONS, headers=app_login.basic).status_code == 200
        (feed,) = client.get(SUBSCRIPTIONS, params={"since": 0}, headers=app_login.basic).json()["add"]
        revoked = client.delete(f"/api/v1/me/app-passwords/{app_login.password_id}", headers=app_login.account.headers)
        assert revoked.status_code == 204
        _refused(second_process.get(SUBSCRIPTIONS, headers=app_login.basic))
        _refused(client.get(SUBSCRIPTIONS, headers=app_login.basic))
        # its feed token went with it: the app's feeds answer 410 Gone
        path = feed[feed.index("/feeds/private/") :]
        assert second_process.get(path).status_code == 410
    listed = client.get("/api/v1/me/app-passwords", headers=app_login.account.headers).json()
    assert listed == []
    again = client.delete(f"/api/v1/me/app-passwords/{app_login.password_id}", headers=app_login.account.headers)
    assert again.status_code == 404


def test_another_learner_cannot_revoke_an_app_password(client: TestClient[Any], app_login: AppLogin) -> None:
    other = register(client)
    refused = client.delete(f"/api/v1/me/app-passwords/{app_login.password_id}", headers=other.headers)
    assert refused.status_code == 404
    assert client.get(SUBSCRIPTIONS, headers=app_login.basic).status_code == 200


def test_wrong_app_passwords_are_limited_per_account_and_client(synced: Settings) -> None:
    limited = synced.model_copy(
        update={"login_account_limit": 3, "login_ip_limit": 5, "login_window_seconds": LONG_WINDOW}
    )
    with TestClient(app=create_app(limited)) as client:
        login = app_password(client, enrolled(client))
        wrong = basic(login.account.email, "mauvais-" + secrets.token_urlsafe(16))
        for _ in range(3):
            _refused(client.get(SUBSCRIPTIONS, headers=wrong))
        refused = client.get(SUBSCRIPTIONS, headers=wrong)
        _refused(refused, 429)
        assert refused.headers["retry-after"].isdigit()
        assert int(refused.headers["retry-after"]) > 0
        # from that client, even the right password now waits: a guesser cannot go on guessing
        _refused(client.get(SUBSCRIPTIONS, headers=login.basic), 429)
        # no credentials at all (the first request of an HTTP client) counts as no failure
        other = app_password(client, enrolled(client))
        for _ in range(5):
            _refused(client.get(SUBSCRIPTIONS))
        assert client.get(SUBSCRIPTIONS, headers=other.basic).status_code == 200


def test_the_account_in_the_url_must_be_the_authenticated_one(client: TestClient[Any], app_login: AppLogin) -> None:
    other = register(client)
    assert client.get(f"/api/2/devices/{app_login.account.email}.json", headers=app_login.basic).status_code == 200
    for path in (
        f"/api/2/devices/{other.email}.json",
        f"/api/2/subscriptions/{other.email}/telephone.json",
        f"/api/2/episodes/{other.email}.json",
    ):
        _refused(client.get(path, headers=app_login.basic), 403)
    _refused(client.post(f"/api/2/auth/{other.email}/login.json", headers=app_login.basic), 403)


def test_the_app_password_never_reaches_the_logs(
    synced: Settings, client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login = app_password(client, enrolled(client))
    wrong = "faux-" + secrets.token_urlsafe(16)
    client.get(SUBSCRIPTIONS, headers=login.basic)
    client.get(SUBSCRIPTIONS, headers=basic(login.account.email, wrong))
    client.post("/api/2/episodes/" + login.account.email + ".json", headers=login.basic, content=b"{not json")
    body = json.dumps([{"podcast": "https://example.org/f.xml", "episode": login.password, "action": "boom"}])
    client.post("/index.php/apps/gpoddersync/episode_action/create", headers=login.basic, content=body.encode())
    logged = "\n".join(f"{record.getMessage()} {getattr(record, 'fields', '')}" for record in caplog.records)
    assert caplog.records, "nothing was logged: the capture is not working"
    for secret in (login.password, wrong):
        assert secret not in logged
        assert secret[:12] not in logged


def test_the_gpodder_session_cookie_ends_with_its_app_password(client: TestClient[Any], app_login: AppLogin) -> None:
    devices = f"/api/2/devices/{app_login.account.email}.json"
    signed_in = client.post(f"/api/2/auth/{app_login.account.email}/login.json", headers=app_login.basic)
    assert signed_in.status_code == 200
    cookie = signed_in.cookies.get("podsync_session")
    assert cookie
    assert app_login.password not in cookie
    assert client.get(devices).status_code == 200  # the cookie alone, as gPodder's client sends it
    forged = cookie[:-4] + ("0000" if not cookie.endswith("0000") else "1111")
    client.cookies.set("podsync_session", forged, path="/api/2")
    _refused(client.get(devices))
    client.cookies.set("podsync_session", cookie, path="/api/2")
    assert client.get(devices).status_code == 200
    revoked = client.delete(f"/api/v1/me/app-passwords/{app_login.password_id}", headers=app_login.account.headers)
    assert revoked.status_code == 204
    _refused(client.get(devices))
