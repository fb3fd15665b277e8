"""A feed longer than a document's worth of episodes is paged (RFC 5005): the subscription URL holds the newest
episodes and links to the next pages, which podcast apps follow (gPodder's podcastparser reads ``rel="next"``).

A webinar series of 25 sessions (``bench.feeds.insert_big_series``: the shipped sessions' texts and media rows,
cycled) served with 10 episodes per document: pages of 10, 10 and 5.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import feedparser
import podcastparser
import pytest
from bench.feeds import BIG_SLUG, insert_big_series, remove_big_series, with_database
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, truncate_all

SESSIONS = 25
PER_PAGE = 10
FEED = f"/feeds/webinars/{BIG_SLUG}"


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("paging") / "var", feed_page_items=PER_PAGE)
    sync(settings)
    asyncio.run(with_database(database_url, lambda sessions: insert_big_series(sessions, SESSIONS)))
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as test_client:
        yield test_client
    asyncio.run(with_database(database_url, remove_big_series))


def _parse(client: TestClient[Any], url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    parsed: dict[str, Any] = podcastparser.parse(url, io.BytesIO(response.content))
    return parsed


def test_a_podcast_app_following_next_links_gets_every_episode_once(client: TestClient[Any]) -> None:
    url = f"{client.base_url}{FEED}.xml"
    seen: list[str] = []
    sizes = []
    for _ in range(10):  # bounded: the feed has three pages
        page = _parse(client, url)
        sizes.append(len(page["episodes"]))
        seen += [episode["guid"] for episode in page["episodes"]]
        if "paged_feed_next" not in page:
            break
        url = page["paged_feed_next"]
    assert sizes == [10, 10, 5]
    assert len(seen) == SESSIONS == len(set(seen))


def test_the_subscription_document_holds_the_newest_episodes(client: TestClient[Any]) -> None:
    first = _parse(client, f"{client.base_url}{FEED}.xml")["episodes"]
    second = _parse(client, f"{client.base_url}{FEED}.xml?page=2")["episodes"]
    assert min(e["published"] for e in first) >= max(e["published"] for e in second)


def test_each_page_links_first_last_and_its_neighbours(client: TestClient[Any]) -> None:
    base = f"{client.base_url}{FEED}"
    for fmt, kind in (("xml", "application/rss+xml"), ("atom", "application/atom+xml")):
        parsed = feedparser.parse(client.get(f"{FEED}.{fmt}?page=2").content)
        links = {link["rel"]: link["href"] for link in parsed.feed.links if link.get("type") == kind}
        assert links["self"] == f"{base}.{fmt}?page=2"
        assert links["first"] == f"{base}.{fmt}"  # the subscription URL itself
        assert links["previous"] == f"{base}.{fmt}"
        assert links["next"] == links["last"] == f"{base}.{fmt}?page=3"
        last = feedparser.parse(client.get(f"{FEED}.{fmt}?page=3").content)
        assert "next" not in {link["rel"] for link in last.feed.links}


def test_a_page_past_the_last_is_not_found_and_a_bad_page_is_refused(client: TestClient[Any]) -> None:
    assert client.get(f"{FEED}.xml?page=4").status_code == 404
    for bad in ("0", "-1", "deux", "100001"):
        response = client.get(f"{FEED}.xml?page={bad}")
        assert response.status_code == 400, bad
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_feed_that_fits_in_one_document_has_no_page_links(client: TestClient[Any]) -> None:
    parsed = feedparser.parse(client.get("/feeds/modules/dix-ans-de-recherche.xml").content)  # six lessons
    assert {link["rel"] for link in parsed.feed.links} <= {"self", "alternate"}
    assert parsed.entries
