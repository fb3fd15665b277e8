"""JSON bodies are read as the OpenAPI document types them (issue 17): a number is not a date-time, a string
is not a number. Such a body is refused with the app's 422 problem and changes nothing; what the document
calls valid (a date-time or a UUID as a string, an integer written ``9.0``) is still accepted.

No body of the API has a boolean field; `tests/lib/test_json_bodies.py` checks ``"true"`` on a small app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.helpers.progress import MODULE, enroll, position, progress_of, send, synced_course

SESSION = "2019-12-bonus"


@pytest.fixture
def course(settings: Settings) -> dict[str, Any]:
    return synced_course(settings)


def _publication_paths(settings: Settings) -> dict[str, tuple[str, str]]:
    """Each Set…Publication path and the table and slug of its row."""
    url = settings.require_database_url()
    lesson = sql(url, "SELECT l.slug FROM lesson l JOIN module m ON m.id = l.module_id WHERE m.slug = $1 "
                      "ORDER BY l.position LIMIT 1", MODULE)[0]["slug"]  # fmt: skip
    session = sql(url, "SELECT s.slug FROM webinar_session s JOIN webinar_series w ON w.id = s.series_id "
                       "WHERE w.slug = $1 ORDER BY s.slug LIMIT 1", SERIES)[0]["slug"]  # fmt: skip
    return {
        "SetModulePublication": (f"/api/v1/admin/modules/{MODULE}/publication", f"module:{MODULE}"),
        "SetLessonPublication": (f"/api/v1/admin/modules/{MODULE}/lessons/{lesson}/publication", f"lesson:{lesson}"),
        "SetWebinarSessionPublication": (
            f"/api/v1/admin/webinars/{SERIES}/sessions/{session}/publication",
            f"webinar_session:{session}",
        ),
    }


def _publication_of(settings: Settings, row: str) -> tuple[Any, ...]:
    table, slug = row.split(":", 1)
    found = sql(settings.require_database_url(), f"SELECT publication, publish_at FROM {table} WHERE slug = $1", slug)  # noqa: S608 — the table is one of three names above
    return tuple(found[0])


def _refused(response: Any, key: str) -> None:
    """The app's answer to a body that does not match its schema: 422 problem+json naming the field."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["title"]) == (422, "Unprocessable content")
    assert any(error.get("key") == key and error.get("source") == "body" for error in problem["errors"]), problem


@pytest.mark.parametrize("operation", ["SetModulePublication", "SetLessonPublication", "SetWebinarSessionPublication"])
@pytest.mark.parametrize("publish_at", [0, 1_900_000_000, 1.5e9])
def test_a_number_for_publish_at_is_refused_and_changes_nothing(
    client: TestClient[Any], admin: Account, course: dict[str, Any], settings: Settings, operation: str, publish_at: Any
) -> None:
    path, row = _publication_paths(settings)[operation]
    before = _publication_of(settings, row)
    response = client.put(path, json={"state": "scheduled", "publish_at": publish_at}, headers=admin.headers)
    _refused(response, "publish_at")
    assert _publication_of(settings, row) == before


def test_publish_at_as_a_date_time_string_is_still_accepted(
    client: TestClient[Any], admin: Account, course: dict[str, Any], settings: Settings
) -> None:
    path, row = _publication_paths(settings)["SetModulePublication"]
    response = client.put(
        path, json={"state": "scheduled", "publish_at": "2100-01-01T00:00:00Z"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert _publication_of(settings, row) == ("scheduled", datetime(2100, 1, 1, tzinfo=UTC))


def test_a_number_for_scheduled_at_is_refused_on_create_and_update(
    client: TestClient[Any], admin: Account, course: dict[str, Any], settings: Settings
) -> None:
    base = f"/api/v1/admin/webinars/{SERIES}/sessions"
    session = {"slug": SESSION, "title": "Séance bonus", "scheduled_at": 1576836000}
    _refused(client.post(base, json=session, headers=admin.headers), "scheduled_at")
    assert not sql(settings.require_database_url(), "SELECT 1 FROM webinar_session WHERE slug = $1", SESSION)

    created = client.post(base, json=dict(session, scheduled_at="2019-12-20T11:00:00+01:00"), headers=admin.headers)
    assert created.status_code == 201, created.text
    _refused(client.patch(f"{base}/{SESSION}", json={"scheduled_at": 0}, headers=admin.headers), "scheduled_at")
    stored = sql(settings.require_database_url(), "SELECT scheduled_at FROM webinar_session WHERE slug = $1", SESSION)
    assert stored[0]["scheduled_at"] == datetime(2019, 12, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"slug": "nouveau-module", "title": "Un nouveau module", "position": "9"}, "position"),
        ({"slug": "nouveau-module", "title": 12}, "title"),
        ({"slug": "nouveau-module", "title": "Un nouveau module", "tags": "a"}, "tags"),
    ],
)
def test_a_value_of_another_json_type_is_refused_on_module_create(
    client: TestClient[Any], admin: Account, settings: Settings, body: dict[str, Any], key: str
) -> None:
    _refused(client.post("/api/v1/admin/modules", json=body, headers=admin.headers), key)
    assert not sql(settings.require_database_url(), "SELECT 1 FROM module WHERE slug = 'nouveau-module'")


def test_an_integer_written_with_a_fraction_of_zero_is_an_integer(
    client: TestClient[Any], admin: Account, settings: Settings
) -> None:
    # JSON Schema's "integer" is any number without a fractional part: 9.0 is one, 9.5 is not.
    body = {"slug": "nouveau-module", "title": "Un nouveau module", "position": 9.5}
    _refused(client.post("/api/v1/admin/modules", json=body, headers=admin.headers), "position")
    created = client.post("/api/v1/admin/modules", json=dict(body, position=9.0), headers=admin.headers)
    assert created.status_code == 201, created.text
    assert sql(settings.require_database_url(), "SELECT position FROM module WHERE slug = 'nouveau-module'")[0][0] == 9


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"position": "12"}, "events[0].position"),
        ({"client_time": 1_790_000_000}, "events[0].client_time"),
        ({"lesson_id": 7}, "events[0].lesson_id"),
    ],
)
def test_a_progress_event_with_a_value_of_another_json_type_is_refused_and_not_recorded(
    client: TestClient[Any],
    learner: Account,
    course: dict[str, Any],
    settings: Settings,
    change: dict[str, Any],
    key: str,
) -> None:
    enroll(client, learner)
    _refused(send(client, learner, [dict(position(course["video"], 12, 1), **change)]), key)
    assert not sql(settings.require_database_url(), "SELECT 1 FROM progress_event")
    assert progress_of(client, learner, course["video"])["position_seconds"] is None


def test_a_progress_event_with_ids_and_time_as_strings_and_an_integer_position_is_recorded(
    client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    event = {"id": str(uuid.uuid4()), "type": "position", "lesson_id": course["video"], "position": 12,
             "client_time": "2026-11-20T09:01:00Z"}  # fmt: skip
    response = send(client, learner, [event])
    assert response.status_code == 200, response.text
    assert progress_of(client, learner, course["video"])["position_seconds"] == 12.0


def test_a_string_for_a_string_field_of_another_shape_is_still_the_schema_s_422(
    client: TestClient[Any], learner: Account
) -> None:
    # Not a type error: the constraints of the document (here a pattern) still answer as before.
    response = client.post("/api/v1/me/enrollments", json={"module": "Pas Un Slug"}, headers=learner.headers)
    _refused(response, "module")
