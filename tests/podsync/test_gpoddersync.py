"""Nextcloud gpoddersync as AntennaPod speaks it, replayed from its sync code (AntennaPod, commit b7ee12cc):

- ``net/sync/gpoddernet/src/main/java/de/danoeh/antennapod/net/sync/nextcloud/NextcloudSyncService.java``:
  ``GET /index.php/apps/gpoddersync/subscriptions?since=…`` and ``…/episode_action?since=…``, ``POST
  …/subscription_change/create`` (``{"add": […], "remove": […]}``) and ``…/episode_action/create`` (a JSON list,
  by 30), each with ``Authorization: Basic``, ``Accept: application/json`` and, for POSTs, ``application/json``
  bodies; anything but 200 is an error;
- ``net/sync/service-interface/src/main/java/de/danoeh/antennapod/net/sync/serviceinterface/EpisodeAction.java``:
  ``writeToJsonObject`` (``podcast``, ``episode``, ``guid``, the action lowercased, ``timestamp`` as
  ``yyyy-MM-dd'T'HH:mm:ss`` in UTC, ``started``/``position``/``total`` in seconds for ``play`` only) and
  ``readFromJsonObject`` (``action`` upper-cased then ``Action.valueOf``, ``optInt(…, -1)``);
- ``net/sync/gpoddernet/src/main/java/de/danoeh/antennapod/net/sync/gpoddernet/mapper/ResponseMapper.java``:
  ``add``, ``remove``, ``actions`` read as arrays and ``timestamp`` as a long.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.database import sql
from tests.podsync.conftest import MODULE, AppLogin, app_password

BASE = "/index.php/apps/gpoddersync"
ACTIONS = {"NEW", "DOWNLOAD", "PLAY", "DELETE"}  # EpisodeAction.Action


def antennapod_action(podcast: str, episode: str, guid: str, action: str, **play: int) -> dict[str, Any]:
    """``EpisodeAction.writeToJsonObject``."""
    written: dict[str, Any] = {"podcast": podcast, "episode": episode, "guid": guid, "action": action.lower()}
    written["timestamp"] = datetime(2026, 12, 7, 9, 30, 5, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if action == "PLAY":
        written |= {"started": play["started"], "position": play["position"], "total": play["total"]}
    return written


def antennapod_read(action: dict[str, Any]) -> dict[str, Any] | None:
    """``EpisodeAction.readFromJsonObject``: None where AntennaPod drops the action."""
    if not action.get("podcast") or not action.get("episode") or not action.get("action"):
        return None
    name = str(action["action"]).upper()
    if name not in ACTIONS:
        return None
    read: dict[str, Any] = {"podcast": action["podcast"], "episode": action["episode"], "action": name}
    read["timestamp"] = datetime.strptime(action["timestamp"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    read["guid"] = action.get("guid")
    if name == "PLAY":
        read |= {key: int(action.get(key, -1)) for key in ("started", "position", "total")}
    return read


def _post(client: TestClient[Any], path: str, login: AppLogin, body: Any) -> httpx.Response:
    headers = login.basic | {"Content-Type": "application/json; charset=utf-8"}
    return client.post(BASE + path, content=json.dumps(body).encode(), headers=headers)


def _private_path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


def test_subscriptions_offer_the_enrolled_modules_private_feeds(client: TestClient[Any], app_login: AppLogin) -> None:
    answer = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["timestamp"], int)
    assert body["remove"] == []
    (url,) = body["add"]
    assert f"/modules/{MODULE}.xml" in url
    assert "/feeds/private/" in url
    feed = client.get(_private_path(url))  # the app can read what it was given
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith(("application/rss+xml", "application/xml", "text/xml"))


def test_subscription_changes_are_recorded_and_a_removal_does_not_unenroll(
    client: TestClient[Any], app_login: AppLogin
) -> None:
    (course,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()["add"]
    other = "https://example.org/un-autre-podcast.xml"
    changed = _post(client, "/subscription_change/create", app_login, {"add": [other], "remove": [course]})
    assert changed.status_code == 200, changed.text
    assert isinstance(changed.json()["timestamp"], int)
    body = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()
    assert body["add"] == [other]
    assert body["remove"] == [course]
    enrollments = client.get("/api/v1/me/enrollments", headers=app_login.account.headers).json()
    assert MODULE in json.dumps(enrollments)  # removing the feed in the app unenrolls nobody


def test_unenrolling_removes_the_course_feed_from_the_app(client: TestClient[Any], app_login: AppLogin) -> None:
    first = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()
    (course,) = first["add"]
    left = client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=app_login.account.headers)
    assert left.status_code == 204, left.text
    later = client.get(f"{BASE}/subscriptions", params={"since": first["timestamp"]}, headers=app_login.basic).json()
    assert later["remove"] == [course]
    assert later["add"] == []


def test_episode_actions_round_trip_as_antennapod_writes_and_reads_them(
    client: TestClient[Any], app_login: AppLogin
) -> None:
    (feed,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()["add"]
    episode = feed.replace(f"modules/{MODULE}.xml", "media/00000000-0000-0000-0000-000000000001/lecon.mp3")
    sent = [
        antennapod_action(feed, episode, "urn:lecon:1", "DOWNLOAD"),
        antennapod_action(feed, episode, "urn:lecon:1", "PLAY", started=0, position=95, total=600),
        antennapod_action(feed, episode, "urn:lecon:1", "PLAY", started=95, position=600, total=600),
    ]
    uploaded = _post(client, "/episode_action/create", app_login, sent)
    assert uploaded.status_code == 200, uploaded.text
    assert isinstance(uploaded.json()["timestamp"], int)
    answer = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["timestamp"], int)
    read = [antennapod_read(action) for action in body["actions"]]
    assert None not in read
    assert sorted((r["action"], r.get("position", -1)) for r in read if r) == [
        ("DOWNLOAD", -1), ("PLAY", 95), ("PLAY", 600)
    ]  # fmt: skip
    play = next(r for r in read if r and r["action"] == "PLAY" and r["position"] == 600)
    assert play == {
        "podcast": feed, "episode": episode, "action": "PLAY", "guid": "urn:lecon:1", "started": 95,
        "position": 600, "total": 600, "timestamp": datetime(2026, 12, 7, 9, 30, 5, tzinfo=UTC),
    }  # fmt: skip


def test_the_same_episode_action_sent_twice_is_kept_once(client: TestClient[Any], app_login: AppLogin) -> None:
    action = antennapod_action(
        "https://example.org/feed.xml", "https://example.org/e1.mp3", "e1", "PLAY", started=0, position=30, total=60
    )
    for _ in range(2):
        assert _post(client, "/episode_action/create", app_login, [action, action]).status_code == 200
    actions = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic).json()["actions"]
    assert len(actions) == 1


def test_since_answers_only_what_came_after(client: TestClient[Any], app_login: AppLogin) -> None:
    old = antennapod_action("https://example.org/feed.xml", "https://example.org/old.mp3", "old", "DOWNLOAD")
    stamp = _post(client, "/episode_action/create", app_login, [old]).json()["timestamp"]
    later = client.get(f"{BASE}/episode_action", params={"since": stamp + 2}, headers=app_login.basic).json()
    assert later["actions"] == []
    assert later["timestamp"] >= stamp
    again = client.get(f"{BASE}/episode_action", params={"since": stamp}, headers=app_login.basic).json()
    assert [action["episode"] for action in again["actions"]] == ["https://example.org/old.mp3"]


def test_bad_episode_actions_are_a_400_and_nothing_is_kept(client: TestClient[Any], app_login: AppLogin) -> None:
    good = antennapod_action("https://example.org/feed.xml", "https://example.org/e.mp3", "e", "DOWNLOAD")
    for bad in ([good, {**good, "action": "dance"}], [{**good, "timestamp": "hier"}], {"not": "a list"}, [[[]]]):
        answer = _post(client, "/episode_action/create", app_login, bad)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    actions = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic).json()["actions"]
    assert actions == []


def test_uppercase_action_names_are_accepted(client: TestClient[Any], app_login: AppLogin) -> None:
    action = {
        **antennapod_action("https://example.org/f.xml", "https://example.org/e.mp3", "e", "NEW"),
        "action": "NEW",
    }
    assert _post(client, "/episode_action/create", app_login, [action]).status_code == 200
    (kept,) = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic).json()["actions"]
    assert kept["action"] == "new"


def test_feed_tokens_are_never_kept_in_clear_and_each_app_reads_its_own(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    (feed,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()["add"]
    token = feed.split("/feeds/private/")[1].split("/")[0]
    episode = feed.replace(f"modules/{MODULE}.xml", "media/00000000-0000-0000-0000-000000000002/lecon.mp3")
    sent = antennapod_action(feed, episode, "urn:lecon:2", "PLAY", started=0, position=10, total=60)
    assert _post(client, "/episode_action/create", app_login, [sent]).status_code == 200
    assert _post(client, "/subscription_change/create", app_login, {"add": [], "remove": [feed]}).status_code == 200
    url = synced.require_database_url()
    kept = sql(url, "SELECT podcast, episode FROM sync_episode_action") + sql(url, "SELECT url FROM sync_subscription")
    assert kept
    assert token not in json.dumps([dict(row) for row in kept])
    # a second app of the same learner reads the action with its own feed token, and it is the same action
    tablet = app_password(client, app_login.account, "Kasts")
    (its_feed,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=tablet.basic).json()["add"]
    assert its_feed != feed
    (read,) = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=tablet.basic).json()["actions"]
    assert read["podcast"] == its_feed
    assert client.get(_private_path(read["podcast"])).status_code == 200
    mine = {**sent, "podcast": its_feed, "episode": read["episode"]}
    assert _post(client, "/episode_action/create", tablet, [mine]).status_code == 200
    assert len(client.get(f"{BASE}/episode_action", params={"since": 0}, headers=tablet.basic).json()["actions"]) == 1
