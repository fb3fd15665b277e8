"""The gpodder.net API v2 subset against its reference client, ``mygpoclient``'s ``MygPodderClient`` (as gPodder
uses it), over a real socket: HTTP Basic sent on our challenge (urllib's ``HTTPBasicAuthHandler``), JSON bodies
posted as ``application/x-www-form-urlencoded``, the account's e-mail in the URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.error import HTTPError

import pytest
from litestar.testing import TestClient
from mygpoclient import api, http

from learning.app import create_app
from learning.config import Settings
from tests.helpers.live import free_port, live_server
from tests.podsync.conftest import MODULE, AppLogin, app_password, enrolled

FEED = "https://example.org/podcast.xml"


@pytest.fixture
def live(synced: Settings) -> Iterator[str]:
    port = free_port()
    settings = synced.model_copy(update={"port": port, "host": "127.0.0.1", "public_base_url": None})
    with live_server(create_app(settings), port=port) as base:
        yield base


@pytest.fixture
def login(client: TestClient[Any]) -> AppLogin:
    return app_password(client, enrolled(client), "gPodder")


def test_mygpoclient_logs_in_syncs_subscriptions_and_episode_actions(live: str, login: AppLogin) -> None:
    gpo = api.MygPodderClient(login.account.email, login.password, root_url=live)
    assert gpo.update_device_settings("ordinateur", caption="Mon ordinateur", type="laptop")
    (device,) = gpo.get_devices()
    assert (device.device_id, device.caption, device.type) == ("ordinateur", "Mon ordinateur", "laptop")

    pulled = gpo.pull_subscriptions("ordinateur", since=0)
    (course,) = pulled.add
    assert f"/modules/{MODULE}.xml" in course
    assert "/feeds/private/" in course
    assert pulled.remove == []

    updated = gpo.update_subscriptions("ordinateur", add_urls=[FEED], remove_urls=[])
    assert updated.update_urls == []
    assert FEED in gpo.pull_subscriptions("ordinateur", since=updated.since).add  # (same second: the course too)
    assert gpo.pull_subscriptions("ordinateur", since=updated.since + 2).add == []
    assert gpo.get_devices()[0].subscriptions == 2

    actions = [
        api.EpisodeAction(FEED, "https://example.org/e1.mp3", "download", device="ordinateur",
                          timestamp="2026-12-07T10:00:00"),
        api.EpisodeAction(FEED, "https://example.org/e1.mp3", "play", device="ordinateur",
                          timestamp="2026-12-07T10:05:00", started=0, position=300, total=1200),
    ]  # fmt: skip
    since = gpo.upload_episode_actions(actions)
    assert isinstance(since, int)
    gpo.upload_episode_actions(actions)  # sent again: kept once
    changes = gpo.download_episode_actions(since=0)
    assert sorted((a.action, a.position, a.device, a.timestamp) for a in changes.actions) == [
        ("download", None, "ordinateur", "2026-12-07T10:00:00"),
        ("play", 300, "ordinateur", "2026-12-07T10:05:00"),
    ]
    (play,) = [a for a in changes.actions if a.action == "play"]
    assert (play.podcast, play.episode, play.started, play.total) == (FEED, "https://example.org/e1.mp3", 0, 1200)
    assert gpo.download_episode_actions(since=0, podcast="https://example.org/other.xml").actions == []
    assert len(gpo.download_episode_actions(since=0, device_id="ordinateur").actions) == 2


def refusal(call: Callable[[], object]) -> BaseException | None:
    """What ``mygpoclient`` raised, its HTTP error closed (mygpoclient leaves it open)."""
    try:
        call()
    except (http.Unauthorized, http.UnknownResponse) as exc:
        if isinstance(exc.__context__, HTTPError):
            exc.__context__.close()
        return exc
    return None


def test_mygpoclient_is_refused_with_a_wrong_password(live: str, login: AppLogin) -> None:
    gpo = api.MygPodderClient(login.account.email, "pas-le-bon-mot-de-passe", root_url=live)
    assert isinstance(refusal(lambda: gpo.pull_subscriptions("ordinateur", since=0)), http.Unauthorized)


def test_mygpoclient_cannot_use_an_app_password_for_another_account(
    live: str, login: AppLogin, client: TestClient[Any]
) -> None:
    other = enrolled(client)
    gpo = api.MygPodderClient(other.email, login.password, root_url=live)  # names the other account
    assert isinstance(refusal(lambda: gpo.pull_subscriptions("ordinateur", since=0)), http.Unauthorized)
