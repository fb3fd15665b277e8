"""Sessions still to come, as podcast apps read them: each ``podcast:liveItem`` has an enclosure (the series'
stand-in notice) so that Podcast Index's parser keeps it, feedparser's channel link and id stay the channel's
own, ``itunes:complete`` waits until every session has ended, and the series says how often it publishes."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, sql, truncate_all
from tests.helpers.node import partytime

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
SERIES_FEED = f"/feeds/webinars/{SERIES}.xml"
SESSION = "2019-12-bilan-et-perspectives"


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("live") / "var")
    sync(settings)
    return settings


@pytest.fixture
def client(synced: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(synced)) as test_client:
        yield test_client


def _feed_after_change(client: TestClient[Any], before: str) -> bytes:
    """The series feed once its ETag has moved (the change reaches the app through NOTIFY; bounded wait)."""
    deadline = time.monotonic() + 10
    while (answer := client.get(SERIES_FEED)).headers["etag"] == before:
        assert time.monotonic() < deadline, "the feed did not change"
        time.sleep(0.02)
    return answer.content


@pytest.fixture
def upcoming(client: TestClient[Any], synced: Settings) -> Iterator[tuple[str, bytes]]:
    """The December session moved to next month, its replay not published yet: (its id, the feed then)."""
    url = synced.require_database_url()
    (row,) = sql(url, "SELECT id, replay_id, scheduled_at FROM webinar_session WHERE slug = $1", SESSION)
    before = client.get(SERIES_FEED).headers["etag"]
    later = datetime.now(UTC) + timedelta(days=30)
    sql(url, "UPDATE webinar_session SET replay_id = NULL, scheduled_at = $2 WHERE id = $1", row["id"], later)
    try:
        yield str(row["id"]), _feed_after_change(client, before)
    finally:
        sql(url, "UPDATE webinar_session SET replay_id = $2, scheduled_at = $3 WHERE id = $1", row["id"],
            row["replay_id"], row["scheduled_at"])  # fmt: skip


def test_podcast_index_parser_lists_the_session_to_come(client: TestClient[Any], upcoming: tuple[str, bytes]) -> None:
    session_id, feed = upcoming
    parsed = partytime(feed)
    (live,) = parsed["liveItems"]
    assert (live["guid"], live["status"]) == (session_id, "pending")
    assert live["contentLinks"] == [f"http://testserver.local/webinaires/{SERIES}/{SESSION}"]
    # The stand-in is a real audio file of the series, served with its declared length and type.
    enclosure = live["enclosure"]
    head = client.head(enclosure["url"].removeprefix("http://testserver.local"))
    assert head.status_code == 200
    assert head.headers["content-type"] == enclosure["type"] == "audio/x-m4a"
    assert int(head.headers["content-length"]) == enclosure["length"] > 0
    assert session_id not in [item["guid"] for item in parsed["items"]]
    assert len(parsed["items"]) == 11


def test_during_a_session_its_live_item_is_live_and_links_to_the_room(
    client: TestClient[Any], synced: Settings
) -> None:
    url = synced.require_database_url()
    (row,) = sql(url, "SELECT id, replay_id, scheduled_at FROM webinar_session WHERE slug = $1", SESSION)
    before = client.get(SERIES_FEED).headers["etag"]
    room = "https://visio.example.org/salle-du-direct"
    started = datetime.now(UTC) - timedelta(minutes=10)
    sql(url, "UPDATE webinar_session SET replay_id = NULL, scheduled_at = $2, join_url = $3 WHERE id = $1",
        row["id"], started, room)  # fmt: skip
    try:
        (live,) = partytime(_feed_after_change(client, before))["liveItems"]
        assert (live["guid"], live["status"]) == (str(row["id"]), "live")
        assert live["contentLinks"] == [room]
    finally:
        sql(url, "UPDATE webinar_session SET replay_id = $2, scheduled_at = $3, join_url = NULL WHERE id = $1",
            row["id"], row["replay_id"], row["scheduled_at"])  # fmt: skip


def test_feedparser_keeps_the_channels_own_link_and_id(synced: Settings, upcoming: tuple[str, bytes]) -> None:
    _, feed = upcoming
    parsed = feedparser.parse(feed)
    (guid,) = sql(synced.require_database_url(), "SELECT podcast_guid FROM podcast_feed WHERE slug = $1", SERIES)
    assert parsed.feed.link == f"http://testserver.local/webinaires/{SERIES}"
    assert parsed.feed.id == f"urn:uuid:{guid['podcast_guid']}"
    assert parsed.feed.title.startswith("L’innovation territoriale en actions")


def test_the_series_is_complete_only_once_no_session_is_to_come(
    client: TestClient[Any], upcoming: tuple[str, bytes]
) -> None:
    _, feed = upcoming
    channel = ET.fromstring(feed).find("channel")
    assert channel is not None
    assert channel.find("itunes:complete", NS) is None
    frequency = channel.find("podcast:updateFrequency", NS)
    assert frequency is not None
    assert frequency.get("rrule") == "FREQ=MONTHLY"
    assert frequency.get("complete") is None
    assert (frequency.text or "").strip()


def test_the_finished_series_says_it_is_complete(client: TestClient[Any]) -> None:
    channel = ET.fromstring(client.get(SERIES_FEED).content).find("channel")
    assert channel is not None
    assert channel.findtext("itunes:complete", namespaces=NS) == "Yes"
    assert not channel.findall("podcast:liveItem", NS)
    frequency = channel.find("podcast:updateFrequency", NS)
    assert frequency is not None
    assert frequency.get("complete") == "true"
