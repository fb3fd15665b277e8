"""Every error is RFC 9457 application/problem+json; bad input is a 4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.helpers.accounts import LONG_WINDOW, PASSWORD, Account, register

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body.get("type", "about:blank") == "about:blank"
    return body


def test_malformed_json_is_400(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/login", content=b'{"email": "a@b.fr", ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


def test_invalid_utf8_body_is_400(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/register",
        content=b'{"email": "\xff\xfe@example.org", "password": "x"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400)


def test_wrong_content_type_is_415(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/login",
        content=b"email=a%40b.fr&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.org", "password": PASSWORD, "role": "admin"},
        {"email": 42, "password": PASSWORD},
        {"email": "a@example.org"},
        [1, 2, 3],
        "chaîne",
        None,
    ],
)
def test_body_that_does_not_match_the_schema_is_422(client: TestClient[Any], body: Any) -> None:
    response = client.post(
        "/api/v1/auth/register", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    body_problem = assert_problem(response, 422)
    assert body_problem["errors"]


def test_unknown_field_cannot_grant_admin(client: TestClient[Any]) -> None:
    client.post("/api/v1/auth/register", json={"email": "x@example.org", "password": PASSWORD, "role": "admin"})
    assert client.post("/api/v1/auth/login", json={"email": "x@example.org", "password": PASSWORD}).status_code == 401


def test_huge_body_is_413(make_client: Any) -> None:
    client = make_client(max_request_body_bytes=4096)
    payload = b'{"email": "' + b"a" * 100_000 + b'@example.org", "password": "x"}'
    assert_problem(
        client.post("/api/v1/auth/register", content=payload, headers={"content-type": "application/json"}),
        413,
    )


def test_nul_characters_are_a_4xx(client: TestClient[Any]) -> None:
    response = client.post("/api/v1/auth/register", json={"email": "a\u0000b@example.org", "password": PASSWORD})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM
    login = client.post("/api/v1/auth/login", json={"email": "a\u0000b@example.org", "password": "x\u0000"})
    assert 400 <= login.status_code < 500


def test_unknown_route_is_404(client: TestClient[Any]) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_path_parameter_type_is_404(client: TestClient[Any], admin: Account) -> None:
    assert_problem(client.get("/api/v1/admin/users/not-a-uuid", headers=admin.headers), 404)


def test_wrong_query_parameter_type_is_400(client: TestClient[Any], admin: Account) -> None:
    body = assert_problem(client.get("/api/v1/admin/users?limit=beaucoup", headers=admin.headers), 400)
    assert body["errors"]
    assert_problem(client.get("/api/v1/admin/users?limit=100000", headers=admin.headers), 400)


def test_wrong_method_is_405(client: TestClient[Any]) -> None:
    response = client.delete("/api/v1/auth/login")
    assert_problem(response, 405)


def test_status_codes_of_the_account_flows_are_problems(client: TestClient[Any], learner: Account) -> None:
    assert_problem(client.get("/api/v1/me"), 401)
    assert_problem(client.get("/api/v1/admin/users", headers=learner.headers), 403)
    assert_problem(client.post("/api/v1/auth/register", json={"email": learner.email, "password": PASSWORD}), 409)
    assert_problem(client.post("/api/v1/auth/register", json={"email": "n@example.org", "password": "court"}), 422)


def test_rate_limited_login_is_a_429_problem(make_client: Any) -> None:
    client = make_client(login_ip_limit=1, login_window_seconds=LONG_WINDOW)
    register(client, "limite@example.org")
    client.post("/api/v1/auth/login", json={"email": "limite@example.org", "password": PASSWORD})
    body = assert_problem(
        client.post("/api/v1/auth/login", json={"email": "limite@example.org", "password": PASSWORD}), 429
    )
    assert body["detail"]


def test_every_json_body_route_refuses_other_content_types(client: TestClient[Any]) -> None:
    from litestar.routes import HTTPRoute

    from learning.lib.guards import requires_json_body, takes_json_body

    checked = 0
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if takes_json_body(handler):
                checked += 1
                assert requires_json_body in handler.resolve_guards(), (route.path, handler.http_methods)
    assert checked >= 10
