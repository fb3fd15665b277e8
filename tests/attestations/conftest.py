"""A synced catalog, and a learner's client completing modules as a player and a reader would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account
from tests.helpers.catalog import sync
from tests.helpers.database import sql
from tests.helpers.progress import MODULE, T0, send

__all__ = ["MODULE", "complete", "enroll", "lessons_of", "published_modules"]


@pytest.fixture(autouse=True)
def _catalog(settings: Settings) -> None:
    sync(settings)


def lessons_of(client: TestClient[Any], account: Account, settings: Settings, slug: str) -> list[dict[str, Any]]:
    """The module's lessons as the learner sees them (the published ones), with their kind and duration."""
    response = client.get(f"/api/v1/me/progress/modules/{slug}", headers=account.headers)
    assert response.status_code == 200, response.text
    ids = [uuid.UUID(lesson["lesson_id"]) for lesson in response.json()["lessons"]]
    rows = sql(
        settings.require_database_url(),
        "SELECT id, kind::text AS kind, duration_seconds FROM lesson WHERE id = ANY($1::uuid[])",
        ids,
    )
    return sorted(rows, key=lambda row: ids.index(row["id"]))


def published_modules(client: TestClient[Any]) -> list[str]:
    response = client.get("/api/v1/modules", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


def enroll(client: TestClient[Any], account: Account, slug: str = MODULE) -> None:
    response = client.post("/api/v1/me/enrollments", json={"module": slug}, headers=account.headers)
    assert response.status_code in (200, 201), response.text


def complete(client: TestClient[Any], account: Account, settings: Settings, slug: str = MODULE) -> float:
    """Enroll, play every media lesson from start to end and mark every text lesson done; the seconds played."""
    enroll(client, account, slug)
    events: list[dict[str, Any]] = []
    played = 0.0
    for index, lesson in enumerate(lessons_of(client, account, settings, slug)):
        at = (T0 + timedelta(seconds=index)).isoformat()
        base = {"id": str(uuid.uuid4()), "lesson_id": str(lesson["id"]), "client_time": at}
        if lesson["kind"] == "text":
            events.append({**base, "type": "completed"})
        else:
            duration = float(lesson["duration_seconds"])
            events.append({**base, "type": "played", "from": 0, "to": duration})
            played += duration
    response = send(client, account, events)
    assert response.status_code == 200, response.text
    return played


def issued(client: TestClient[Any], learner: Account, settings: Settings, name: str) -> str:
    """Complete the module and issue its attestation in ``name``: the attestation's number."""
    complete(client, learner, settings)
    created = client.post("/api/v1/me/attestations", json={"name": name, "module": MODULE}, headers=learner.headers)
    assert created.status_code == 201, created.text
    number: str = created.json()["number"]
    return number
