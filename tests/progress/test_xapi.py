"""xAPI export: every statement is valid for an independent validator (ralph's models), ids are stable,
and the enrollment's registration is in each context."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.video.statements import VideoCompleted, VideoPaused, VideoPlayed

from tests.helpers.accounts import Account
from tests.helpers.progress import T0, enroll, played, send

VALIDATORS = {
    "https://w3id.org/xapi/video/verbs/played": VideoPlayed,
    "https://w3id.org/xapi/video/verbs/paused": VideoPaused,
}


def _validate(statement: dict[str, Any]) -> None:
    verb = statement["verb"]["id"]
    kind = statement["object"]["definition"]["type"]
    if verb in VALIDATORS:
        VALIDATORS[verb](**statement)
    elif verb.endswith("/completed") and kind == "https://w3id.org/xapi/video/activity-type/video":
        VideoCompleted(**statement)
    else:
        BaseXapiStatement(**statement)


def _export(client: TestClient[Any], account: Account) -> list[dict[str, Any]]:
    response = client.get("/api/v1/me/xapi/statements", headers=account.headers)
    assert response.status_code == 200, response.text
    statements: list[dict[str, Any]] = response.json()["statements"]
    return statements


def test_statements_are_valid_stable_and_carry_the_registration(
    client: TestClient[Any],
    learner: Account,
    course: dict[str, Any],
) -> None:
    enroll(client, learner)
    registration = client.get("/api/v1/me/enrollments", headers=learner.headers).json()[0]["registration"]
    video, duration = course["video"], course["duration"]
    done = {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": course["text"], "client_time": T0.isoformat()}
    send(client, learner, [played(video, 0, duration * 0.6, 1), played(video, duration * 0.5, duration, 2), done])
    statements = _export(client, learner)
    verbs = [s["verb"]["display"]["en-US"] for s in statements]
    assert verbs.count("played") == 2
    assert verbs.count("paused") == 2
    assert verbs.count("completed") == 2  # the video (by coverage) and the text lesson
    assert verbs.count("progressed") == 1  # the module, partly done
    for statement in statements:
        _validate(statement)
        assert statement["context"]["registration"] == registration
        assert statement["actor"]["account"]["name"]
    last_pause = [s for s in statements if s["verb"]["display"]["en-US"] == "paused"][-1]
    assert last_pause["result"]["extensions"]["https://w3id.org/xapi/video/extensions/progress"] == 1.0
    assert _export(client, learner) == statements  # exporting again: the same statements, the same ids


def test_no_enrollment_no_statements_and_anonymous_is_401(client: TestClient[Any], learner: Account) -> None:
    assert _export(client, learner) == []
    assert client.get("/api/v1/me/xapi/statements").status_code == 401


@pytest.mark.parametrize("verb", ["played", "paused"])
def test_video_statements_name_the_profile(
    client: TestClient[Any],
    learner: Account,
    course: dict[str, Any],
    verb: str,
) -> None:
    enroll(client, learner)
    send(client, learner, [played(course["video"], 1, 4, 3)])
    statement = next(s for s in _export(client, learner) if s["verb"]["display"]["en-US"] == verb)
    category = statement["context"]["contextActivities"]["category"][0]["id"]
    assert category == "https://w3id.org/xapi/video"
    assert statement["context"]["extensions"]["https://w3id.org/xapi/video/extensions/length"] == float(
        course["duration"]
    )


def test_an_admin_exports_a_learners_statements_and_a_learner_cannot(
    client: TestClient[Any], learner: Account, other_learner: Account, admin: Account, course: dict[str, Any]
) -> None:
    enroll(client, learner)
    send(client, learner, [played(course["video"], 0, 5, 1)])
    learner_id = client.get("/api/v1/me", headers=learner.headers).json()["id"]
    path = f"/api/v1/admin/users/{learner_id}/xapi/statements"
    as_admin = client.get(path, headers=admin.headers)
    assert as_admin.status_code == 200
    assert as_admin.json()["statements"] == _export(client, learner)
    assert client.get(path, headers=other_learner.headers).status_code == 403
    unknown = "/api/v1/admin/users/00000000-0000-0000-0000-000000000000/xapi/statements"
    assert client.get(unknown, headers=admin.headers).status_code == 404
