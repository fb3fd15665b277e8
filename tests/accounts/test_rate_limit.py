"""Login attempts are limited per client IP and failed logins per account, across app processes."""

from __future__ import annotations

from typing import Any

from tests.helpers.accounts import PASSWORD, register


def test_failed_logins_lock_the_account_with_retry_after(make_client: Any) -> None:
    client = make_client(login_account_limit=3, login_ip_limit=100, login_window_seconds=600)
    register(client, "cible@example.org")
    for _ in range(3):
        response = client.post("/api/v1/auth/login", json={"email": "cible@example.org", "password": "essai raté 1"})
        assert response.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"email": "cible@example.org", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 0 < int(blocked.headers["retry-after"]) <= 600


def test_attempts_per_ip_are_limited(make_client: Any) -> None:
    client = make_client(login_ip_limit=4, login_account_limit=100, login_window_seconds=600)
    statuses = [
        client.post("/api/v1/auth/login", json={"email": f"x{i}@example.org", "password": "nimporte quoi"}).status_code
        for i in range(6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_the_limit_holds_across_two_app_processes(make_client: Any) -> None:
    # Two independent apps (own engine, own event loop) stand for two processes behind a load balancer.
    first = make_client(login_account_limit=4, login_ip_limit=100, login_window_seconds=600)
    second = make_client(login_account_limit=4, login_ip_limit=100, login_window_seconds=600)
    register(first, "partage@example.org")
    for client in [first, second, first, second]:
        response = client.post("/api/v1/auth/login", json={"email": "partage@example.org", "password": "raté encore"})
        assert response.status_code == 401
    assert (
        second.post("/api/v1/auth/login", json={"email": "partage@example.org", "password": PASSWORD}).status_code
        == 429
    )
    assert (
        first.post("/api/v1/auth/login", json={"email": "partage@example.org", "password": PASSWORD}).status_code == 429
    )


def test_successful_login_is_not_blocked_below_the_limit(make_client: Any) -> None:
    client = make_client(login_account_limit=3, login_ip_limit=100, login_window_seconds=600)
    register(client, "presque@example.org")
    for _ in range(2):
        client.post("/api/v1/auth/login", json={"email": "presque@example.org", "password": "pas le bon"})
    assert (
        client.post("/api/v1/auth/login", json={"email": "presque@example.org", "password": PASSWORD}).status_code
        == 200
    )
