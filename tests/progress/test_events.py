"""Progress events: idempotent, order-free, safe under concurrency; completion never goes back."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import Account, login, register
from tests.helpers.live import live_server
from tests.helpers.progress import MODULE, T0, enroll, played, position, progress_of, send


def test_a_replayed_batch_changes_nothing(client: TestClient[Any], learner: Account, course: dict[str, Any]) -> None:
    enroll(client, learner)
    batch = [played(course["video"], 0, 5), position(course["video"], 5, 1)]
    first = send(client, learner, batch)
    assert first.status_code == 200
    assert (first.json()["applied"], first.json()["replayed"]) == (2, 0)
    again = send(client, learner, batch)
    assert (again.json()["applied"], again.json()["replayed"]) == (0, 2)
    assert progress_of(client, learner, course["video"])["watched_seconds"] == 5.0


def test_an_id_reused_with_other_content_is_409_and_nothing_applies(
    client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    event = played(course["video"], 0, 5)
    send(client, learner, [event])
    changed = dict(event, to=8)
    response = send(client, learner, [played(course["video"], 10, 12), changed])
    assert response.status_code == 409
    assert progress_of(client, learner, course["video"])["watched_seconds"] == 5.0


def test_the_same_events_in_any_order_give_the_same_state(
    client: TestClient[Any], learner: Account, other_learner: Account, course: dict[str, Any]
) -> None:
    video = course["video"]
    events = [played(video, s, s + 3, minute=s) for s in range(0, 18, 2)] + [
        position(video, 7, 30), position(video, 12, 10), position(video, 3, 5),
    ]  # fmt: skip
    shuffled = [dict(e, id=str(uuid.uuid4())) for e in events]
    random.Random(7).shuffle(shuffled)
    for account, batch in [(learner, events), (other_learner, shuffled)]:
        enroll(client, account)
        for event in batch:  # one at a time: the most out-of-order delivery
            assert send(client, account, [event]).status_code == 200
    first, second = progress_of(client, learner, video), progress_of(client, other_learner, video)
    assert first == second
    assert first["watched_seconds"] == 19.0  # the union of [0,3], [2,5], …, [16,19]
    assert first["position_seconds"] == 7  # the latest client time wins, not the last received


def test_completion_is_decided_by_coverage_and_never_regresses(
    client: TestClient[Any], learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    video, duration = course["video"], course["duration"]
    send(client, learner, [played(video, 0, duration * 0.5)])
    assert progress_of(client, learner, video)["completed"] is False
    send(client, learner, [played(video, duration * 0.45, duration * 0.95)])
    assert progress_of(client, learner, video)["completed"] is True
    send(client, learner, [position(video, 1, 99)])
    state = progress_of(client, learner, video)
    assert state["completed"] is True
    assert state["coverage_percent"] == 95.0


def test_text_lessons_are_marked_done(client: TestClient[Any], learner: Account, course: dict[str, Any]) -> None:
    enroll(client, learner)
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": course["text"], "client_time": T0.isoformat()}
    assert send(client, learner, [done]).status_code == 200
    assert progress_of(client, learner, course["text"])["completed"] is True
    on_video = dict(done, id=str(uuid.uuid4()), lesson_id=course["video"])
    assert send(client, learner, [on_video]).status_code == 422


def test_resume_rules(client: TestClient[Any], learner: Account, course: dict[str, Any]) -> None:
    enroll(client, learner)
    video, duration = course["video"], course["duration"]
    send(client, learner, [position(video, duration * 0.5, 1)])
    assert progress_of(client, learner, video)["resume_at_seconds"] == duration * 0.5
    send(client, learner, [position(video, duration * 0.02, 2)])
    state = progress_of(client, learner, video)
    assert (state["resume_at_seconds"], state["go_to_next"]) == (0, False)  # barely started: from the start
    send(client, learner, [position(video, duration * 0.98, 3)])
    state = progress_of(client, learner, video)
    assert (state["resume_at_seconds"], state["go_to_next"]) == (0, True)  # nearly done: the next lesson


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "position", "position": -1},
        {"type": "position", "position": 10_000},
        {"type": "played", "from": 5, "to": 2},
        {"type": "played", "from": -1, "to": 2},
        {"type": "played", "from": 1},
        {"type": "played", "from": 0, "to": 10_000},
    ],
)
def test_invalid_events_reject_the_whole_batch(
    client: TestClient[Any], learner: Account, course: dict[str, Any], bad: dict[str, Any]
) -> None:
    enroll(client, learner)
    event = {"id": str(uuid.uuid4()), "lesson_id": course["video"], "client_time": T0.isoformat(), **bad}
    response = send(client, learner, [played(course["video"], 0, 5), event])
    assert response.status_code == 422
    assert response.json()["errors"]
    assert progress_of(client, learner, course["video"])["watched_seconds"] == 0.0


def test_a_learner_cannot_write_or_read_another_learners_progress(
    client: TestClient[Any], learner: Account, other_learner: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    assert send(client, other_learner, [played(course["video"], 0, 5)]).status_code == 403  # not enrolled
    send(client, learner, [played(course["video"], 0, 5)])
    assert progress_of(client, other_learner, course["video"])["watched_seconds"] == 0.0
    assert (
        client.post("/api/v1/me/progress/events", json={"events": [played(course["video"], 0, 1)]}).status_code == 401
    )
    assert client.get(f"/api/v1/me/progress/lessons/{course['video']}").status_code == 401


def test_two_hundred_concurrent_clients_lose_nothing(settings: Settings, course: dict[str, Any]) -> None:
    video, duration = course["video"], course["duration"]
    with live_server(create_app(settings)) as base, TestClient(app=create_app(settings)) as client:
        account = register(client, "concurrence@example.org")
        enroll(client, account)
        segments = [(i * duration / 200, (i + 1.5) * duration / 200) for i in range(200)]

        async def post(http: httpx.AsyncClient, batch: dict[str, Any]) -> int:
            """As a player does: a 503 (the pool busy past its bound on a loaded machine) is sent again after its
            Retry-After, the same events (same ids), a bounded number of times."""
            for _ in range(10):
                response = await http.post("/api/v1/me/progress/events", json=batch)
                if response.status_code != 503:
                    return response.status_code
                await asyncio.sleep(float(response.headers["retry-after"]))
            return response.status_code

        async def hammer() -> list[int]:
            async with httpx.AsyncClient(base_url=base, headers=account.headers, timeout=60) as http:
                batches = [{"events": [played(video, s, min(e, duration), i)]} for i, (s, e) in enumerate(segments)]
                return list(await asyncio.gather(*[post(http, batch) for batch in batches]))

        statuses = asyncio.run(hammer())
        assert statuses == [200] * 200
        state = progress_of(client, login(client, account.email), video)
    assert state["watched_seconds"] == pytest.approx(duration, abs=1e-6)  # the union covers everything
    assert state["completed"] is True


def test_module_progress_and_overview(client: TestClient[Any], learner: Account, course: dict[str, Any]) -> None:
    enroll(client, learner)
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": course["text"], "client_time": T0.isoformat()}
    send(client, learner, [done, played(course["video"], 0, 3)])
    module = client.get(f"/api/v1/me/progress/modules/{MODULE}", headers=learner.headers).json()
    states = {lesson["lesson_id"]: lesson["status"] for lesson in module["lessons"]}
    assert states[course["text"]] == "completed"
    assert states[course["video"]] == "in_progress"
    assert list(states.values()).count("not_started") == len(states) - 2
    assert module["percent_complete"] == round(100 / len(states), 1)
    assert module["enrolled"] is True
    assert module["next_lesson"] == module["lessons"][1]["slug"]  # the first lesson (text) is done
    overview = client.get("/api/v1/me/progress", headers=learner.headers).json()
    assert [(o["module"], o["percent_complete"]) for o in overview] == [(MODULE, module["percent_complete"])]
    assert client.get("/api/v1/me/progress/modules/inconnu", headers=learner.headers).status_code == 404


def test_admin_analytics_per_module(
    client: TestClient[Any], learner: Account, other_learner: Account, admin: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    enroll(client, other_learner)
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": course["text"], "client_time": T0.isoformat()}
    send(client, learner, [done])
    assert client.get("/api/v1/admin/analytics/modules", headers=learner.headers).status_code == 403
    figures = {f["module"]: f for f in client.get("/api/v1/admin/analytics/modules", headers=admin.headers).json()}
    module = figures[MODULE]
    assert (module["enrolled"], module["started"], module["completed"]) == (2, 1, 0)
    lessons = len(client.get(f"/api/v1/modules/{MODULE}").json()["lessons"])
    assert module["median_completion_percent"] == round((100 / lessons + 0) / 2, 1)
    assert figures["passer-a-l-action"]["enrolled"] == 0
