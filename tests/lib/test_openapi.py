"""The OpenAPI document is served, documents the problem responses of every operation, and states the
constraints the server enforces (each checked against the server's answers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.accounts.schemas import MAX_PASSWORD_LENGTH
from learning.app import create_app
from learning.catalog.services import MAX_QUERY_LENGTH, QUERY_PATTERN
from learning.config import Settings
from learning.lib.errors import PROBLEM_JSON
from tests.helpers.accounts import Account
from tests.helpers.database import make_settings
from tests.helpers.progress import enroll, played, position, send, synced_course


def test_openapi_document_documents_problem_responses(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete", "head"}
    ]
    assert len(operations) >= 9
    for path, method, operation in operations:
        assert operation.get("operationId"), (method, path)
        for status, spec in operation["responses"].items():
            if int(status) >= 400:
                assert list(spec["content"]) == ["application/problem+json"], (method, path, status)
    register = document["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"409", "415", "422"} <= set(register)
    admin_get = document["paths"]["/api/v1/admin/users/{user_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(admin_get)


# --- the constraints the server enforces, stated by the document ---------------------------------------------
def _component(document: dict[str, Any], name: str) -> dict[str, Any]:
    component: dict[str, Any] = document["components"]["schemas"][name]
    return component


def _password(length: int) -> str:
    return ("une phrase de passe assez longue, " * 40)[:length]


def test_the_password_policy_length_is_documented_and_enforced(client: TestClient[Any], settings: Settings) -> None:
    document = client.get("/schema/openapi.json").json()
    new_passwords = [
        _component(document, "RegisterRequest")["properties"]["password"],
        _component(document, "PasswordChange")["properties"]["new_password"],
    ]
    for schema in new_passwords:
        assert (schema["minLength"], schema["maxLength"]) == (settings.password_min_length, MAX_PASSWORD_LENGTH)
    shortest, longest = new_passwords[0]["minLength"], new_passwords[0]["maxLength"]
    for number, (length, status) in enumerate(
        [(shortest - 1, 422), (shortest, 201), (longest, 201), (longest + 1, 422)]
    ):
        body = {"email": f"longueur{number}@example.org", "password": _password(length)}
        response = client.post("/api/v1/auth/register", json=body)
        assert response.status_code == status, (length, response.text)
        assert response.headers["content-type"].startswith("application/json" if status == 201 else PROBLEM_JSON)


def test_the_documented_password_minimum_is_the_configured_one(database_url: str, tmp_path: Path) -> None:
    configured = make_settings(database_url, tmp_path, password_min_length=23)
    document = create_app(configured).openapi_schema.to_schema()
    assert _component(document, "RegisterRequest")["properties"]["password"]["minLength"] == 23
    assert _component(document, "PasswordChange")["properties"]["new_password"]["minLength"] == 23
    # Checking a password against its hash takes any length the policy once allowed.
    assert _component(document, "LoginRequest")["properties"]["password"]["minLength"] == 1


def test_played_segments_and_positions_are_documented_non_negative_and_refused_below_zero(
    client: TestClient[Any], settings: Settings, learner: Account
) -> None:
    event = _component(client.get("/schema/openapi.json").json(), "EventIn")["properties"]
    assert event["from"]["minimum"] == event["to"]["minimum"] == event["position"]["minimum"] == 0
    assert "before `to`" in event["from"]["description"]
    course = synced_course(settings)
    enroll(client, learner)
    video = course["video"]
    below = [played(video, -0.5, 1), played(video, 0, -1), position(video, -0.5, 1)]
    response = send(client, learner, [played(video, 0, 1), *below])
    assert response.status_code == 422
    assert [error["key"] for error in response.json()["errors"]] == ["events[1]", "events[2]", "events[3]"]
    assert send(client, learner, [played(video, 0, 1), position(video, 0, 1)]).status_code == 200


@pytest.mark.parametrize("q", ["alliances", "  élus locaux ", "\u3000territoires", "\ufeff", "🙂"])
def test_search_words_the_document_accepts_are_searched(client: TestClient[Any], q: str) -> None:
    parameter = _search_q(client)
    assert re.fullmatch(parameter["pattern"], q)
    assert client.get("/api/v1/search", params={"q": q}).status_code == 200


@pytest.mark.parametrize("q", ["", "   ", "\u3000", "a\tb", "a\n", "élus\u0000", "élus\u007f", "a\u0085", "x" * 201])
def test_search_words_the_document_refuses_are_400(client: TestClient[Any], q: str) -> None:
    parameter = _search_q(client)
    assert not re.fullmatch(parameter["pattern"], q) or len(q) > parameter["maxLength"]
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


def _search_q(client: TestClient[Any]) -> dict[str, Any]:
    operation = client.get("/schema/openapi.json").json()["paths"]["/api/v1/search"]["get"]
    schema: dict[str, Any] = next(p for p in operation["parameters"] if p["name"] == "q")["schema"]
    assert (schema["pattern"], schema["maxLength"]) == (QUERY_PATTERN, MAX_QUERY_LENGTH)
    return schema


def test_publication_bodies_are_one_shape_per_state(client: TestClient[Any], admin: Account) -> None:
    document = client.get("/schema/openapi.json").json()
    path = "/api/v1/admin/modules/{slug}/publication"
    body = document["paths"][path]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["discriminator"]["propertyName"] == "state"
    mapping = body["discriminator"]["mapping"]
    assert set(mapping) == {"draft", "published", "scheduled"}
    assert sorted(arm["$ref"] for arm in body["oneOf"]) == sorted(mapping.values())
    shapes = {state: _component(document, ref.rsplit("/", 1)[1]) for state, ref in mapping.items()}
    assert "publish_at" in shapes["scheduled"]["required"]
    for state in ("draft", "published"):
        assert set(shapes[state]["properties"]) == {"state"}
        assert shapes[state]["additionalProperties"] is False

    client.post("/api/v1/admin/modules", json={"slug": "brouillon", "title": "Brouillon"}, headers=admin.headers)
    url = path.format(slug="brouillon")
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    for change, status in [
        ({"state": "scheduled"}, 422),
        ({"state": "draft", "publish_at": later}, 422),
        ({"state": "published", "publish_at": later}, 422),
        ({"state": "scheduled", "publish_at": later}, 200),
        ({"state": "draft"}, 200),
        ({"state": "published"}, 200),
    ]:
        response = client.put(url, json=change, headers=admin.headers)
        assert response.status_code == status, (change, response.text)
        if status == 200:
            assert response.json()["state"] == change["state"]
