"""Episode dates from the content, Atom's self link and entry dates, and Last-Modified that moves with the
bytes (issue 19)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import podcastparser
import yaml
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import REPOSITORY, sql

MODULE = "dix-ans-de-recherche"
MODULE_FEED = f"/feeds/modules/{MODULE}.xml"


def test_module_episodes_are_dated_from_the_content_in_course_order(
    settings: Settings, client: TestClient[Any]
) -> None:
    sync(settings)
    response = client.get(MODULE_FEED)
    assert response.status_code == 200
    episodes = podcastparser.parse(MODULE_FEED, io.BytesIO(response.content))["episodes"]
    lessons = sql(
        settings.require_database_url(),
        "SELECT l.id, l.position FROM lesson l JOIN module m ON m.id = l.module_id "
        "WHERE m.slug = $1 AND l.media_id IS NOT NULL ORDER BY l.position",
        MODULE,
    )
    assert len(episodes) == len(lessons) >= 2
    # Apps sorting by date list the course in order, and no two episodes share a date.
    by_date = sorted(episodes, key=lambda episode: episode["published"])
    assert [e["guid"] for e in by_date] == [str(row["id"]) for row in lessons]
    assert len({e["published"] for e in episodes}) == len(episodes)
    # The dates are the module's publication date (module.yaml) plus a minute per position, not the import.
    module = yaml.safe_load((REPOSITORY / "modules" / MODULE / "module.yaml").read_text(encoding="utf-8"))
    for episode, row in zip(by_date, lessons, strict=True):
        expected = module["published"] + timedelta(minutes=row["position"] - 1)
        assert episode["published"] == int(expected.timestamp())


def test_atom_feeds_link_to_themselves_and_date_each_entry(settings: Settings, client: TestClient[Any]) -> None:
    sync(settings)
    for path in (f"/feeds/modules/{MODULE}.atom", f"/feeds/webinars/{SERIES}.atom"):
        parsed = feedparser.parse(client.get(path).content)
        assert parsed.version == "atom10"
        assert not parsed.bozo
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [f"{settings.base_url}{path}"]
        assert len(parsed.entries) >= 2
        updated = [entry.updated_parsed for entry in parsed.entries]
        assert len(set(map(tuple, updated))) == len(updated), path
        for entry in parsed.entries:
            assert entry.updated_parsed >= entry.published_parsed


def _dates(response: Any) -> tuple[datetime, datetime]:
    """Last-Modified, and the date the document itself gives (RSS lastBuildDate, Atom <updated>)."""
    built = feedparser.parse(response.content).feed.updated_parsed
    return parsedate_to_datetime(response.headers["last-modified"]), datetime(*built[:6], tzinfo=UTC)


def _from_the_edge(client: TestClient[Any], path: str) -> Any:
    deadline = time.monotonic() + 10
    while (answer := client.get(path)).headers.get("x-answered-by") != "edge":  # stored once the hub listens
        assert time.monotonic() < deadline, "the edge never stored the feed"
        time.sleep(0.02)
    return answer


def test_a_new_public_base_url_moves_last_modified_and_last_build_date(settings: Settings, make_client: Any) -> None:
    sync(settings)
    for path in (MODULE_FEED, f"/feeds/webinars/{SERIES}.xml", f"/feeds/modules/{MODULE}.atom"):
        before = make_client(public_base_url="http://old.example").get(path)
        assert b"http://old.example/media/" in before.content
        modified, built = _dates(before)
        assert modified == built

        client = make_client(public_base_url="http://new.example")
        after = client.get(path, headers={"If-Modified-Since": before.headers["last-modified"]})
        assert after.status_code == 200, path  # not 304: the client would keep the old enclosure URLs
        assert b"http://new.example/media/" in after.content
        assert b"http://old.example" not in after.content
        new_modified, new_built = _dates(after)
        assert new_modified == new_built > built

        # Then stable: the same bytes keep their date, from the app and from the edge's stored answer.
        again = client.get(path, headers={"If-Modified-Since": after.headers["last-modified"]})
        assert again.status_code == 304
        stored = _from_the_edge(client, path)
        assert stored.headers["last-modified"] == after.headers["last-modified"]
        assert stored.content == after.content
