"""The one-statement ingestion: PostgreSQL's union of segments is the Python merge, races end as replays.

Segments are unioned by PostgreSQL (a ``seconds_multirange``) while xAPI statements merge them in Python
(``progress.segments.merge``): the two must agree to the last bit, and the merge here is the oracle.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.progress.segments import merge, watched
from tests.helpers.accounts import Account, register
from tests.helpers.database import libpq, sql
from tests.helpers.live import live_server
from tests.helpers.progress import enroll, played, position, progress_of, send


def stored_segments(settings: Settings, lesson: str) -> list[list[float]]:
    rows = sql(
        settings.require_database_url(),
        "SELECT lower(r) AS low, upper(r) AS high FROM lesson_progress p, unnest(p.segments) r "
        "WHERE p.lesson_id = $1 ORDER BY 1",
        uuid.UUID(lesson),
    )
    return [[row["low"], row["high"]] for row in rows]


def test_the_stored_union_is_the_python_merge_of_every_segment(
    settings: Settings, client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    video, duration = course["video"], course["duration"]
    rng = random.Random(2026)
    events = []
    for minute in range(150):
        if rng.random() < 0.4:  # on a 5-second grid: segments that touch exactly, or repeat
            start = float(rng.randrange(0, duration - 5, 5))
            end = start + 5
        else:
            start = rng.uniform(0, duration)
            end = min(start + rng.choice([0.001, 1.5, rng.uniform(0, 90)]) + 0.001, duration + 0.99)
        events.append(played(video, start, end, minute=minute))
    events.append(played(video, duration + 0.2, duration + 0.8, minute=151))  # after the end: adds nothing
    rng.shuffle(events)
    expected: list[list[float]] = []
    for event in events:
        end = min(event["to"], duration)  # the server clips segments to the duration
        if end > event["from"]:
            expected = merge(expected, event["from"], end)

    while events:  # batches of 1 to 30 events, in a random order
        size = rng.randint(1, 30)
        batch, events = events[:size], events[size:]
        response = send(client, learner, batch)
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == len(batch)

    assert stored_segments(settings, video) == expected
    state = progress_of(client, learner, video)
    assert state["watched_seconds"] == round(watched(expected), 3)
    assert 0 < state["watched_seconds"] <= duration


def test_a_batch_returns_each_changed_lesson_as_it_now_stands(
    client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    video, text = course["video"], course["text"]
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": text, "client_time": "2026-11-20T09:00:00Z"}
    send(client, learner, [played(video, 0, 10), position(video, 10, 1)])
    response = send(client, learner, [played(video, 5, 20, minute=2), position(video, 8, 0), done])
    assert response.status_code == 200
    lessons = {lesson["lesson_id"]: lesson for lesson in response.json()["lessons"]}
    assert set(lessons) == {video, text}
    assert lessons[video]["watched_seconds"] == 20.0
    assert lessons[video]["position_seconds"] == 10  # the heartbeat sent at minute 0 is older than minute 1
    assert lessons[text]["completed"] is True
    assert lessons == {lesson: progress_of(client, learner, lesson) for lesson in (video, text)}


def test_every_problem_of_an_invalid_batch_is_named(
    client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    video = course["video"]
    batch = [
        played(video, 0, 5),
        position(video, -3, 1),  # wrong whatever the lesson
        played(str(uuid.uuid4()), 0, 5),  # no such lesson
        played(video, 0, course["duration"] + 60),  # after the end of this lesson
    ]
    response = send(client, learner, batch)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["key"] for error in response.json()["errors"]] == ["events[1]", "events[2]", "events[3]"]
    assert progress_of(client, learner, video)["watched_seconds"] == 0.0


async def _wait_for_lock_waiters(connection: asyncpg.Connection, count: int) -> None:
    deadline = time.monotonic() + 30
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while await connection.fetchval(query) < count:
        assert time.monotonic() < deadline, "the request never waited for the concurrent event"
        await asyncio.sleep(0.02)
        await connection.execute("SELECT pg_stat_clear_snapshot()")


async def _race(settings: Settings, base: str, account: Account, event: dict[str, Any], batch: list[Any]) -> Any:
    """Store ``event`` in a transaction left open until ``batch``'s request waits for it, then commit."""
    connection = await asyncpg.connect(libpq(settings.require_database_url()))
    try:
        user_id = await connection.fetchval("SELECT id FROM user_account WHERE email = $1", account.email)
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "INSERT INTO progress_event (id, user_id, lesson_id, kind, client_time, start_seconds, end_seconds) "
            "VALUES ($1, $2, $3, 'played', $4, $5, $6)",
            uuid.UUID(event["id"]), user_id, uuid.UUID(event["lesson_id"]),
            datetime.fromisoformat(event["client_time"]), event["from"], event["to"],
        )  # fmt: skip
        async with httpx.AsyncClient(base_url=base, headers=account.headers, timeout=30) as http:
            request = asyncio.create_task(http.post("/api/v1/me/progress/events", json={"events": batch}))
            await _wait_for_lock_waiters(connection, 1)
            await transaction.commit()
            return await request
    finally:
        await connection.close()


@pytest.mark.parametrize("same_content", [True, False])
def test_an_event_stored_meanwhile_by_another_request_is_a_replay_or_a_conflict(
    settings: Settings, course: dict[str, Any], same_content: bool
) -> None:
    video = course["video"]
    with live_server(create_app(settings)) as base, TestClient(app=create_app(settings)) as client:
        account = register(client)
        enroll(client, account)
        first, second = played(video, 0, 5), played(video, 5, 9, minute=1)
        stored = first if same_content else dict(first, to=6)
        response = asyncio.run(_race(settings, base, account, stored, [first, second]))
        state = progress_of(client, account, video)
    if same_content:
        # The batch's statement did not see the event when it began, then found it stored: it ran again.
        assert response.status_code == 200, response.text
        assert (response.json()["applied"], response.json()["replayed"]) == (1, 1)
        assert state["watched_seconds"] == 4.0  # only ``second``: the other request applies ``first``
    else:
        assert response.status_code == 409, response.text
        assert state["watched_seconds"] == 0.0
        ids = [uuid.UUID(second["id"])]
        url = settings.require_database_url()
        assert sql(url, "SELECT count(*) AS n FROM progress_event WHERE id = ANY($1::uuid[])", ids)[0]["n"] == 0
