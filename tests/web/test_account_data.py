"""A learner's data, all of it, as one JSON document (API and « Mon compte »), and deleting the account with the
password given again: nothing of it stays."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD, Account, login, register
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.web.conftest import MODULE, VIDEO_LESSON, csrf_token, make_admin, sign_in


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(web_settings)) as found:
        yield found


def _active_learner(client: TestClient[Any], settings: Settings) -> tuple[Account, str]:
    """A learner enrolled in a module, half-way through a video, registered for a session to come."""
    learner = register(client, f"donnees-{uuid.uuid4().hex[:8]}@example.org")
    assert client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers).status_code == 201
    lesson = client.get(f"/api/v1/modules/{MODULE}/lessons/{VIDEO_LESSON}").json()["id"]
    now = datetime.now(UTC)
    events = [{"id": str(uuid.uuid4()), "type": "played", "lesson_id": lesson, "from": 0, "to": 12,
               "client_time": now.isoformat()}]  # fmt: skip
    assert (
        client.post("/api/v1/me/progress/events", json={"events": events}, headers=learner.headers).status_code == 200
    )
    admin = login(client, make_admin(settings))
    slug = f"export-{uuid.uuid4().hex[:8]}"
    body = {"slug": slug, "title": "Séance pour l’export", "scheduled_at": (now + timedelta(days=9)).isoformat()}
    client.post(f"/api/v1/admin/webinars/{SERIES}/sessions", json=body, headers=admin.headers)
    client.put(f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/publication", json={"state": "published"},
               headers=admin.headers)  # fmt: skip
    registered = client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug},
                             headers=learner.headers)  # fmt: skip
    assert registered.status_code == 201
    return learner, slug


def test_the_export_holds_everything_kept_about_the_learner(client: TestClient[Any], web_settings: Settings) -> None:
    learner, slug = _active_learner(client, web_settings)
    answer = client.get("/api/v1/me/export", headers=learner.headers)
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    data = answer.json()
    assert data["account"]["email"] == learner.email
    assert data["account"]["email_verified_at"] is None  # no confirmation link opened yet
    assert [item["module"] for item in data["enrollments"]] == [MODULE]
    (module,) = data["progress"]
    assert module["module"] == MODULE
    assert [(row["lesson"], row["watched_seconds"]) for row in module["lessons"]] == [(VIDEO_LESSON, 12.0)]
    assert [item["session"] for item in data["webinar_registrations"]] == [slug]
    # The xAPI statements of the 12 seconds played, the same as the API's own export gives.
    verbs = {statement["verb"]["id"] for statement in data["xapi_statements"]}
    assert "https://w3id.org/xapi/video/verbs/played" in verbs
    listed = client.get("/api/v1/me/xapi/statements", params={"limit": 500}, headers=learner.headers).json()
    assert [statement["id"] for statement in data["xapi_statements"]] == [item["id"] for item in listed["statements"]]
    # The page gives the same document to download.
    assert sign_in(client, learner.email).status_code == 303
    page = client.get("/compte/donnees")
    assert page.headers["content-type"] == "application/json"
    assert json.loads(page.content)["account"] == data["account"]


def test_deleting_the_account_asks_the_password_and_leaves_nothing(
    client: TestClient[Any], web_settings: Settings
) -> None:
    learner, _ = _active_learner(client, web_settings)
    url = web_settings.require_database_url()
    (user_id,) = sql(url, "SELECT id FROM user_account WHERE email = $1", learner.email)[0]
    wrong = client.post("/api/v1/me/deletion", json={"password": "pas-le-bon"}, headers=learner.headers)
    assert wrong.status_code == 401
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 200  # still there
    assert client.post("/api/v1/me/deletion", json={"password": PASSWORD}, headers=learner.headers).status_code == 204
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}).status_code == 401
    for table in ("enrollment", "lesson_progress", "progress_event", "session_registration"):
        assert sql(url, f"SELECT count(*) FROM {table} WHERE user_id = $1", user_id)[0][0] == 0, table  # noqa: S608


def test_the_account_page_deletes_after_the_password(client: TestClient[Any], web_settings: Settings) -> None:
    learner, _ = _active_learner(client, web_settings)
    assert sign_in(client, learner.email).status_code == 303
    assert 'href="/compte/supprimer"' in client.get("/compte").text
    form = client.get("/compte/supprimer").text
    assert "Télécharger d’abord mes données" in form
    wrong = client.post("/compte/supprimer", data={"password": "pas-le-bon", "_csrf_token": csrf_token(client)})
    assert wrong.status_code == 400
    assert "le compte n’est pas supprimé" in wrong.text.replace("\u202f", " ")
    done = client.post("/compte/supprimer", data={"password": PASSWORD, "_csrf_token": csrf_token(client)})
    assert done.status_code == 200
    assert "Votre compte est supprimé" in done.text
    assert client.get("/compte", follow_redirects=False).status_code == 303  # signed out
