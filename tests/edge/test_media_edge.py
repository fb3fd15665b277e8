"""The edge (cached asset, small range in memory) answers exactly as the route does, and counts the same."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import REPOSITORY, sql

HEADERS = ["accept-ranges", "etag", "last-modified", "cache-control", "content-range", "content-type", "content-length"]


def test_a_probe_answered_the_short_way_matches_the_route(settings: Settings) -> None:
    sync(settings)
    url = settings.require_database_url()
    row = sql(url, "SELECT id FROM media_asset WHERE ref = 'mooc-audio-02.m4a'")[0]
    path = f"/media/{row['id']}/mooc-audio-02.m4a"
    data = (REPOSITORY / "media" / "mooc-audio-02.m4a").read_bytes()
    with TestClient(app=create_app(settings)) as client:
        cache = client.app.state.edge.answers
        deadline = time.monotonic() + 10
        first = client.get(path, headers={"Range": "bytes=0-1"})  # the long way, which fills the cache…
        while cache.peek(f"media:{row['id']}") is None and time.monotonic() < deadline:
            # …once the cache listens for changes (it connects just after start-up): poll, no fixed sleep
            first = client.get(path, headers={"Range": "bytes=0-1"})
        assert cache.peek(f"media:{row['id']}") is not None
        second = client.get(path, headers={"Range": "bytes=0-1"})  # the edge
        assert (first.status_code, second.status_code) == (206, 206)
        assert (first.headers.get("x-answered-by"), second.headers.get("x-answered-by")) == (None, "edge")
        assert second.content == first.content == data[:2]
        assert [second.headers.get(h) for h in HEADERS] == [first.headers.get(h) for h in HEADERS]
        small = client.get(path, headers={"Range": "bytes=100-199", "User-Agent": "AntennaPod/3.2.0"})
        assert (small.status_code, small.content) == (206, data[100:200])
        assert small.headers["x-answered-by"] == "edge"
        not_modified = client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert (not_modified.status_code, not_modified.content) == (304, b"")
        wrong = client.get(path.replace("mooc-audio-02.m4a", "autre.m4a"), headers={"Range": "bytes=0-1"})
        assert wrong.status_code == 404
        assert wrong.headers["content-type"] == "application/problem+json"
    # The small range was handed to the counter (stored as a request; far from a minute of audio).
    requests = sql(url, "SELECT range_start, range_end FROM media_request WHERE asset_id = $1", row["id"])
    assert [(r["range_start"], r["range_end"]) for r in requests] == [(100, 199)]
