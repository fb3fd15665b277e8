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


def test_a_seeking_players_range_is_read_by_the_edge_and_a_lost_file_falls_to_the_route(settings: Settings) -> None:
    """Ranges above what is read on the loop (64 KiB) and up to 2 MiB — what players ask when seeking — are
    read on a worker thread and answered by the edge, counted once; if the stored file cannot be read, the route
    answers (its 503 and log line), never a short or empty 206."""
    sync(settings)
    url = settings.require_database_url()
    row = sql(url, "SELECT id, storage_key FROM media_asset WHERE ref = 'mooc-audio-04.m4a'")[0]
    path = f"/media/{row['id']}/mooc-audio-04.m4a"
    data = (REPOSITORY / "media" / "mooc-audio-04.m4a").read_bytes()
    seek = {"Range": "bytes=70000-339999", "User-Agent": "AntennaPod/3.2.0"}  # 270,000 B: past the loop's limit
    with TestClient(app=create_app(settings)) as client:
        cache = client.app.state.edge.answers
        deadline = time.monotonic() + 10
        while cache.peek(f"media:{row['id']}") is None and time.monotonic() < deadline:
            client.get(path, headers={"Range": "bytes=0-1"})  # probes fill the cache once it listens
        route = client.get(path, headers={**seek, "User-Agent": "curl/8.0"})  # a bot: not counted
        assert cache.peek(f"media:{row['id']}") is not None
        edge = client.get(path, headers=seek)
        assert (edge.status_code, edge.headers.get("x-answered-by")) == (206, "edge")
        assert edge.content == data[70000:340000]
        assert [edge.headers.get(h) for h in HEADERS] == [route.headers.get(h) for h in HEADERS]
        stored = client.app.state.store.path_for(row["storage_key"])
        stored.rename(stored.with_suffix(".gone"))
        try:
            lost = client.get(path, headers=seek)
        finally:
            stored.with_suffix(".gone").rename(stored)
        assert (lost.status_code, lost.headers.get("x-answered-by")) == (503, None)
        assert lost.headers["content-type"] == "application/problem+json"
    requests = sql(url, "SELECT range_start, range_end FROM media_request WHERE asset_id = $1", row["id"])
    assert [(r["range_start"], r["range_end"]) for r in requests] == [(70000, 339999)]
