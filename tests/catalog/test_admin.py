"""Admin edits of the catalog: authorization, validation, slug conflicts, publication changes that the
public API (and its cache, in every process) follows at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.catalog.sync import SlugTakenByAdmin
from learning.config import Settings
from learning.lib.identity import CONTENT_NAMESPACE
from tests.helpers.accounts import Account
from tests.helpers.catalog import SERIES, sync

MODULE = {"slug": "nouveau-module", "title": "Un nouveau module", "summary": "Pour essayer.", "position": 9}


@pytest.fixture
def synced(settings: Settings) -> Settings:
    sync(settings)
    return settings


def test_learner_and_anonymous_cannot_edit(client: TestClient[Any], learner: Account) -> None:
    assert client.post("/api/v1/admin/modules", json=MODULE).status_code == 401
    assert client.post("/api/v1/admin/modules", json=MODULE, headers=learner.headers).status_code == 403
    publication = {"state": "draft"}
    path = "/api/v1/admin/modules/dix-ans-de-recherche/publication"
    assert client.put(path, json=publication, headers=learner.headers).status_code == 403


def test_created_module_is_a_draft_until_published(client: TestClient[Any], admin: Account) -> None:
    created = client.post("/api/v1/admin/modules", json=MODULE, headers=admin.headers)
    assert created.status_code == 201
    assert created.json()["publication"] == "draft"
    assert client.get("/api/v1/modules/nouveau-module").status_code == 404
    published = client.put(
        "/api/v1/admin/modules/nouveau-module/publication", json={"state": "published"}, headers=admin.headers
    )
    assert published.json()["visible"] is True
    assert client.get("/api/v1/modules/nouveau-module").json()["title"] == "Un nouveau module"


def test_duplicate_slug_is_409(client: TestClient[Any], admin: Account) -> None:
    assert client.post("/api/v1/admin/modules", json=MODULE, headers=admin.headers).status_code == 201
    again = client.post("/api/v1/admin/modules", json=MODULE, headers=admin.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "Pas Un Slug", "title": "x"},
        {"slug": "ok", "title": ""},
        {"slug": "ok", "title": "x", "position": -1},
        {"slug": "ok", "title": "x", "tags": ["Majuscule"]},
        {"slug": "ok", "title": "x", "publication": "published"},
    ],
)
def test_invalid_module_is_422(client: TestClient[Any], admin: Account, body: dict[str, Any]) -> None:
    assert client.post("/api/v1/admin/modules", json=body, headers=admin.headers).status_code == 422


def test_unpublish_and_schedule_a_shipped_module(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    path = "/api/v1/admin/modules/dix-ans-de-recherche/publication"
    etag = client.get("/api/v1/modules").headers["etag"]
    assert client.get("/api/v1/modules/dix-ans-de-recherche").status_code == 200
    assert client.put(path, json={"state": "draft"}, headers=admin.headers).json()["visible"] is False
    assert client.get("/api/v1/modules/dix-ans-de-recherche").status_code == 404
    listing = client.get("/api/v1/modules", headers={"If-None-Match": etag})
    assert listing.status_code == 200  # the list changed, so its ETag did too
    assert listing.json()["total"] == 3
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    scheduled = client.put(path, json={"state": "scheduled", "publish_at": later}, headers=admin.headers).json()
    assert (scheduled["state"], scheduled["visible"]) == ("scheduled", False)
    assert client.get("/api/v1/modules/dix-ans-de-recherche").status_code == 404


def test_schedule_needs_a_date_with_offset(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    path = "/api/v1/admin/modules/dix-ans-de-recherche/publication"
    assert client.put(path, json={"state": "scheduled"}, headers=admin.headers).status_code == 422
    naive = client.put(path, json={"state": "scheduled", "publish_at": "2030-01-01T10:00:00"}, headers=admin.headers)
    assert naive.status_code == 422
    assert client.put(path, json={"state": "bientot"}, headers=admin.headers).status_code == 422


def test_lessons_are_created_updated_and_published(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    base = "/api/v1/admin/modules/dix-ans-de-recherche/lessons"
    lesson = {"slug": "complement", "title": "Un complément", "kind": "text", "position": 7, "body_markdown": "# Oui"}
    assert client.post(base, json=lesson, headers=admin.headers).status_code == 201
    assert client.post(base, json=lesson, headers=admin.headers).status_code == 409
    patched = client.patch(f"{base}/complement", json={"title": "Un complément utile"}, headers=admin.headers)
    assert patched.json()["title"] == "Un complément utile"
    public = "/api/v1/modules/dix-ans-de-recherche/lessons/complement"
    assert client.get(public).status_code == 404
    client.put(f"{base}/complement/publication", json={"state": "published"}, headers=admin.headers)
    body = client.get(public).json()
    assert body["body_html"] == "<h1>Oui</h1>\n"
    assert body["previous_lesson"] == "de-la-caravane-au-voyage-d-etudes"


def test_script_in_an_admin_body_is_not_rendered(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    base = "/api/v1/admin/modules/dix-ans-de-recherche/lessons"
    body = '<script>alert("x")</script> [lien](javascript:alert(1)) <img src=x onerror="alert(1)">'
    lesson = {"slug": "piege", "title": "Piège", "kind": "text", "position": 8, "body_markdown": body}
    client.post(base, json=lesson, headers=admin.headers)
    client.put(f"{base}/piege/publication", json={"state": "published"}, headers=admin.headers)
    html = client.get("/api/v1/modules/dix-ans-de-recherche/lessons/piege").json()["body_html"]
    assert "<script" not in html
    assert "javascript:" not in html.replace("[lien](javascript:alert(1))", "")
    assert "<img" not in html


def test_sessions_are_created_and_updated(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    base = f"/api/v1/admin/webinars/{SERIES}/sessions"
    session = {
        "slug": "2019-12-bonus",
        "title": "Séance bonus",
        "scheduled_at": "2019-12-20T11:00:00+01:00",
        "speakers": [{"name": "Une animatrice", "organisation": "Une association", "role": "host"}],
    }
    assert client.post(base, json=session, headers=admin.headers).status_code == 201
    assert client.post(base, json=session, headers=admin.headers).status_code == 409
    update = client.patch(f"{base}/2019-12-bonus", json={"status": "cancelled"}, headers=admin.headers)
    assert update.status_code == 200
    client.put(f"{base}/2019-12-bonus/publication", json={"state": "published"}, headers=admin.headers)
    detail = client.get(f"/api/v1/webinars/{SERIES}/sessions/2019-12-bonus").json()
    assert detail["status"] == "cancelled"
    assert detail["speakers"][0]["role"] == "host"
    assert client.get(f"/api/v1/webinars/{SERIES}").json()["sessions"]["total"] == 13


def test_unknown_targets_are_404(client: TestClient[Any], admin: Account) -> None:
    assert client.patch("/api/v1/admin/modules/absent", json={"title": "x"}, headers=admin.headers).status_code == 404
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/absente/publication"
    assert client.put(path, json={"state": "published"}, headers=admin.headers).status_code == 404


def test_content_sync_refuses_a_slug_taken_through_the_admin_api(
    client: TestClient[Any], admin: Account, settings: Settings
) -> None:
    module = {"slug": "dix-ans-de-recherche", "title": "Pris avant"}
    assert client.post("/api/v1/admin/modules", json=module, headers=admin.headers).status_code == 201
    with pytest.raises(SlugTakenByAdmin):
        sync(settings)


def test_a_change_made_through_one_process_reaches_the_cache_of_another(
    make_client: Any, admin: Account, synced: Settings
) -> None:
    # Two apps (own engine, loop and cache) stand for two processes behind a load balancer.
    reader = make_client()
    writer = make_client()
    before = reader.get("/api/v1/modules/dix-ans-de-recherche")
    assert before.status_code == 200
    etag = before.headers["etag"]
    assert reader.get("/api/v1/modules/dix-ans-de-recherche", headers={"If-None-Match": etag}).status_code == 304
    writer.patch("/api/v1/admin/modules/dix-ans-de-recherche", json={"title": "Titre revu"}, headers=admin.headers)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:  # NOTIFY travels asynchronously; poll, do not sleep a fixed time
        after = reader.get("/api/v1/modules/dix-ans-de-recherche", headers={"If-None-Match": etag})
        if after.status_code == 200:
            break
    assert after.status_code == 200
    assert after.json()["title"] == "Titre revu"
    assert after.headers["etag"] != etag


def test_scheduled_content_appears_at_its_time_without_restart(
    client: TestClient[Any], admin: Account, synced: Settings
) -> None:
    path = "/api/v1/admin/modules/dix-ans-de-recherche/publication"
    soon = datetime.now(UTC) + timedelta(seconds=2)
    client.put(path, json={"state": "scheduled", "publish_at": soon.isoformat()}, headers=admin.headers)
    assert (
        client.get("/api/v1/modules/dix-ans-de-recherche").status_code == 404
    )  # cached as absent? no: 404s are not cached
    assert client.get("/api/v1/modules").json()["total"] == 3  # this answer is cached until `soon`
    deadline = soon + timedelta(seconds=10)
    total = 3
    while datetime.now(UTC) < deadline and total == 3:
        total = client.get("/api/v1/modules").json()["total"]
    assert total == 4
    assert datetime.now(UTC) >= soon
    assert client.get("/api/v1/modules/dix-ans-de-recherche").status_code == 200


def test_rows_created_by_an_admin_get_ids_derived_from_their_slug_path(
    client: TestClient[Any], admin: Account, synced: Settings
) -> None:
    # As content rows do: the same slug path gives the same id on every installation (issue 19).
    module = client.post("/api/v1/admin/modules", json=MODULE, headers=admin.headers).json()
    assert module["id"] == str(uuid.uuid5(CONTENT_NAMESPACE, "module/nouveau-module"))
    lesson = {"slug": "complement", "title": "Un complément", "kind": "text", "position": 1}
    created = client.post("/api/v1/admin/modules/nouveau-module/lessons", json=lesson, headers=admin.headers).json()
    assert created["id"] == str(uuid.uuid5(CONTENT_NAMESPACE, "module/nouveau-module/lesson/complement"))
    session = {"slug": "2019-12-bonus", "title": "Séance bonus", "scheduled_at": "2019-12-20T11:00:00+01:00"}
    made = client.post(f"/api/v1/admin/webinars/{SERIES}/sessions", json=session, headers=admin.headers).json()
    assert made["id"] == str(uuid.uuid5(CONTENT_NAMESPACE, f"series/{SERIES}/session/2019-12-bonus"))
