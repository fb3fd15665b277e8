"""Sending progress events and reading progress, as a learner's client does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account
from tests.helpers.catalog import sync
from tests.helpers.database import sql

MODULE = "dix-ans-de-recherche"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def synced_course(settings: Settings) -> dict[str, Any]:
    """Sync the shipped catalog; the ids of a video lesson (and its duration) and a text lesson of ``MODULE``."""
    sync(settings)
    rows = sql(settings.require_database_url(),
               "SELECT l.id, l.kind, l.duration_seconds FROM lesson l JOIN module m ON m.id = l.module_id "
               "WHERE m.slug = $1 ORDER BY l.position", MODULE)  # fmt: skip
    video = next(r for r in rows if r["kind"] == "video")
    text = next(r for r in rows if r["kind"] == "text")
    return {"video": str(video["id"]), "duration": video["duration_seconds"], "text": str(text["id"])}


def enroll(client: TestClient[Any], account: Account) -> None:
    assert client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=account.headers).status_code == 201


def played(lesson: str, start: float, end: float, minute: int = 0, event_id: str | None = None) -> dict[str, Any]:
    return {"id": event_id or str(uuid.uuid4()), "type": "played", "lesson_id": lesson, "from": start, "to": end,
            "client_time": (T0 + timedelta(minutes=minute)).isoformat()}  # fmt: skip


def position(lesson: str, at: float, minute: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "position", "lesson_id": lesson, "position": at,
            "client_time": (T0 + timedelta(minutes=minute)).isoformat()}  # fmt: skip


def send(client: TestClient[Any], account: Account, events: list[dict[str, Any]]) -> httpx.Response:
    return client.post("/api/v1/me/progress/events", json={"events": events}, headers=account.headers)


def progress_of(client: TestClient[Any], account: Account, lesson: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/me/progress/lessons/{lesson}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
