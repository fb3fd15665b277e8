"""The public catalog API over the shipped content: shapes (checked against the OpenAPI document),
pagination, filters, media references, ETag / 304, and what the public must not see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.catalog import SERIES, sync, validate
from tests.helpers.database import make_settings, truncate_all
from tests.helpers.media import probed_seconds


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    """One synced catalog for the whole module: these tests only read."""
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("catalog") / "var")
    sync(settings)
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def openapi(client: TestClient[Any]) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/schema/openapi.json").json()
    return document


def test_modules_list_the_published_modules_in_order(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    response = client.get("/api/v1/modules")
    assert response.status_code == 200
    body = response.json()
    validate(openapi, "/api/v1/modules", "get", 200, body)
    assert body["total"] == 4  # the fifth is scheduled for 2027
    assert [item["position"] for item in body["items"]] == [1, 2, 3, 4]
    assert "evaluer-et-faire-durer-une-alliance" not in response.text
    assert all(3 <= item["lesson_count"] <= 6 for item in body["items"])


def test_pagination_reports_the_total(client: TestClient[Any]) -> None:
    page = client.get("/api/v1/modules?limit=3&offset=3").json()
    assert page["total"] == 4
    assert len(page["items"]) == 1
    assert (page["limit"], page["offset"]) == (3, 3)
    assert client.get("/api/v1/modules?limit=0").status_code == 400


def test_module_detail_lists_lessons_with_media(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    response = client.get("/api/v1/modules/dix-ans-de-recherche")
    body = response.json()
    validate(openapi, "/api/v1/modules/{slug}", "get", 200, body)
    assert [lesson["position"] for lesson in body["lessons"]] == [1, 2, 3, 4, 5, 6]
    video = next(lesson for lesson in body["lessons"] if lesson["kind"] == "video")
    media = video["media"]
    assert media["mime_type"] == "video/mp4"
    assert media["url"].startswith("http://testserver.local/media/")
    assert media["url"].endswith("/mooc-video-02.mp4")
    assert media["size_bytes"] == (Path(__file__).parents[2] / "media" / "mooc-video-02.mp4").stat().st_size
    assert media["duration_seconds"] == pytest.approx(probed_seconds("mooc-video-02.mp4"), abs=0.1)
    assert all(lesson["media"] is None for lesson in body["lessons"] if lesson["kind"] == "text")


def test_lesson_has_markdown_and_sanitised_html(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    path = "/api/v1/modules/comprendre-la-co-construction-territoriale/lessons/pourquoi-faire-alliance"
    body = client.get(path).json()
    validate(openapi, "/api/v1/modules/{slug}/lessons/{lesson_slug}", "get", 200, body)
    assert body["body_markdown"].lstrip().startswith("#")
    assert body["body_html"].startswith("<h1>")
    assert "<script" not in body["body_html"]
    assert body["completion_rule"] == "mark_done"
    assert body["previous_lesson"] is None
    assert body["next_lesson"] == "la-co-construction-en-quelques-mots"
    assert body["module"]["slug"] == "comprendre-la-co-construction-territoriale"


def test_audio_lessons_expose_their_mime_types(client: TestClient[Any]) -> None:
    types = set()
    for module in client.get("/api/v1/modules").json()["items"]:
        for lesson in client.get(f"/api/v1/modules/{module['slug']}").json()["lessons"]:
            if lesson["kind"] == "audio":
                types.add(lesson["media"]["mime_type"])
    assert types == {"audio/x-m4a"}


def test_webinars_list_the_2019_series(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    body = client.get("/api/v1/webinars").json()
    validate(openapi, "/api/v1/webinars", "get", 200, body)
    assert [item["slug"] for item in body["items"]] == [SERIES]
    assert body["items"][0]["year"] == 2019


def test_series_lists_its_twelve_sessions_in_order(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    body = client.get(f"/api/v1/webinars/{SERIES}?limit=100").json()
    validate(openapi, "/api/v1/webinars/{series_slug}", "get", 200, body)
    sessions = body["sessions"]["items"]
    assert body["sessions"]["total"] == 12
    assert [s["scheduled_at"][:7] for s in sessions] == [f"2019-{month:02d}" for month in range(1, 13)]
    assert all(s["speakers"] == [] and s["replay"]["mime_type"] == "video/mp4" for s in sessions)  # no one invented
    assert sessions[0]["scheduled_at"] == "2019-01-24T10:00:00Z"  # 11:00 in Paris


def test_sessions_filter_by_status_and_year(client: TestClient[Any]) -> None:
    replays = client.get(f"/api/v1/webinars/{SERIES}?status=replay_available&year=2019").json()["sessions"]
    assert replays["total"] == 12
    assert client.get(f"/api/v1/webinars/{SERIES}?year=2020").json()["sessions"]["total"] == 0
    assert client.get(f"/api/v1/webinars/{SERIES}?status=upcoming").json()["sessions"]["total"] == 0
    assert client.get(f"/api/v1/webinars/{SERIES}?status=bientot").status_code == 400
    page = client.get(f"/api/v1/webinars/{SERIES}?limit=5&offset=10").json()["sessions"]
    assert (page["total"], len(page["items"])) == (12, 2)


def test_session_detail_has_transcript_and_chapters(client: TestClient[Any], openapi: dict[str, Any]) -> None:
    series = client.get(f"/api/v1/webinars/{SERIES}").json()
    first = series["sessions"]["items"][0]["slug"]
    body = client.get(f"/api/v1/webinars/{SERIES}/sessions/{first}").json()
    validate(openapi, "/api/v1/webinars/{series_slug}/sessions/{session_slug}", "get", 200, body)
    assert body["transcript"]["mime_type"] == "text/vtt"
    assert body["chapters"]["mime_type"] == "application/json+chapters"
    assert body["replay"]["duration_seconds"] == pytest.approx(probed_seconds("webinar-2019-01.mp4"), abs=0.1)
    assert body["series"]["slug"] == SERIES
    assert "<h1>" in body["body_html"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/modules",
        "/api/v1/modules/dix-ans-de-recherche",
        "/api/v1/modules/dix-ans-de-recherche/lessons/chronologie-2006-2018",
        "/api/v1/webinars",
        f"/api/v1/webinars/{SERIES}?status=replay_available",
        "/api/v1/search?q=territoires",
    ],
)
def test_every_get_has_an_etag_and_answers_304_when_unchanged(client: TestClient[Any], path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert client.get(path).headers["etag"] == etag
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"autre"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/modules/evaluer-et-faire-durer-une-alliance",
        "/api/v1/modules/evaluer-et-faire-durer-une-alliance/lessons/le-temps-long-des-alliances",
        "/api/v1/modules/inconnu",
        "/api/v1/modules/dix-ans-de-recherche/lessons/inconnue",
        "/api/v1/webinars/inconnue",
        f"/api/v1/webinars/{SERIES}/sessions/inconnue",
    ],
)
def test_unpublished_or_unknown_content_is_404(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
