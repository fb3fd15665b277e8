"""App passwords: shown once, stored hashed, listed without the secret, each with its own private-feed token
(not the learner's own, which can be rotated without breaking the apps); the « Applications de podcast » page
makes and revokes them without JavaScript."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
from litestar.testing import TestClient

from learning.accounts.auth import SESSION_COOKIE
from learning.config import Settings
from tests.helpers.database import sql
from tests.podsync.conftest import AppLogin, basic, enrolled

SUBSCRIPTIONS = "/index.php/apps/gpoddersync/subscriptions"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def test_an_app_password_is_shown_once_and_kept_hashed(
    synced: Settings, client: TestClient[Any], app_login: AppLogin
) -> None:
    listed = client.get("/api/v1/me/app-passwords", headers=app_login.account.headers)
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["name"] == "AntennaPod"
    assert row["last_used_at"] is None
    assert app_login.password not in listed.text
    assert app_login.password.startswith(row["hint"])
    stored = sql(synced.require_database_url(), "SELECT secret_hash FROM app_password WHERE id = $1::uuid", row["id"])
    assert stored[0]["secret_hash"] == hashlib.sha256(app_login.password.encode()).hexdigest()
    assert client.get(SUBSCRIPTIONS, headers=app_login.basic).status_code == 200
    (used,) = client.get("/api/v1/me/app-passwords", headers=app_login.account.headers).json()
    assert used["last_used_at"] is not None


def test_an_app_password_needs_a_name(client: TestClient[Any]) -> None:
    learner = enrolled(client)
    for name in ("", "   "):
        refused = client.post("/api/v1/me/app-passwords", json={"name": name}, headers=learner.headers)
        assert refused.status_code in (400, 422), refused.text


def test_the_learners_own_feed_token_is_apart_from_the_apps(client: TestClient[Any], app_login: AppLogin) -> None:
    headers = app_login.account.headers
    assert client.get("/api/v1/me/feed-token", headers=headers).status_code == 404  # the app's is not theirs
    (feed,) = client.get(SUBSCRIPTIONS, params={"since": 0}, headers=app_login.basic).json()["add"]
    path = httpx.URL(feed).raw_path.decode()
    assert client.post("/api/v1/me/feed-token", headers=headers).status_code == 201
    assert client.post("/api/v1/me/feed-token", headers=headers).status_code == 201  # rotated
    assert client.delete("/api/v1/me/feed-token", headers=headers).status_code == 204
    assert client.get(path).status_code == 200  # the app's feed still answers


def test_the_page_makes_shows_once_and_revokes_an_app_password(client: TestClient[Any]) -> None:
    learner = enrolled(client)
    client.cookies.set(SESSION_COOKIE, learner.token)
    try:
        shown = client.get("/compte/applications")
        assert shown.status_code == 200
        assert "Aucune application" in shown.text
        made = client.post(
            "/compte/applications", data={"_csrf_token": _CSRF.findall(shown.text)[-1], "name": "gPodder"}
        )
        assert made.status_code == 200, made.text
        (password,) = re.findall(r'id="app-password" type="text" readonly value="([^"]+)"', made.text)
        assert learner.email in made.text
        assert client.get(SUBSCRIPTIONS, headers=basic(learner.email, password)).status_code == 200
        again = client.get("/compte/applications")
        assert password not in again.text  # shown once
        (revoke,) = re.findall(r'action="(/compte/applications/[0-9a-f-]+/revocation)"', again.text)
        revoked = client.post(revoke, data={"_csrf_token": _CSRF.findall(again.text)[-1]})
        assert revoked.status_code == 200
        assert "Aucune application" in revoked.text
        assert client.post(revoke, data={"_csrf_token": _CSRF.findall(again.text)[-1]}).status_code == 404
        without_csrf = client.post("/compte/applications", data={"name": "Sans jeton"})
        assert without_csrf.status_code == 403
        assert "/compte/applications" in client.get("/compte").text  # « Mon compte » links to the page
    finally:
        client.cookies.delete(SESSION_COOKIE)
    assert client.get(SUBSCRIPTIONS, headers=basic(learner.email, password)).status_code == 401
