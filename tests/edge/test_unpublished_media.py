"""The media of a lesson that is not published (a draft, or scheduled for later) answer 404 at their public
URL — the same answer as an unknown asset — whether the edge or the route answers, even when the edge held the
file before; once the lesson is published they answer again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from learning.admin.commands import create_admin
from tests.edge.conftest import MODULE, Pair
from tests.helpers.accounts import PASSWORD, Account, login
from tests.helpers.database import sql

PROBES: list[tuple[str, dict[str, str]]] = [
    ("GET", {}),
    ("HEAD", {}),
    ("GET", {"Range": "bytes=0-1"}),  # what the edge answers from memory
    ("GET", {"Range": "bytes=100-199"}),
    ("GET", {"If-None-Match": "*"}),  # a 304 the edge would answer
]


def _admin(pair: Pair) -> Account:
    settings = pair.on.app.state.settings
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    asyncio.run(create_admin(settings, email=email, password=PASSWORD))
    return login(pair.on, email)


def _lesson_of(pair: Pair) -> str:
    lessons = pair.off.get(f"/api/v1/modules/{MODULE}").json()["lessons"]
    return next(x["slug"] for x in lessons if x.get("media") and x["media"]["url"].endswith(pair.media))


def _paths(pair: Pair) -> list[str]:
    """The lesson's media and its audio rendition (what its feed encloses)."""
    asset_id = uuid.UUID(pair.media.split("/")[2])
    url = pair.on.app.state.settings.require_database_url()
    query = "SELECT id, name, extension FROM media_asset WHERE parent_id = $1 AND rendition = 'audio'"
    audio = sql(url, query, asset_id)
    return [pair.media, *(f"/media/{row['id']}/{row['name']}.{row['extension']}" for row in audio)]


def _publish(pair: Pair, admin: Account, lesson: str, change: dict[str, Any]) -> None:
    path = f"/api/v1/admin/modules/{MODULE}/lessons/{lesson}/publication"
    response = pair.on.put(path, json=change, headers=admin.headers)
    assert response.status_code == 200, response.text


def _everywhere(pair: Pair, path: str, check: Callable[[httpx.Response], bool]) -> bool:
    return all(check(client.request(m, path, headers=h)) for client in (pair.on, pair.off) for m, h in PROBES)


def _eventually(pair: Pair, paths: list[str], check: Callable[[httpx.Response], bool]) -> None:
    # The other app hears of the change through NOTIFY: poll with a deadline.
    deadline = time.monotonic() + 10
    while not all(_everywhere(pair, path, check) for path in paths):
        assert time.monotonic() < deadline, "the change was never seen by both apps"
        time.sleep(0.05)


def _not_found(response: httpx.Response) -> bool:
    return response.status_code == 404 and response.headers.get("x-answered-by") is None


def _served(response: httpx.Response) -> bool:
    return response.status_code in {200, 206, 304}


def _assert_like_an_unknown_asset(client: TestClient[Any], path: str) -> None:
    unknown = "/media/" + str(uuid.uuid4()) + "/" + path.rsplit("/", 1)[1]
    hidden, missing = client.get(path), client.get(unknown)
    assert (hidden.status_code, hidden.headers["content-type"]) == (missing.status_code, "application/problem+json")
    assert hidden.json() == missing.json()
    assert "immutable" not in hidden.headers.get("cache-control", "")


def test_media_of_a_draft_or_scheduled_lesson_are_not_served(pair: Pair) -> None:
    admin, lesson, paths = _admin(pair), _lesson_of(pair), _paths(pair)
    assert len(paths) == 2, "the video lesson has its audio rendition"
    # The edge holds the published media (a small range comes from memory)…
    _eventually(pair, paths, _served)
    deadline = time.monotonic() + 10
    while pair.on.get(paths[0], headers={"Range": "bytes=0-1"}).headers.get("x-answered-by") != "edge":
        assert time.monotonic() < deadline, "the edge never kept the media"
        time.sleep(0.05)
    try:
        # …and forgets it when the lesson goes back to draft: 404 from both paths, as for an unknown asset.
        _publish(pair, admin, lesson, {"state": "draft"})
        _eventually(pair, paths, _not_found)
        for path in paths:
            _assert_like_an_unknown_asset(pair.on, path)
            _assert_like_an_unknown_asset(pair.off, path)
        # Scheduled for later: still hidden.
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        _publish(pair, admin, lesson, {"state": "scheduled", "publish_at": later})
        _eventually(pair, paths, _not_found)
    finally:
        # Published: served again, from both paths.
        _publish(pair, admin, lesson, {"state": "published"})
    _eventually(pair, paths, _served)
    response = pair.off.get(paths[0], headers={"Range": "bytes=0-9"})
    assert (response.status_code, len(response.content)) == (206, 10)


def test_a_scheduled_lesson_media_appear_when_due(pair: Pair) -> None:
    admin, lesson, paths = _admin(pair), _lesson_of(pair), _paths(pair)
    soon = datetime.now(UTC) + timedelta(seconds=2)
    try:
        _publish(pair, admin, lesson, {"state": "scheduled", "publish_at": soon.isoformat()})
        if datetime.now(UTC) < soon - timedelta(seconds=1):  # a slow machine may already be past it
            assert pair.on.get(paths[0]).status_code == 404  # this app committed it: it knows at once
        _eventually(pair, paths, _served)  # no restart, no cron: the publication time is enough
    finally:
        _publish(pair, admin, lesson, {"state": "published"})
