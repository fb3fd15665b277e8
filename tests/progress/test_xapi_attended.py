"""xAPI export of webinar attendance: a learner who opened a session's room during it (« Rejoindre la séance ») has
one ``joined`` statement of the virtual-classroom profile, valid for Ralph's model of it, with a stable id; nobody
else sees it; a registration never used, or cancelled, gives none; the export's pages run on into this section."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from ralph.models.xapi.virtual_classroom.statements import VirtualClassroomJoined

from learning.config import Settings
from learning.lib.identity import session_id
from tests.helpers.accounts import Account
from tests.helpers.catalog import SERIES
from tests.helpers.progress import T0, enroll, send
from tests.web.conftest import sign_in

MINE = "/api/v1/me/xapi/statements"
JOINED = "http://activitystrea.ms/join"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Pages followed as fast as a test goes (the pace has its own tests in tests/quality)."""
    return settings.model_copy(update={"xapi_page_burst": 10_000})


@pytest.fixture(autouse=True)
def _catalog(course: dict[str, Any]) -> None:
    """The shipped catalog (``course`` syncs it): its webinar series, and the course of the paging test."""


def _live_session(client: TestClient[Any], admin: Account) -> str:
    """A published session with a room, started five minutes ago (registration is open until it ends)."""
    slug = f"en-direct-{uuid.uuid4().hex[:8]}"
    path = f"/api/v1/admin/webinars/{SERIES}/sessions"
    body = {"slug": slug, "title": "Une séance en direct", "join_url": "https://visio.example.org/salle",
            "scheduled_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}  # fmt: skip
    assert client.post(path, json=body, headers=admin.headers).status_code == 201
    published = client.put(f"{path}/{slug}/publication", json={"state": "published"}, headers=admin.headers)
    assert published.status_code == 200, published.text
    return slug


def _register(client: TestClient[Any], learner: Account, slug: str) -> None:
    body = {"series": SERIES, "session": slug}
    assert client.post("/api/v1/me/registrations", json=body, headers=learner.headers).status_code == 201


def _join(client: TestClient[Any], learner: Account, slug: str) -> None:
    """« Rejoindre la séance » on the session's page, signed in: to the room, and recorded as attending."""
    assert sign_in(client, learner.email).status_code == 303
    joined = client.get(f"/webinaires/{SERIES}/{slug}/rejoindre", follow_redirects=False)
    assert (joined.status_code, joined.headers["location"]) == (303, "https://visio.example.org/salle")
    client.cookies.clear()


def _attended_at(client: TestClient[Any], admin: Account, slug: str, learner: Account) -> datetime:
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/registrations"
    (row,) = [row for row in client.get(path, headers=admin.headers).json() if row["email"] == learner.email]
    return datetime.fromisoformat(row["attended_at"])


def _export(client: TestClient[Any], learner: Account) -> list[dict[str, Any]]:
    response = client.get(MINE, params={"limit": 500}, headers=learner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["more"] == ""
    statements: list[dict[str, Any]] = response.json()["statements"]
    return statements


def _joined(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [statement for statement in statements if statement["verb"]["id"] == JOINED]


def test_joining_a_session_during_it_gives_one_joined_statement_of_the_virtual_classroom_profile(
    client: TestClient[Any], learner: Account, admin: Account
) -> None:
    slug = _live_session(client, admin)
    _register(client, learner, slug)
    _join(client, learner, slug)
    _join(client, learner, slug)  # opening the room again is the same attendance
    (statement,) = _joined(_export(client, learner))
    parsed = VirtualClassroomJoined(**statement)  # the profile's statement, as Ralph models it
    assert str(parsed.object.id.root) == f"http://testserver.local/api/v1/webinars/{SERIES}/sessions/{slug}"
    assert parsed.timestamp == _attended_at(client, admin, slug, learner)
    learner_id = client.get("/api/v1/me", headers=learner.headers).json()["id"]
    assert statement["actor"]["account"] == {"homePage": "http://testserver.local", "name": learner_id}
    # The planned session's identity, the same for everyone who came (the profile's rule for `registration`).
    assert str(parsed.context.registration) == str(session_id(SERIES, slug))
    assert parsed.context.extensions.session_id == str(session_id(SERIES, slug))
    # Exported again, and in the account's export: the same statement, the same id.
    assert _joined(_export(client, learner)) == [statement]
    document = client.get("/api/v1/me/export", headers=learner.headers).json()
    assert _joined(document["xapi_statements"]) == [statement]


def test_each_learner_sees_only_the_sessions_they_came_to(
    client: TestClient[Any], learner: Account, other_learner: Account, admin: Account
) -> None:
    mine, theirs, both = _live_session(client, admin), _live_session(client, admin), _live_session(client, admin)
    for account, slugs in ((learner, (mine, both)), (other_learner, (theirs, both))):
        for slug in slugs:
            _register(client, account, slug)
            _join(client, account, slug)
    for account, slugs in ((learner, (mine, both)), (other_learner, (theirs, both))):
        found = {
            statement["object"]["id"].rsplit("/", 1)[1]: statement for statement in _joined(_export(client, account))
        }
        assert sorted(found) == sorted(slugs)
        assert {statement["actor"]["account"]["name"] for statement in found.values()} == {
            client.get("/api/v1/me", headers=account.headers).json()["id"]
        }
    # The same session, two learners: one registration (the session's), two statements with ids of their own.
    ids = {statement["id"] for account in (learner, other_learner) for statement in _joined(_export(client, account))}
    assert len(ids) == 4


def test_a_registration_never_used_or_cancelled_gives_no_statement(
    client: TestClient[Any], learner: Account, admin: Account
) -> None:
    never, cancelled, kept = _live_session(client, admin), _live_session(client, admin), _live_session(client, admin)
    for slug in (never, cancelled, kept):
        _register(client, learner, slug)
    for slug in (cancelled, kept):
        _join(client, learner, slug)
    assert client.delete(f"/api/v1/me/registrations/{SERIES}/{cancelled}", headers=learner.headers).status_code == 204
    assert [statement["object"]["id"].rsplit("/", 1)[1] for statement in _joined(_export(client, learner))] == [kept]


def test_the_pages_run_on_into_the_sessions_attended(
    client: TestClient[Any], learner: Account, admin: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": course["text"], "client_time": T0.isoformat()}
    assert send(client, learner, [done]).status_code == 200
    slugs = [_live_session(client, admin) for _ in range(3)]
    for slug in slugs:
        _register(client, learner, slug)
        _join(client, learner, slug)
    whole = _export(client, learner)
    # The lesson, the module, then the sessions by id: the total order's last section.
    verbs = [statement["verb"]["id"].rsplit("/", 1)[1] for statement in whole]
    assert verbs == ["completed", "progressed", "join", "join", "join"]
    by_id = sorted(slugs, key=lambda slug: session_id(SERIES, slug))
    assert [statement["object"]["id"].rsplit("/", 1)[1] for statement in whole[2:]] == by_id
    # A statement a page, following `more`: each page starts where the last ended, into and through the sessions.
    paged: list[dict[str, Any]] = []
    url = f"{MINE}?limit=1"
    while url:
        page = client.get(url, headers=learner.headers)
        assert page.status_code == 200, page.text
        assert len(page.json()["statements"]) == 1
        paged += page.json()["statements"]
        url = page.json()["more"]
        assert url == "" or url.startswith(f"{MINE}?")
    assert paged == whole
    # Pages of two: the second starts with the sessions, the third among them (a cursor of the new section).
    first = client.get(MINE, params={"limit": 2}, headers=learner.headers).json()
    second = client.get(first["more"], headers=learner.headers).json()
    third = client.get(second["more"], headers=learner.headers).json()
    assert (second["statements"], third["statements"], third["more"]) == (whole[2:4], whole[4:], "")
