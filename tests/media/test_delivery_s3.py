"""Media on S3: redirect mode hands out presigned URLs; an unreachable store gives 503, then recovers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import MediaDelivery, Settings
from tests.helpers.catalog import sync
from tests.helpers.database import REPOSITORY, make_settings, sql
from tests.helpers.s3 import MotoServer

AUDIO = REPOSITORY / "media" / "mooc-audio-03.m4a"


@pytest.fixture
def s3_app_settings(clean_database: str, tmp_path: Any, s3_server: MotoServer, s3_bucket: str) -> Settings:
    settings = make_settings(clean_database, tmp_path / "var", **s3_server.settings(s3_bucket))
    sync(settings)
    return settings


def _audio_path(settings: Settings) -> str:
    row = sql(settings.require_database_url(), "SELECT id FROM media_asset WHERE ref = 'mooc-audio-03.m4a'")[0]
    return f"/media/{row['id']}/mooc-audio-03.m4a"


@pytest.fixture
def redirect_client(s3_app_settings: Settings) -> Iterator[TestClient[Any]]:
    settings = s3_app_settings.model_copy(update={"media_delivery": MediaDelivery.REDIRECT, "presign_ttl_seconds": 120})
    with TestClient(app=create_app(settings)) as client:
        yield client


def test_redirect_mode_answers_302_to_a_presigned_url(
    redirect_client: TestClient[Any], s3_app_settings: Settings
) -> None:
    path = _audio_path(s3_app_settings)
    response = redirect_client.get(path, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["cache-control"] == "private, no-store"
    location = response.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert "X-Amz-Signature" in query
    assert query["response-content-type"] == ["audio/x-m4a"]
    # The store serves the bytes (moto here; MinIO in production).
    assert httpx.get(location).content == AUDIO.read_bytes()


def test_redirect_mode_still_404s_for_a_wrong_name(redirect_client: TestClient[Any], s3_app_settings: Settings) -> None:
    path = _audio_path(s3_app_settings).replace("mooc-audio-03.m4a", "autre.m4a")
    assert redirect_client.get(path, follow_redirects=False).status_code == 404


def test_store_outage_gives_503_with_retry_after_then_recovers(
    s3_app_settings: Settings, s3_server: MotoServer, s3_bucket: str
) -> None:
    path = _audio_path(s3_app_settings)
    with TestClient(app=create_app(s3_app_settings)) as client:
        assert client.get(path, headers={"Range": "bytes=0-99"}).status_code == 206
        s3_server.stop()
        try:
            for headers in ({"Range": "bytes=0-99"}, {}):
                response = client.get(path, headers=headers)
                assert response.status_code == 503
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) > 0
            assert client.head(path).status_code == 503
            assert client.get("/health/ready").json()["checks"]["storage"] != "ok"
        finally:
            s3_server.start()
        # moto keeps nothing across a restart: put the object back, as a recovered MinIO would have it.
        s3_server.client().make_bucket(s3_bucket)
        key = sql(s3_app_settings.require_database_url(), "SELECT storage_key FROM media_asset WHERE ref = $1",
                  "mooc-audio-03.m4a")[0]["storage_key"]  # fmt: skip
        s3_server.client().fput_object(s3_bucket, key, str(AUDIO))
        recovered = client.get(path, headers={"Range": "bytes=0-99"})
        assert recovered.status_code == 206
        assert recovered.content == AUDIO.read_bytes()[:100]


def test_redirect_mode_from_the_edge_answers_and_counts_like_the_route(s3_app_settings: Settings) -> None:
    path = _audio_path(s3_app_settings)
    settings = s3_app_settings.model_copy(update={"media_delivery": MediaDelivery.REDIRECT})
    agent = {"User-Agent": "AntennaPod/3.4.0"}
    with TestClient(app=create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while not client.app.state.edge.hub.active:  # the edge keeps the asset only while it listens
            assert time.monotonic() < deadline
            time.sleep(0.02)
        by_route = client.get(path, follow_redirects=False, headers=agent)
        by_edge = client.get(path, follow_redirects=False, headers=agent)
        head = client.head(path, follow_redirects=False, headers=agent)  # answered, never counted
    assert (by_route.status_code, by_edge.status_code, head.status_code) == (302, 302, 302)
    assert (by_route.headers.get("x-answered-by"), by_edge.headers.get("x-answered-by")) == (None, "edge")
    assert by_edge.headers["cache-control"] == by_route.headers["cache-control"] == "private, no-store"
    assert httpx.get(by_edge.headers["location"]).content == AUDIO.read_bytes()
    size = AUDIO.stat().st_size
    rows = sql(settings.require_database_url(), "SELECT range_start, range_end FROM media_request ORDER BY id")
    assert [(r["range_start"], r["range_end"]) for r in rows] == [(0, size - 1), (0, size - 1)]
