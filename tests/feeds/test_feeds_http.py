"""The feeds over HTTP against the synced content: real parsers (gPodder's podcastparser, feedparser)
compared with the database, enclosures checked with HEAD, conditional GET, private feeds' lifecycle."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import podcastparser
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.catalog.podcast import podcast_guid
from learning.config import Settings
from tests.helpers.accounts import Account, register
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, sql, truncate_all

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
SERIES_FEED = f"/feeds/webinars/{SERIES}.xml"
MODULE = "dix-ans-de-recherche"
MODULE_FEED = f"/feeds/modules/{MODULE}.xml"


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("feeds") / "var")
    sync(settings)
    return settings


@pytest.fixture
def client(synced: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(synced)) as test_client:
        yield test_client


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _sessions(settings: Settings) -> list[Any]:
    return sql(
        settings.require_database_url(),
        "SELECT s.id, s.title, s.scheduled_at, a.size_bytes, a.mime_type, a.duration_seconds, a.id AS audio_id, "
        "v.id AS video_id, v.size_bytes AS video_size "
        "FROM webinar_session s JOIN webinar_series w ON w.id = s.series_id "
        "JOIN media_asset v ON v.id = s.replay_id JOIN media_asset a ON a.parent_id = v.id AND a.rendition = 'audio' "
        "WHERE w.slug = $1 ORDER BY s.scheduled_at DESC",
        SERIES,
    )


def test_the_series_feed_parsed_by_podcast_apps_matches_the_database(client: TestClient[Any], synced: Settings) -> None:
    response = client.get(SERIES_FEED)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    rows = _sessions(synced)
    assert len(rows) == 12
    parsed = podcastparser.parse(SERIES_FEED, io.BytesIO(response.content))
    # podcastparser lists a serial podcast oldest first; the database rows are newest first.
    episodes = sorted(parsed["episodes"], key=lambda episode: episode["published"], reverse=True)
    assert [e["guid"] for e in episodes] == [str(row["id"]) for row in rows]
    assert [e["title"] for e in episodes] == [row["title"] for row in rows]
    for episode, row in zip(episodes, rows, strict=True):
        (enclosure,) = episode["enclosures"]
        assert enclosure["file_size"] == row["size_bytes"]
        assert enclosure["mime_type"] == row["mime_type"] == "audio/x-m4a"  # audio first
        assert enclosure["url"].endswith(".m4a")
        assert episode["total_time"] == round(row["duration_seconds"])
        assert episode["published"] == int(row["scheduled_at"].timestamp())
        head = client.head(_path(enclosure["url"]))  # the length an app will see
        assert head.status_code == 200
        assert int(head.headers["content-length"]) == row["size_bytes"]
    assert parsed["title"].startswith("L’innovation territoriale en actions !")
    assert parsed["type"] == "serial"

    lenient = feedparser.parse(response.content)
    assert not lenient.bozo
    assert [entry.id for entry in lenient.entries] == [str(row["id"]) for row in rows]
    assert [int(entry.enclosures[0]["length"]) for entry in lenient.entries] == [row["size_bytes"] for row in rows]


def test_the_series_feed_has_what_apple_and_podcasting_2_0_require(client: TestClient[Any], synced: Settings) -> None:
    root = ET.fromstring(client.get(SERIES_FEED).content)
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("language") == "fr"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("itunes:type", namespaces=NS) == "serial"
    assert channel.findtext("itunes:complete", namespaces=NS) == "Yes"
    assert channel.find("itunes:category", NS).get("text") == "Government"  # type: ignore[union-attr]
    image = channel.find("itunes:image", NS).get("href")  # type: ignore[union-attr]
    assert image is not None
    assert image.endswith(".jpg")
    assert client.head(_path(image)).status_code == 200
    self_link = channel.find("atom:link", NS)
    assert self_link is not None
    assert self_link.get("rel") == "self"
    assert self_link.get("href", "").endswith(SERIES_FEED)
    guid = channel.findtext("podcast:guid", namespaces=NS)
    assert guid == str(podcast_guid(f"{synced.base_url}{SERIES_FEED}"))
    locked = channel.find("podcast:locked", NS)
    assert locked is not None
    assert locked.text == "yes"
    assert locked.get("owner") is None
    assert len(channel.findtext("description", default="").encode()) <= 4000
    items = channel.findall("item")
    january = items[-1]
    assert january.findtext("itunes:episode", namespaces=NS) == "1"
    assert january.find("podcast:transcript", NS).get("type") == "text/vtt"  # type: ignore[union-attr]
    assert january.find("podcast:chapters", NS).get("type") == "application/json+chapters"  # type: ignore[union-attr]
    assert january.findall("podcast:person", NS) == []  # the reconstituted programme names no speaker
    video = january.find("podcast:alternateEnclosure", NS)
    assert video is not None
    assert video.get("type") == "video/mp4"
    source = video.find("podcast:source", NS)
    assert source is not None
    assert int(client.head(_path(source.get("uri", ""))).headers["content-length"]) == int(video.get("length", "0"))
    for item in items:
        parsedate_to_datetime(item.findtext("pubDate", default=""))  # RFC 2822


def test_atom_variants_list_the_same_episodes(client: TestClient[Any]) -> None:
    rss = feedparser.parse(client.get(SERIES_FEED).content)
    response = client.get(f"/feeds/webinars/{SERIES}.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    atom = feedparser.parse(response.content)
    assert atom.version == "atom10"
    # Atom ids are IRIs: the same guid as a urn:uuid.
    assert [e.id for e in atom.entries] == [f"urn:uuid:{e.id}" for e in rss.entries]
    module = feedparser.parse(client.get(f"/feeds/modules/{MODULE}.atom").content)
    assert module.entries
    assert all(e.enclosures for e in module.entries)


def test_a_module_feed_is_a_course_of_its_media_lessons(client: TestClient[Any], synced: Settings) -> None:
    response = client.get(MODULE_FEED)
    root = ET.fromstring(response.content)
    assert root.findtext("channel/podcast:medium", namespaces=NS) == "course"
    lessons = sql(
        synced.require_database_url(),
        "SELECT l.id FROM lesson l JOIN module m ON m.id = l.module_id WHERE m.slug = $1 AND l.media_id IS NOT NULL "
        "AND l.publication = 'published' ORDER BY l.position DESC",
        MODULE,
    )
    parsed = podcastparser.parse(MODULE_FEED, io.BytesIO(response.content))
    assert sorted(e["guid"] for e in parsed["episodes"]) == sorted(str(row["id"]) for row in lessons)
    for episode in parsed["episodes"]:
        enclosure = episode["enclosures"][0]
        assert int(client.head(_path(enclosure["url"])).headers["content-length"]) == enclosure["file_size"]


def test_unchanged_feeds_answer_304_and_support_head(client: TestClient[Any]) -> None:
    first = client.get(SERIES_FEED)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, max-age=300"
    assert client.get(SERIES_FEED, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(SERIES_FEED, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(SERIES_FEED, headers={"If-None-Match": '"other"'}).status_code == 200
    head = client.head(SERIES_FEED)
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    assert head.content == b""
    assert client.get(SERIES_FEED).content == first.content  # cached or rebuilt, the same bytes


def test_a_new_app_process_gives_the_same_etag_before_building_anything(synced: Settings) -> None:
    with TestClient(app=create_app(synced)) as first:
        etag = first.get(SERIES_FEED).headers["etag"]
    with TestClient(app=create_app(synced)) as second:  # a cold cache: the version, not the render time
        assert second.get(SERIES_FEED, headers={"If-None-Match": etag}).status_code == 304


def _episodes(feed: bytes) -> list[bytes]:
    root = ET.fromstring(feed)
    return [ET.tostring(item) for item in root.iter("item")]


def _etag_after_change(client: TestClient[Any], before: str) -> str:
    deadline = time.monotonic() + 10  # NOTIFY empties the cache a moment after the commit
    while (etag := client.get(SERIES_FEED).headers["etag"]) == before:
        assert time.monotonic() < deadline, "the feed did not change"
        time.sleep(0.02)
    return etag


def test_a_replay_becoming_ready_turns_a_live_item_into_an_episode_and_changes_the_etag(
    client: TestClient[Any], synced: Settings
) -> None:
    url = synced.require_database_url()
    (row,) = sql(url, "SELECT id, replay_id FROM webinar_session WHERE slug = '2019-12-bilan-et-perspectives'")
    first = client.get(SERIES_FEED)
    before = first.headers["etag"]
    sql(url, "UPDATE webinar_session SET replay_id = NULL WHERE id = $1", row["id"])
    try:
        waiting = _etag_after_change(client, before)
        channel = ET.fromstring(client.get(SERIES_FEED).content).find("channel")
        assert channel is not None
        assert str(row["id"]) not in [item.findtext("guid") for item in channel.findall("item")]
        (live,) = channel.findall("podcast:liveItem", NS)
        assert live.get("status") == "ended"
        assert live.findtext("guid") == str(row["id"])
        assert client.get(SERIES_FEED).headers["etag"] == waiting  # no change, no new ETag
    finally:
        sql(url, "UPDATE webinar_session SET replay_id = $2 WHERE id = $1", row["id"], row["replay_id"])
    _etag_after_change(client, waiting)
    again = client.get(SERIES_FEED)
    # The same episodes as before, but not the same version: Last-Modified and lastBuildDate moved past the
    # interlude's, or a client that fetched it and sends only If-Modified-Since would be told 304 (issue 19).
    assert again.headers["etag"] not in {before, waiting}
    assert parsedate_to_datetime(again.headers["last-modified"]) > parsedate_to_datetime(first.headers["last-modified"])
    assert _episodes(again.content) == _episodes(first.content)
    channel = ET.fromstring(again.content).find("channel")
    assert channel is not None
    assert not channel.findall("podcast:liveItem", NS)
    assert channel.findall("item")[0].findtext("guid") == str(row["id"])


def test_unknown_feeds_are_404_problems(client: TestClient[Any]) -> None:
    for path in ["/feeds/modules/inconnu.xml", f"/feeds/webinars/{SERIES}.json", "/feeds/webinars/.xml"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


# --- private feeds ------------------------------------------------------------------------------


def _enroll(client: TestClient[Any], learner: Account) -> None:
    response = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert response.status_code in (200, 201)


def test_private_feed_lifecycle_create_use_rotate_revoke(client: TestClient[Any]) -> None:
    learner = register(client)
    _enroll(client, learner)
    assert client.get("/api/v1/me/feed-token", headers=learner.headers).status_code == 404
    issued = client.post("/api/v1/me/feed-token", headers=learner.headers)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert len(token) >= 43  # 256 random bits, URL-safe base64
    (feed_url,) = issued.json()["feeds"]
    assert feed_url.endswith(f"/feeds/private/{token}/modules/{MODULE}.xml")
    assert client.get("/api/v1/me/feed-token", headers=learner.headers).json()["token"] is None

    feed = client.get(_path(feed_url))  # no Authorization header: the token is the credential
    assert feed.status_code == 200
    assert feed.headers["cache-control"].startswith("private")
    root = ET.fromstring(feed.content)
    assert root.findtext("channel/itunes:block", namespaces=NS) == "Yes"
    parsed = podcastparser.parse(feed_url, io.BytesIO(feed.content))
    for episode in parsed["episodes"]:
        enclosure = episode["enclosures"][0]
        assert f"/feeds/private/{token}/media/" in enclosure["url"]
        media = client.get(_path(enclosure["url"]), headers={"Range": "bytes=0-99"})
        assert media.status_code == 206
        assert len(media.content) == 100
        assert int(client.head(_path(enclosure["url"])).headers["content-length"]) == enclosure["file_size"]
    assert client.get(_path(feed_url), headers={"If-None-Match": feed.headers["etag"]}).status_code == 304

    rotated = client.post("/api/v1/me/feed-token", headers=learner.headers).json()["token"]
    assert rotated != token
    assert client.get(_path(feed_url)).status_code == 410  # the old token stopped working: apps stop asking
    new_url = _path(feed_url).replace(token, rotated)
    assert client.get(new_url).status_code == 200
    assert client.delete("/api/v1/me/feed-token", headers=learner.headers).status_code == 204
    assert client.get(new_url).status_code == 410
    media_url = _path(parsed["episodes"][0]["enclosures"][0]["url"]).replace(token, rotated)
    assert client.get(media_url).status_code == 410


def test_private_feeds_only_cover_the_learners_enrolled_modules(client: TestClient[Any]) -> None:
    learner, other = register(client), register(client)
    _enroll(client, learner)
    token = client.post("/api/v1/me/feed-token", headers=learner.headers).json()["token"]
    assert client.get(f"/feeds/private/{token}/modules/passer-a-l-action.xml").status_code == 404
    other_token = client.post("/api/v1/me/feed-token", headers=other.headers).json()
    assert other_token["feeds"] == []  # not enrolled anywhere
    assert client.get(f"/feeds/private/{other_token['token']}/modules/{MODULE}.xml").status_code == 404
    assert client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=learner.headers).status_code == 204
    assert client.get(f"/feeds/private/{token}/modules/{MODULE}.xml").status_code == 404
    for garbage in ["x", "a" * 300, "%00", "..%2F..%2Fetc"]:
        assert client.get(f"/feeds/private/{garbage}/modules/{MODULE}.xml").status_code == 404


def test_the_feed_token_api_needs_a_signed_in_learner(client: TestClient[Any]) -> None:
    assert client.post("/api/v1/me/feed-token").status_code == 401
    assert client.get("/api/v1/me/feed-token").status_code == 401
    assert client.delete("/api/v1/me/feed-token").status_code == 401


def test_apps_accepting_gzip_get_a_precompressed_feed_with_its_own_etag(client: TestClient[Any]) -> None:
    plain = client.get(SERIES_FEED, headers={"Accept-Encoding": "identity"})
    packed = client.get(SERIES_FEED, headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # decoded by the client: the same feed
    assert int(packed.headers["content-length"]) * 3 < len(plain.content)
    assert packed.headers["etag"] != plain.headers["etag"]  # two representations, two strong ETags
    for response, encoding in [(plain, "identity"), (packed, "gzip")]:
        again = client.get(
            SERIES_FEED, headers={"Accept-Encoding": encoding, "If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["etag"] == response.headers["etag"]
    crossed = client.get(SERIES_FEED, headers={"Accept-Encoding": "identity", "If-None-Match": packed.headers["etag"]})
    assert crossed.status_code == 200
    refused = client.get(SERIES_FEED, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept-Encoding": "gzip"},
        {"Accept-Encoding": "identity", "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_cached_answer_in_front_of_the_framework_is_the_routes_answer(
    synced: Settings, headers: dict[str, str], method: str
) -> None:
    with TestClient(app=create_app(synced)) as fresh:
        fresh.headers.pop("accept-encoding", None)
        path = f"/feeds/modules/{MODULE}.xml"
        assert fresh.app.state.edge.answers.lookup(path) is None
        deadline = time.monotonic() + 10
        while not fresh.app.state.edge.hub.active:  # only a listening cache stores answers
            assert time.monotonic() < deadline
            time.sleep(0.02)
        by_route = fresh.request(method, path, headers=headers)
        if by_route.status_code == 304:  # answered before rendering: nothing stored yet
            fresh.get(path)
        assert fresh.app.state.edge.answers.lookup(path) is not None
        by_cache = fresh.request(method, path, headers=headers)
    ignored = {"date", "x-request-id", "server", "x-answered-by"}
    assert (by_route.headers.get("x-answered-by"), by_cache.headers.get("x-answered-by")) == (None, "edge")
    assert by_cache.status_code == by_route.status_code
    assert by_cache.content == by_route.content
    assert {k: v for k, v in by_cache.headers.items() if k not in ignored} == {
        k: v for k, v in by_route.headers.items() if k not in ignored
    }


def test_feed_links_open_the_web_pages(client: TestClient[Any]) -> None:
    channel = ET.fromstring(client.get(SERIES_FEED).content).find("channel")
    assert channel is not None
    links = [channel.findtext("link", default="")] + [
        item.findtext("link", default="") for item in channel.findall("item")
    ]
    for link in links:
        page = client.get(_path(link))
        assert page.status_code == 200, link
        assert page.headers["content-type"].startswith("text/html")
