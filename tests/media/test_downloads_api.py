"""The admin download statistics over HTTP, and the recorder living in the app (``app.state.downloads``,
started and stopped by the lifespan)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.lib.clock import utcnow
from learning.media.downloads import DownloadRecorder
from tests.helpers.accounts import Account
from tests.helpers.catalog import validate
from tests.helpers.database import sql

BASE = "/api/v1/admin/downloads"
DAY = date(2026, 3, 2)


def add_asset(url: str, ref: str) -> uuid.UUID:
    asset_id = uuid.uuid4()
    sql(
        url,
        "INSERT INTO media_asset (id, ref, rendition, kind, status, name, extension, mime_type, size_bytes, "
        "duration_seconds, storage_key) VALUES ($1, $2, 'original', 'audio', 'ready', $2, 'mp3', 'audio/mpeg', "
        "4800000, 300, $3)",
        asset_id,
        ref,
        f"audio/{asset_id.hex}.mp3",
    )
    return asset_id


def add_downloads(url: str, asset_id: uuid.UUID, day: date, app: str, count: int = 1) -> None:
    for _ in range(count):
        sql(
            url,
            "INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day) "
            "VALUES ($1, $2, $3::date + interval '9 hours', $3::date + interval '9 hours', $4, $3)",
            asset_id,
            uuid.uuid4().hex + uuid.uuid4().hex,
            day,
            app,
        )


@pytest.fixture
def assets(settings: Settings) -> dict[str, uuid.UUID]:
    url = settings.require_database_url()
    ids = {ref: add_asset(url, ref) for ref in ("webinar-2019-01", "webinar-2019-02", "webinar-2019-03")}
    add_downloads(url, ids["webinar-2019-01"], DAY, "Apple Podcasts", 2)
    add_downloads(url, ids["webinar-2019-01"], DAY, "AntennaPod")
    add_downloads(url, ids["webinar-2019-01"], DAY + timedelta(days=2), "Apple Podcasts")
    add_downloads(url, ids["webinar-2019-01"], DAY - timedelta(days=400), "Web browser")
    add_downloads(url, ids["webinar-2019-02"], DAY + timedelta(days=1), "Spotify")
    return ids


def test_downloads_per_day_and_per_app(client: TestClient[Any], admin: Account, assets: dict[str, uuid.UUID]) -> None:
    asset_id = assets["webinar-2019-01"]
    response = client.get(
        f"{BASE}/assets/{asset_id}", params={"from": "2026-03-02", "to": "2026-03-04"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    validate(client.get("/schema/openapi.json").json(), BASE + "/assets/{asset_id}", "get", 200, body)
    assert body["asset_id"] == str(asset_id)
    assert (body["ref"], body["from"], body["to"], body["total"]) == ("webinar-2019-01", "2026-03-02", "2026-03-04", 4)
    assert body["days"] == [
        {"date": "2026-03-02", "count": 3},
        {"date": "2026-03-03", "count": 0},
        {"date": "2026-03-04", "count": 1},
    ]
    assert body["apps"] == [{"app": "Apple Podcasts", "count": 3}, {"app": "AntennaPod", "count": 1}]


def test_the_default_period_is_the_last_30_days(
    client: TestClient[Any], admin: Account, assets: dict[str, uuid.UUID]
) -> None:
    body = client.get(f"{BASE}/assets/{assets['webinar-2019-03']}", headers=admin.headers).json()
    today = utcnow().date()
    assert (body["from"], body["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert len(body["days"]) == 30
    assert body["total"] == 0
    assert body["apps"] == []


def test_totals_per_asset_are_paginated(client: TestClient[Any], admin: Account, assets: dict[str, uuid.UUID]) -> None:
    response = client.get(BASE, headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    validate(client.get("/schema/openapi.json").json(), BASE, "get", 200, body)
    assert body["total"] == 2  # assets never downloaded are not listed
    assert [(item["ref"], item["total"]) for item in body["items"]] == [("webinar-2019-01", 5), ("webinar-2019-02", 1)]
    assert body["items"][0]["asset_id"] == str(assets["webinar-2019-01"])
    assert body["items"][0]["name"] == "webinar-2019-01"

    first_page = client.get(BASE, params={"limit": 1, "offset": 1}, headers=admin.headers).json()
    assert (first_page["total"], [item["ref"] for item in first_page["items"]]) == (2, ["webinar-2019-02"])

    period = client.get(BASE, params={"from": "2026-03-03", "to": "2026-03-04"}, headers=admin.headers).json()
    assert [(item["ref"], item["total"]) for item in period["items"]] == [
        ("webinar-2019-01", 1),
        ("webinar-2019-02", 1),
    ]


def test_statistics_need_the_admin_role(
    client: TestClient[Any], learner: Account, assets: dict[str, uuid.UUID]
) -> None:
    for path in (BASE, f"{BASE}/assets/{assets['webinar-2019-01']}"):
        assert client.get(path).status_code == 401
        forbidden = client.get(path, headers=learner.headers)
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-05", "to": "2026-03-04"},  # the end before the start
        {"from": "2025-03-01", "to": "2026-03-02"},  # 367 days: 366 is the most
        {"from": "pas-une-date"},
        {"to": "2026-02-30"},
    ],
)
def test_a_bad_period_is_400(
    client: TestClient[Any], admin: Account, assets: dict[str, uuid.UUID], params: dict[str, str]
) -> None:
    for path in (BASE, f"{BASE}/assets/{assets['webinar-2019-01']}"):
        response = client.get(path, params=params, headers=admin.headers)
        assert response.status_code == 400, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_a_period_of_366_days_is_accepted(
    client: TestClient[Any], admin: Account, assets: dict[str, uuid.UUID]
) -> None:
    params = {"from": "2025-03-02", "to": "2026-03-02"}
    body = client.get(f"{BASE}/assets/{assets['webinar-2019-01']}", params=params, headers=admin.headers).json()
    assert len(body["days"]) == 366


def test_an_unknown_asset_is_404(client: TestClient[Any], admin: Account) -> None:
    response = client.get(f"{BASE}/assets/{uuid.uuid4()}", headers=admin.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_app_records_downloads_and_writes_them_at_shutdown(settings: Settings) -> None:
    url = settings.require_database_url()
    asset_id = add_asset(url, "webinar-2019-04")
    with TestClient(app=create_app(settings)) as client:
        recorder = client.app.state.downloads
        assert isinstance(recorder, DownloadRecorder)
        recorder.record(
            asset_id,
            size_bytes=4_800_000,
            duration_seconds=300.0,
            client_ip="198.51.100.9",
            user_agent="Podcasts/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0",
            method="GET",
            ranges=[(0, 4_799_999)],
            at=utcnow(),
        )
    assert [row["app"] for row in sql(url, "SELECT app FROM media_download WHERE asset_id = $1", asset_id)] == [
        "Apple Podcasts"
    ]


def test_the_recorder_status_shows_what_waits_and_what_was_refused(client: TestClient[Any], admin: Account) -> None:
    recorder: DownloadRecorder = client.app.state.downloads
    response = client.get(BASE + "/recorder", headers=admin.headers)
    assert response.status_code == 200, response.text
    validate(client.get("/schema/openapi.json").json(), BASE + "/recorder", "get", 200, response.json())
    status = recorder.status()
    assert response.json() == {"pending": status.pending, "max_buffered": 100_000, "dropped": status.dropped}
