"""A public feed renders once: query parameters it does not read share its one stored answer, concurrent requests
after a change wait for one render, and the render leaves the event loop free (a live server answers its ping)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.feeds import controllers
from learning.feeds.model import Channel
from learning.feeds.services import FeedService
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, truncate_all
from tests.helpers.live import live_server

MODULE_FEED = "/feeds/modules/dix-ans-de-recherche.xml"


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("flights") / "var")
    sync(settings)
    return settings.model_copy(update={"client_concurrency": 32})  # every request of the test worked on at once


def _until(condition: Callable[[], bool], seconds: float = 15) -> bool:
    """Poll ``condition`` until it holds or the deadline passes (never a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class SlowRender:
    """``render_rss_gzip`` counted, and held in its thread until the test releases it."""

    def __init__(self) -> None:
        self.real = controllers.render_rss_gzip
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, channel: Channel) -> tuple[bytes, bytes]:
        with self._lock:
            self.calls += 1
        self.started.set()
        self.release.wait(timeout=30)
        return self.real(channel)


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowRender]:
    render = SlowRender()
    monkeypatch.setattr(controllers, "render_rss_gzip", render)
    yield render
    render.release.set()  # whatever happened, nothing stays held


def test_unknown_query_parameters_share_the_feeds_one_stored_answer(synced: Settings) -> None:
    with TestClient(app=create_app(synced)) as client:
        answers = client.app.state.edge.answers
        assert _until(lambda: bool(client.app.state.edge.hub.active)), "the notification hub never connected"
        first = client.get(MODULE_FEED, headers={"Accept-Encoding": "gzip"})
        assert first.status_code == 200
        for n in range(1000):
            again = client.get(f"{MODULE_FEED}?v={n}", headers={"Accept-Encoding": "gzip"})
            assert again.headers.get("x-answered-by") == "edge", n
            assert again.content == first.content
        assert answers.entries == 1
        assert answers.used_bytes < len(first.content) * 2  # one copy (and its smaller gzip one), not a thousand


def test_concurrent_requests_after_a_change_wait_for_one_render(
    synced: Settings, slow: SlowRender, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached = 0
    init = FeedService.__init__

    def counted(self: FeedService, *args: Any, **kwargs: Any) -> None:  # one per request that reached the route
        nonlocal reached
        reached += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(FeedService, "__init__", counted)
    app = create_app(synced)
    with live_server(app) as base, ThreadPoolExecutor(8) as pool:
        assert _until(lambda: bool(app.state.edge.hub.active)), "the notification hub never connected"
        answers = app.state.edge.answers
        futures = [pool.submit(httpx.get, base + MODULE_FEED, timeout=60) for _ in range(8)]
        everyone_missed = _until(lambda: slow.started.is_set() and reached == 8)
        slow.release.set()
        responses = [future.result() for future in futures]
        assert everyone_missed, f"{reached} of 8 requests reached the route while the render was held"
        assert [response.status_code for response in responses] == [200] * 8
        assert len({response.content for response in responses}) == 1
        assert slow.calls == 1
        assert answers.entries == 1  # while the server runs: stopping it forgets everything


def test_the_event_loop_answers_while_a_feed_renders(synced: Settings, slow: SlowRender) -> None:
    app = create_app(synced)
    with live_server(app) as base, ThreadPoolExecutor(1) as pool:
        feed = pool.submit(httpx.get, base + MODULE_FEED, timeout=60)
        assert _until(slow.started.is_set), "the render never started"
        try:
            ping = httpx.get(base + "/api/v1/ping", timeout=5)
        finally:
            slow.release.set()
        assert ping.status_code == 200
        assert not feed.done()  # the render was still held while the ping was answered
        assert feed.result().status_code == 200


class HeldBuild:
    """``FeedService._channel`` (the part of a feed's load that grows with its items) held until released."""

    def __init__(self) -> None:
        self.real = FeedService._channel
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, service: FeedService, *args: Any, **kwargs: Any) -> Channel:
        self.started.set()
        self.release.wait(timeout=30)
        return self.real(service, *args, **kwargs)


@pytest.mark.parametrize("path", [MODULE_FEED, "/feeds/webinars/innovation-territoriale-en-actions-2019.xml"])
def test_the_event_loop_answers_while_a_feeds_channel_is_built(
    synced: Settings, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    held = HeldBuild()
    monkeypatch.setattr(FeedService, "_channel", lambda service, *args, **kwargs: held(service, *args, **kwargs))
    app = create_app(synced)
    with live_server(app) as base, ThreadPoolExecutor(1) as pool:
        feed = pool.submit(httpx.get, base + path, timeout=60)
        try:
            assert _until(held.started.is_set), "the channel was never built"
            ping = httpx.get(base + "/api/v1/ping", timeout=5)  # a blocked loop would not answer it
        finally:
            held.release.set()
        assert ping.status_code == 200
        assert not feed.done()  # still held while the ping was answered
        assert feed.result().status_code == 200
