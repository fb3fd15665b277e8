"""Login attempts are limited per client IP and failed logins per account, across app processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from learning.lib.ratelimit import Refusals
from tests.helpers.accounts import LONG_REGISTER_WINDOW, LONG_WINDOW, PASSWORD, register
from tests.helpers.locks import table_locked


def test_failed_logins_lock_the_account_with_retry_after(make_client: Any) -> None:
    client = make_client(login_account_limit=3, login_ip_limit=100, login_window_seconds=LONG_WINDOW)
    register(client, "cible@example.org")
    for _ in range(3):
        response = client.post("/api/v1/auth/login", json={"email": "cible@example.org", "password": "essai raté 1"})
        assert response.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"email": "cible@example.org", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 0 < int(blocked.headers["retry-after"]) <= LONG_WINDOW


def test_attempts_per_ip_are_limited(make_client: Any) -> None:
    client = make_client(login_ip_limit=4, login_account_limit=100, login_window_seconds=LONG_WINDOW)
    statuses = [
        client.post("/api/v1/auth/login", json={"email": f"x{i}@example.org", "password": "nimporte quoi"}).status_code
        for i in range(6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_the_limit_holds_across_two_app_processes(make_client: Any) -> None:
    # Two independent apps (own engine, own event loop) stand for two processes behind a load balancer.
    first = make_client(login_account_limit=4, login_ip_limit=100, login_window_seconds=LONG_WINDOW)
    second = make_client(login_account_limit=4, login_ip_limit=100, login_window_seconds=LONG_WINDOW)
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
    client = make_client(login_account_limit=3, login_ip_limit=100, login_window_seconds=LONG_WINDOW)
    register(client, "presque@example.org")
    for _ in range(2):
        client.post("/api/v1/auth/login", json={"email": "presque@example.org", "password": "pas le bon"})
    assert (
        client.post("/api/v1/auth/login", json={"email": "presque@example.org", "password": PASSWORD}).status_code
        == 200
    )


def test_a_refused_client_is_answered_without_the_database_until_its_window_ends(
    make_client: Any, clean_database: str
) -> None:
    # One client hammering one key must not queue on that key's counter row: once PostgreSQL said "over until
    # T", this process answers 429 by itself. Shown with the counters locked by another connection: a query
    # would wait and time out (503); the remembered refusal does not wait.
    client = make_client(register_ip_limit=1, register_window_seconds=LONG_REGISTER_WINDOW, database_lock_timeout_ms=50)
    body = {"email": "premier@example.org", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    first_refusal = client.post("/api/v1/auth/register", json={**body, "email": "second@example.org"})
    assert first_refusal.status_code == 429
    with table_locked(clean_database, "rate_limit_counter"):
        again = client.post("/api/v1/auth/register", json={**body, "email": "troisieme@example.org"})
    assert again.status_code == 429, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert 0 < int(again.headers["retry-after"]) <= int(first_refusal.headers["retry-after"])
    unread = client.post("/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"})
    assert unread.status_code == 429  # refused before its body is even read
    # The database still decides first: another process (another app) refuses the same client from the counter.
    other = make_client(register_ip_limit=1, register_window_seconds=LONG_REGISTER_WINDOW)
    assert other.post("/api/v1/auth/register", json={**body, "email": "ailleurs@example.org"}).status_code == 429


def test_remembered_refusals_end_with_their_window_and_stay_bounded() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    refusals = Refusals(max_entries=3)
    refusals.refuse("a", now + timedelta(seconds=30), now)
    assert refusals.retry_after("a", now) == 30
    assert refusals.retry_after("a", now + timedelta(seconds=29.5)) == 1
    assert refusals.retry_after("a", now + timedelta(seconds=30)) is None  # the window ended: ask the database
    assert refusals.retry_after("never", now) is None
    for index in range(10):
        refusals.refuse(f"k{index}", now + timedelta(seconds=60), now)
    assert len(refusals) == 3
    assert refusals.retry_after("k9", now) == 60  # the newest are kept, the oldest forgotten
    assert refusals.retry_after("k0", now) is None
