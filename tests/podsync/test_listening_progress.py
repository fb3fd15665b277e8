"""Listening in a podcast app counts toward the course: AntennaPod's ``play`` actions for an audio lesson of an
enrolled module become its segments, so listening to all of it completes it; a forged « position = total » with no
time behind it completes nothing; the enclosure's URL names the lesson when the guid does not; the app's
position is where the web player resumes, and the web player's position reaches the app; the xAPI export names
the app."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from litestar.testing import TestClient
from ralph.models.xapi.video.statements import VideoPlayed

from learning.config import Settings
from tests.helpers.database import sql
from tests.podsync.conftest import MODULE, AppLogin, app_password, enrolled
from tests.podsync.test_gpoddersync import BASE, antennapod_action, antennapod_read

WIRE = "%Y-%m-%dT%H:%M:%S"


def _audio(settings: Settings) -> dict[str, Any]:
    (row,) = sql(settings.require_database_url(),
                 "SELECT l.id, l.media_id, l.duration_seconds FROM lesson l JOIN module m ON m.id = l.module_id "
                 "WHERE m.slug = $1 AND l.kind = 'audio'", MODULE)  # fmt: skip
    return {"id": str(row["id"]), "media": str(row["media_id"]), "duration": int(row["duration_seconds"])}


def _play(login: AppLogin, client: TestClient[Any], lesson: dict[str, Any], *, at: datetime, started: int,
          position: int, guid: bool = True) -> httpx.Response:  # fmt: skip
    (feed,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=login.basic).json()["add"]
    episode = feed.replace(f"modules/{MODULE}.xml", f"media/{lesson['media']}/lecon.m4a")
    action = antennapod_action(feed, episode, lesson["id"] if guid else "urn:autre", "PLAY", started=started,
                               position=position, total=lesson["duration"])  # fmt: skip
    action["timestamp"] = at.astimezone(UTC).strftime(WIRE)
    headers = login.basic | {"Content-Type": "application/json; charset=utf-8"}
    return client.post(f"{BASE}/episode_action/create", content=json.dumps([action]).encode(), headers=headers)


def _lesson(client: TestClient[Any], login: AppLogin, lesson: dict[str, Any]) -> dict[str, Any]:
    answer = client.get(f"/api/v1/me/progress/lessons/{lesson['id']}", headers=login.account.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _older_account(settings: Settings, login: AppLogin, hours: int = 2) -> None:
    sql(settings.require_database_url(), "UPDATE user_account SET created_at = now() - make_interval(hours => $1) "
        "WHERE email = $2", hours, login.account.email)  # fmt: skip


def test_listening_to_a_whole_audio_lesson_in_the_app_completes_it(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    lesson = _audio(synced)
    _older_account(synced, app_login)
    now = datetime.now(UTC)
    sent = _play(app_login, client, lesson, at=now - timedelta(minutes=1), started=0, position=lesson["duration"])
    assert sent.status_code == 200, sent.text
    state = _lesson(client, app_login, lesson)
    assert state["completed"] is True, state
    assert state["position_seconds"] == lesson["duration"]  # the web player resumes where the app got to
    again = _play(app_login, client, lesson, at=now - timedelta(minutes=1), started=0, position=lesson["duration"])
    assert again.status_code == 200  # the same action again: kept once, counted once
    assert _lesson(client, app_login, lesson)["watched_seconds"] == state["watched_seconds"]


def test_a_forged_position_at_the_end_with_no_time_behind_it_completes_nothing(
    client: TestClient[Any], synced: Settings
) -> None:
    login = app_password(client, enrolled(client))  # an account made just now: no time to have listened
    lesson = _audio(synced)
    forged = _play(login, client, lesson, at=datetime.now(UTC), started=0, position=lesson["duration"])
    assert forged.status_code == 200, forged.text
    state = _lesson(client, login, lesson)
    assert state["completed"] is False, state
    assert state["watched_seconds"] < lesson["duration"] * 0.9


def test_a_play_action_kept_earlier_bounds_the_credit_of_the_next_one(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    """The clock budget reads the actions already kept: a segment reported 5 s after the previous play action
    (sent in an earlier upload) earns at most 15 s, whatever it claims; one kept later than it changes nothing."""
    lesson = _audio(synced)
    _older_account(synced, app_login)
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    assert _play(app_login, client, lesson, at=first, started=0, position=10).status_code == 200
    # Kept before the next upload, but later than its action: it must not bound it.
    assert _play(app_login, client, lesson, at=first + timedelta(minutes=5), started=40, position=41).status_code == 200
    claimed = _play(app_login, client, lesson, at=first + timedelta(seconds=5), started=10, position=40)
    assert claimed.status_code == 200, claimed.text
    state = _lesson(client, app_login, lesson)
    # 0–10, then 25–40 (15 s: three times the 5 s since the first action), then 40–41 (its own budget is ample).
    assert state["watched_seconds"] == 10 + 15 + 1, state


def test_the_enclosure_url_names_the_lesson_when_the_guid_does_not(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    lesson = _audio(synced)
    _older_account(synced, app_login)
    half = lesson["duration"] // 2
    at = datetime.now(UTC) - timedelta(minutes=2)
    assert _play(app_login, client, lesson, at=at, started=0, position=half, guid=False).status_code == 200
    state = _lesson(client, app_login, lesson)
    assert state["completed"] is False
    assert abs(state["watched_seconds"] - half) <= 1
    assert state["position_seconds"] == half


def test_the_app_receives_where_the_web_player_stopped(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    lesson = _audio(synced)
    moment = datetime.now(UTC) - timedelta(seconds=30)
    events = [
        {"id": str(uuid.uuid4()), "type": "played", "lesson_id": lesson["id"], "from": 0, "to": 7,
         "client_time": moment.isoformat()},
        {"id": str(uuid.uuid4()), "type": "position", "lesson_id": lesson["id"], "position": 7,
         "client_time": moment.isoformat()},
    ]  # fmt: skip
    sent = client.post("/api/v1/me/progress/events", json={"events": events}, headers=app_login.account.headers)
    assert sent.status_code == 200, sent.text
    body = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic).json()
    read = [antennapod_read(action) for action in body["actions"]]
    (web,) = [found for found in read if found and found["guid"] == lesson["id"]]
    assert (web["action"], web["position"], web["total"]) == ("PLAY", 7, lesson["duration"])
    assert web["timestamp"] == moment.replace(microsecond=0)
    # The episode and podcast are this app's own private feed and its enclosure: AntennaPod finds the episode.
    (feed,) = client.get(f"{BASE}/subscriptions", params={"since": 0}, headers=app_login.basic).json()["add"]
    assert web["podcast"] == feed
    xml = client.get(httpx.URL(feed).raw_path.decode())
    assert xml.status_code == 200
    assert f'url="{web["episode"]}"' in xml.text


def test_the_xapi_export_names_the_app_that_reported_the_listening(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    lesson = _audio(synced)
    _older_account(synced, app_login)
    at = datetime.now(UTC) - timedelta(minutes=3)
    assert _play(app_login, client, lesson, at=at, started=0, position=5).status_code == 200
    web = {"id": str(uuid.uuid4()), "type": "played", "lesson_id": lesson["id"], "from": 5, "to": 9,
           "client_time": datetime.now(UTC).isoformat()}  # fmt: skip
    headers = app_login.account.headers
    assert client.post("/api/v1/me/progress/events", json={"events": [web]}, headers=headers).status_code == 200
    statements = client.get("/api/v1/me/xapi/statements", headers=headers).json()["statements"]
    played = [s for s in statements if s["verb"]["id"] == "https://w3id.org/xapi/video/verbs/played"]
    assert [s["context"].get("platform") for s in played] == ["AntennaPod", None]  # the app's, then the web's
    for statement in played:
        VideoPlayed(**statement)


def test_the_account_export_holds_the_apps_and_their_actions_without_feed_tokens(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    lesson = _audio(synced)
    assert _play(app_login, client, lesson, at=datetime.now(UTC), started=0, position=3).status_code == 200
    exported = client.get("/api/v1/me/export", headers=app_login.account.headers)
    assert exported.status_code == 200
    body = exported.json()
    assert [app["name"] for app in body["podcast_apps"]] == ["AntennaPod"]
    (action,) = body["podcast_app_episode_actions"]
    assert (action["action"], action["guid"], action["position"]) == ("play", lesson["id"], 3)
    assert "/feeds/private/@/" in action["podcast"]  # the feed token is a secret: never exported
    assert app_login.password not in exported.text


def test_aggregated_episode_actions_give_each_episode_its_latest_action(
    client: TestClient[Any], app_login: AppLogin
) -> None:
    episode = "https://example.org/e1.mp3"
    sent = [
        {"podcast": "https://example.org/feed.xml", "episode": episode, "action": "download",
         "timestamp": "2026-12-07T10:00:00"},
        {"podcast": "https://example.org/feed.xml", "episode": episode, "action": "play",
         "timestamp": "2026-12-07T10:05:00", "started": 0, "position": 300, "total": 1200},
    ]  # fmt: skip
    path = f"/api/2/episodes/{quote(app_login.account.email)}.json"
    headers = app_login.basic | {"Content-Type": "application/json"}
    assert client.post(path, content=json.dumps(sent).encode(), headers=headers).status_code == 200
    every = client.get(path, params={"since": 0}, headers=app_login.basic).json()["actions"]
    assert sorted(action["action"] for action in every) == ["download", "play"]
    latest = client.get(path, params={"since": 0, "aggregated": "true"}, headers=app_login.basic).json()["actions"]
    assert [(action["action"], action["position"]) for action in latest] == [("play", 300)]


def test_an_upload_refused_for_the_quota_keeps_nothing_so_the_apps_retry_is_credited(
    client: TestClient[Any], app_login: AppLogin, synced: Settings
) -> None:
    """The actions and the progress they earn commit together: an upload the progress quota refuses (429) keeps
    none of its actions, so when the app sends them again they are new, and credited."""
    lesson = _audio(synced)
    _older_account(synced, app_login)
    url = synced.require_database_url()
    # The learner used this minute's events (and the next minute's, should the clock turn meanwhile).
    sql(url, "INSERT INTO lesson_progress (user_id, lesson_id, segments, watched_seconds, completed, updated_at,"
        " quota_minute, minute_events) SELECT u.id, l.id, '{}', 0, false, now(),"
        " date_trunc('minute', now()) + make_interval(mins => (n - 1)::int), $2"
        " FROM user_account u, lesson l JOIN module m ON m.id = l.module_id AND m.slug = $4,"
        " LATERAL (SELECT row_number() OVER (ORDER BY l2.position) AS n, l2.id FROM lesson l2"
        "  WHERE l2.module_id = l.module_id AND l2.id <> $3::uuid ORDER BY l2.position LIMIT 2) other"
        " WHERE u.email = $1 AND l.id = other.id",
        app_login.account.email, synced.progress_events_per_minute, lesson["id"], MODULE)  # fmt: skip
    at = datetime.now(UTC) - timedelta(minutes=1)
    refused = _play(app_login, client, lesson, at=at, started=0, position=lesson["duration"])
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 0
    kept = client.get(f"{BASE}/episode_action", params={"since": 0}, headers=app_login.basic).json()["actions"]
    assert [action for action in kept if action.get("guid") == lesson["id"] and action.get("started") == 0] == []
    assert _lesson(client, app_login, lesson)["watched_seconds"] == 0

    sql(url, "UPDATE lesson_progress SET minute_events = 0 WHERE user_id = (SELECT id FROM user_account"
        " WHERE email = $1)", app_login.account.email)  # fmt: skip
    again = _play(app_login, client, lesson, at=at, started=0, position=lesson["duration"])
    assert again.status_code == 200, again.text
    assert _lesson(client, app_login, lesson)["watched_seconds"] == lesson["duration"]  # all of it, once
