"""Register, log in, read /me, change the password; what happens to tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar.testing import TestClient

from tests.helpers.accounts import PASSWORD, Account, login, register


def test_register_normalises_email_and_hides_the_password_hash(client: TestClient[Any]) -> None:
    response = client.post("/api/v1/auth/register", json={"email": "  Élise.Martin@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "élise.martin@example.org"
    assert body["role"] == "learner"
    assert "password" not in response.text
    assert "argon2" not in response.text


def test_register_twice_with_the_same_email_conflicts(client: TestClient[Any]) -> None:
    register(client, "camille@example.org")
    response = client.post("/api/v1/auth/register", json={"email": "CAMILLE@example.org", "password": PASSWORD})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_register_refuses_short_common_or_email_passwords(client: TestClient[Any]) -> None:
    for password in ["court", "motdepasse123", "azertyuiop", "aaaaaaaaaaaa", "louise.dupont"]:
        response = client.post(
            "/api/v1/auth/register", json={"email": "louise.dupont@example.org", "password": password}
        )
        assert response.status_code == 422, password
        assert response.json()["status"] == 422


def test_register_refuses_an_invalid_email(client: TestClient[Any]) -> None:
    response = client.post("/api/v1/auth/register", json={"email": "pas-une-adresse", "password": PASSWORD})
    assert response.status_code == 422


def test_login_returns_a_bearer_token_with_expiry(client: TestClient[Any]) -> None:
    register(client, "jeanne@example.org")
    response = client.post("/api/v1/auth/login", json={"email": "Jeanne@example.org", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 24 * 3600
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=1)


def test_me_returns_the_signed_in_account(client: TestClient[Any], learner: Account) -> None:
    response = client.get("/api/v1/me", headers=learner.headers)
    assert response.status_code == 200
    assert response.json()["email"] == learner.email


def test_wrong_password_is_401_without_saying_which_part_was_wrong(client: TestClient[Any]) -> None:
    register(client, "paul@example.org")
    wrong = client.post("/api/v1/auth/login", json={"email": "paul@example.org", "password": "mauvais mot de passe"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_anonymous_request_to_me_is_401(client: TestClient[Any]) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_password_change_invalidates_older_tokens(client: TestClient[Any], learner: Account) -> None:
    new_password = "une toute nouvelle phrase secrète"
    response = client.put(
        "/api/v1/me/password",
        json={"current_password": learner.password, "new_password": new_password},
        headers=learner.headers,
    )
    assert response.status_code == 200
    fresh = response.json()["access_token"]
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}).status_code == 401
    assert login(client, learner.email, new_password).token


def test_password_change_needs_the_current_password(client: TestClient[Any], learner: Account) -> None:
    response = client.put(
        "/api/v1/me/password",
        json={"current_password": "pas le bon mot de passe", "new_password": "une autre phrase secrète"},
        headers=learner.headers,
    )
    assert response.status_code == 401
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 200


def test_expired_token_is_401(client: TestClient[Any], learner: Account) -> None:
    claims = jwt.decode(learner.token, options={"verify_signature": False})
    claims["exp"] = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    secret = client.app.state.settings.signing_key()
    expired = jwt.encode(claims, secret, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_tampered_token_is_401(client: TestClient[Any], learner: Account, admin: Account) -> None:
    header, payload, signature = learner.token.split(".")
    admin_payload = admin.token.split(".")[1]
    for forged in [
        f"{header}.{admin_payload}.{signature}",
        f"{header}.{payload}.{signature[:-2]}xx",
        "garbage",
    ]:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    resigned = jwt.encode(jwt.decode(learner.token, options={"verify_signature": False}), "a-wrong-key-" * 4, "HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {resigned}"}).status_code == 401


def test_token_of_a_deleted_user_is_401(client: TestClient[Any], learner: Account, admin: Account) -> None:
    user_id = client.get("/api/v1/me", headers=learner.headers).json()["id"]
    assert client.delete(f"/api/v1/admin/users/{user_id}", headers=admin.headers).status_code == 204
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 401


def test_learner_on_an_admin_route_is_403(client: TestClient[Any], learner: Account) -> None:
    response = client.get("/api/v1/admin/users", headers=learner.headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_anonymous_on_an_admin_route_is_401(client: TestClient[Any]) -> None:
    assert client.get("/api/v1/admin/users").status_code == 401


def test_admin_lists_accounts_with_a_total(client: TestClient[Any], admin: Account, learner: Account) -> None:
    response = client.get("/api/v1/admin/users?limit=1", headers=admin.headers)
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert "password_hash" not in response.text


def test_create_admin_promotes_an_existing_account(client: TestClient[Any], settings: Any) -> None:
    from learning.admin.commands import create_admin

    account = register(client, "futur.admin@example.org")
    assert client.get("/api/v1/admin/users", headers=account.headers).status_code == 403
    asyncio.run(create_admin(settings, email="Futur.Admin@example.org", password="ignored"))
    assert client.get("/api/v1/admin/users", headers=account.headers).status_code == 200
