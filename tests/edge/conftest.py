"""Two apps on one database: the edge on (as served) and off (every answer made by the routes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, truncate_all

MODULE = "dix-ans-de-recherche"


@dataclass(frozen=True)
class Pair:
    on: TestClient[Any]
    off: TestClient[Any]
    documents: list[str]  # public documents the edge may keep: catalog JSON and feeds
    media: str  # a video lesson's media URL (path)


def _wait_listening(client: TestClient[Any]) -> None:
    deadline = time.monotonic() + 10
    while not client.app.state.edge.hub.active:  # only a listening edge keeps answers
        assert time.monotonic() < deadline, "the notification hub never connected"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def pair(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("edge") / "var")
    sync(settings)
    with (
        TestClient(app=create_app(settings)) as on,
        TestClient(app=create_app(settings.model_copy(update={"edge": False}))) as off,
    ):
        _wait_listening(on)
        module = off.get(f"/api/v1/modules/{MODULE}").json()
        lesson = module["lessons"][0]["slug"]
        media: str = next(x["media"]["url"] for x in module["lessons"] if x.get("media") and x["kind"] == "video")
        session = off.get(f"/api/v1/webinars/{SERIES}").json()["sessions"]["items"][0]["slug"]
        documents = [
            "/api/v1/modules",
            f"/api/v1/modules/{MODULE}",
            f"/api/v1/modules/{MODULE}/lessons/{lesson}",
            "/api/v1/webinars",
            f"/api/v1/webinars/{SERIES}",
            f"/api/v1/webinars/{SERIES}/sessions/{session}",
            "/api/v1/search?q=territoires",
            "/api/v1/search?limit=5&q=%C3%89lus",
            f"/feeds/webinars/{SERIES}.xml",
            f"/feeds/webinars/{SERIES}.atom",
            f"/feeds/modules/{MODULE}.xml",
        ]
        media_path = media.removeprefix("http://testserver.local")
        for path in [*documents, media_path]:  # the routes answer once and hand their answers to the edge
            assert on.get(path, headers={"Accept-Encoding": "gzip"}).status_code == 200
        yield Pair(on, off, documents, media_path)
