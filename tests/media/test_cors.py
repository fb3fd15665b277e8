"""Browser-based podcast players on other origins can read public feeds, media, transcripts and chapters
(``Access-Control-Allow-Origin: *``, the range and validator headers exposed, a preflight for conditional and
range requests) — whether the edge or the routes answer. Private feeds and media, and the signed-in API, carry
no such header."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import podcastparser
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.accounts import register
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, truncate_all

MODULE = "dix-ans-de-recherche"
SESSION = "2019-01-lancement-du-cycle"  # ships with a replay, a transcript and chapters
ORIGIN = "https://player.example"
EXPOSED = {"content-range", "content-length", "etag", "accept-ranges", "last-modified"}
CORS_NAMES = {"access-control-allow-origin", "access-control-expose-headers", "access-control-allow-methods"}


@dataclass(frozen=True)
class Site:
    client: TestClient[Any]
    edge: bool
    documents: list[str]  # public feeds: RSS and Atom
    files: list[str]  # public media: a replay, a lesson's video, a transcript, chapters


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


@pytest.fixture(scope="module", params=[True, False], ids=["edge-on", "edge-off"])
def site(request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("cors") / "var", edge=request.param)
    sync(settings)
    with TestClient(app=create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while request.param and not client.app.state.edge.hub.active:  # only a listening edge keeps answers
            assert time.monotonic() < deadline, "the notification hub never connected"
            time.sleep(0.02)
        session = client.get(f"/api/v1/webinars/{SERIES}/sessions/{SESSION}").json()
        lessons = client.get(f"/api/v1/modules/{MODULE}").json()["lessons"]
        video = next(lesson["media"]["url"] for lesson in lessons if lesson.get("media"))
        files = [_path(url) for url in (session["replay"]["url"], session["transcript"]["url"],
                                        session["chapters"]["url"], video)]  # fmt: skip
        documents = [f"/feeds/webinars/{SERIES}.xml", f"/feeds/webinars/{SERIES}.atom", f"/feeds/modules/{MODULE}.xml"]
        yield Site(client, request.param, documents, files)


def _assert_cors(response: httpx.Response, label: str) -> None:
    assert response.headers.get("access-control-allow-origin") == "*", label
    exposed = {name.strip().lower() for name in response.headers.get("access-control-expose-headers", "").split(",")}
    assert exposed >= EXPOSED, label


def _assert_no_cors(response: httpx.Response, label: str) -> None:
    assert not CORS_NAMES & set(response.headers), f"{label}: {dict(response.headers)}"


def test_public_feeds_are_readable_from_any_origin(site: Site) -> None:
    client = site.client
    for path in site.documents:
        for method in ("GET", "HEAD"):
            first = client.request(method, path, headers={"Origin": ORIGIN})
            assert first.status_code == 200
            _assert_cors(first, f"{method} {path}")
            again = client.request(method, path, headers={"Origin": ORIGIN, "Accept-Encoding": "gzip"})
            _assert_cors(again, f"{method} {path} (gzip)")
            if site.edge:  # the stored answer carries them too
                assert again.headers.get("x-answered-by") == "edge", path
            unchanged = client.request(method, path, headers={"If-None-Match": first.headers["etag"]})
            assert unchanged.status_code == 304
            _assert_cors(unchanged, f"{method} {path} 304")


def test_public_media_transcripts_and_chapters_are_readable_from_any_origin(site: Site) -> None:
    client = site.client
    for path in site.files:
        whole = client.get(path, headers={"Origin": ORIGIN})
        assert whole.status_code == 200, path
        _assert_cors(whole, f"GET {path}")
        _assert_cors(client.head(path, headers={"Origin": ORIGIN}), f"HEAD {path}")
        partial = client.get(path, headers={"Origin": ORIGIN, "Range": "bytes=0-9"})
        assert partial.status_code == 206
        _assert_cors(partial, f"GET {path} 206")
        unchanged = client.get(path, headers={"If-None-Match": whole.headers["etag"], "Range": "bytes=0-9"})
        assert unchanged.status_code == 304
        _assert_cors(unchanged, f"GET {path} 304")
        unsatisfiable = client.get(path, headers={"Range": f"bytes={int(whole.headers['content-length'])}-"})
        assert unsatisfiable.status_code == 416
        _assert_cors(unsatisfiable, f"GET {path} 416")  # so a player can read Content-Range


@pytest.mark.parametrize("requested", ["range", "if-none-match", "if-modified-since, if-range, range"])
def test_preflight_allows_range_and_conditional_requests(site: Site, requested: str) -> None:
    for path in [*site.documents, *site.files]:
        asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": requested}
        response = site.client.options(path, headers=asked)
        assert response.status_code == 204, (path, response.text)
        assert response.headers["access-control-allow-origin"] == "*"
        methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
        assert methods == {"GET", "HEAD"}
        allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
        assert allowed >= {"range", "if-none-match", "if-modified-since", "if-range"}
        assert response.content == b""


def test_private_feeds_media_and_the_signed_in_api_carry_no_cors(site: Site) -> None:
    client = site.client
    learner = register(client)
    enrolled = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert enrolled.status_code == 201
    issued = client.post("/api/v1/me/feed-token", headers=learner.headers).json()
    feed_path = _path(issued["feeds"][0])
    feed = client.get(feed_path, headers={"Origin": ORIGIN})
    assert feed.status_code == 200
    _assert_no_cors(feed, f"GET {feed_path}")
    _assert_no_cors(client.head(feed_path, headers={"Origin": ORIGIN}), f"HEAD {feed_path}")
    enclosure = _path(podcastparser.parse(feed_path, io.BytesIO(feed.content))["episodes"][0]["enclosures"][0]["url"])
    for method in ("GET", "HEAD"):
        media = client.request(method, enclosure, headers={"Origin": ORIGIN, "Range": "bytes=0-9"})
        assert media.status_code in {200, 206}
        _assert_no_cors(media, f"{method} {enclosure}")
    for path in (feed_path, enclosure):
        preflight = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        _assert_no_cors(preflight, f"OPTIONS {path}")
    me = client.get("/api/v1/me", headers={**learner.headers, "Origin": ORIGIN})
    assert me.status_code == 200
    _assert_no_cors(me, "GET /api/v1/me")
    _assert_no_cors(client.get(f"/api/v1/modules/{MODULE}", headers={"Origin": ORIGIN}), "the catalog API")
