"""Issue 17, accounts: no one client degrades sign-in for others, and signing out really signs out.

Each test reproduces an observation of the issue (« Why ») and failed on the code as it was: a web sign-out
that left the token valid, an account anyone could lock, unthrottled registrations and password checks,
argon2 memory growing with concurrent sign-ups, a deletable last admin, and ``X-Forwarded-For`` trusted or
not depending on the server and its worker count.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from learning.accounts.auth import SESSION_COOKIE
from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import LONG_REGISTER_WINDOW, LONG_WINDOW, PASSWORD, Account, login, register
from tests.helpers.cli import clean_environment, learning_command
from tests.helpers.live import free_port, live_server
from tests.web.conftest import csrf_token, sign_up

NEW_PASSWORD = "une toute nouvelle phrase secrète"


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _refused_soon(client: TestClient[Any], token: str) -> None:
    """Poll (bounded) until ``client`` refuses ``token``: another process hears the change a moment later."""
    deadline = time.monotonic() + 10
    while client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code != 401:
        assert time.monotonic() < deadline, "the token still works in the other process"
        time.sleep(0.05)  # polling interval, not a timing assertion


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- sign-out revokes (Build 6) -------------------------------------------------------------------


def test_web_sign_out_revokes_the_session_token_in_every_process(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    web, other = make_client(), make_client()
    sign_up(web)
    token = web.cookies[SESSION_COOKIE]
    assert other.get("/api/v1/me", headers=_bearer(token)).status_code == 200  # verified and remembered there
    signed_out = web.post("/deconnexion", data={"_csrf_token": csrf_token(web)}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert web.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    _refused_soon(other, token)
    _no_traceback(caplog)


def test_api_sign_out_revokes_only_that_token(client: TestClient[Any]) -> None:
    first = register(client)
    second = login(client, first.email)
    assert client.get("/api/v1/me", headers=first.headers).status_code == 200
    assert client.post("/api/v1/me/sign-out", headers=first.headers).status_code == 204
    assert _problem(client.get("/api/v1/me", headers=first.headers), 401)
    assert client.get("/api/v1/me", headers=second.headers).status_code == 200


def test_sign_out_everywhere_revokes_every_token_of_the_account(make_client: Any) -> None:
    client, other = make_client(), make_client()
    phone = register(client)
    laptop = login(client, phone.email)
    bystander = register(client)
    assert other.get("/api/v1/me", headers=laptop.headers).status_code == 200
    assert client.post("/api/v1/me/sign-out-everywhere", headers=phone.headers).status_code == 204
    assert client.get("/api/v1/me", headers=phone.headers).status_code == 401
    _refused_soon(other, laptop.token)
    assert client.get("/api/v1/me", headers=bystander.headers).status_code == 200
    assert login(client, phone.email).token  # signing in again works


def test_the_account_page_signs_out_everywhere(make_client: Any) -> None:
    web = make_client()
    email = sign_up(web)
    elsewhere = login(make_client(), email)
    page = web.get("/compte")
    assert 'action="/compte/deconnexion-partout"' in page.text
    assert "Se déconnecter partout" in page.text
    answer = web.post(
        "/compte/deconnexion-partout", data={"_csrf_token": csrf_token(web, "/compte")}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert web.get("/compte", follow_redirects=False).status_code == 303  # this browser is signed out too
    assert web.get("/api/v1/me", headers=elsewhere.headers).status_code == 401


# --- login lockout that cannot be turned against others (Build 2) -----------------------------------


@contextmanager
def _behind_a_proxy(settings: Settings, **overrides: Any) -> Iterator[httpx.Client]:
    """The app on a real socket behind a trusted reverse proxy at 127.0.0.1, which names each client in
    ``X-Forwarded-For``: the way to have several clients in one test."""
    app_settings = settings.model_copy(update={"trusted_proxies": ["127.0.0.1/32"], **overrides})
    with live_server(create_app(app_settings)) as base, httpx.Client(base_url=base, timeout=30) as http:
        yield http


def _login_from(http: httpx.Client, address: str, email: str, password: str) -> httpx.Response:
    return http.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": address}
    )


def test_failed_logins_from_another_client_do_not_lock_the_owner_out(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"login_account_limit": 3, "login_ip_limit": 100, "login_window_seconds": LONG_WINDOW}
    with _behind_a_proxy(settings, **limits) as http:
        assert http.post("/api/v1/auth/register", json={"email": "cible@example.org", "password": PASSWORD}).is_success
        attacker = [_login_from(http, "203.0.113.7", "cible@example.org", f"essai {i}").status_code for i in range(6)]
        assert attacker == [401, 401, 401, 429, 429, 429]  # the guessing client is stopped
        blocked = _login_from(http, "203.0.113.7", "cible@example.org", PASSWORD)
        _problem(blocked, 429)
        assert 0 < int(blocked.headers["retry-after"]) <= LONG_WINDOW
        assert _login_from(http, "198.51.100.20", "cible@example.org", PASSWORD).status_code == 200  # the owner
    _no_traceback(caplog)


def test_the_per_account_ceiling_slows_guessers_without_locking_the_owner(settings: Settings) -> None:
    limits = {
        "login_account_limit": 5,
        "login_account_ceiling": 4,
        "login_backoff_seconds": 30,
        "login_ip_limit": 100,
        "login_window_seconds": LONG_WINDOW,
    }
    with _behind_a_proxy(settings, **limits) as http:
        assert http.post("/api/v1/auth/register", json={"email": "cible@example.org", "password": PASSWORD}).is_success
        for address in ("203.0.113.1", "203.0.113.2"):  # a distributed guesser reaches the ceiling (4 failures)
            for _ in range(2):
                assert _login_from(http, address, "cible@example.org", "raté").status_code == 401
        # Above it, the clients that already failed on this account share one attempt per backoff period ...
        assert _login_from(http, "203.0.113.1", "cible@example.org", "raté").status_code == 401
        slowed = _login_from(http, "203.0.113.2", "cible@example.org", "raté")
        _problem(slowed, 429)
        assert 0 < int(slowed.headers["retry-after"]) <= 30  # a backoff, not a lock for the whole window
        # ... while the owner, who has not failed, signs in at once.
        assert _login_from(http, "198.51.100.20", "cible@example.org", PASSWORD).status_code == 200


# --- registration and password checks are rate limited (Build 2) ------------------------------------


def test_registration_is_limited_per_client(make_client: Any, settings: Settings) -> None:
    client = make_client(register_ip_limit=3, register_window_seconds=LONG_REGISTER_WINDOW)
    statuses = [
        client.post(
            "/api/v1/auth/register", json={"email": f"inscrit{i}@example.org", "password": PASSWORD}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    refused = client.post("/api/v1/auth/register", json={"email": "encore@example.org", "password": PASSWORD})
    _problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= LONG_REGISTER_WINDOW
    assert (
        client.post("/api/v1/auth/login", json={"email": "encore@example.org", "password": PASSWORD}).status_code == 401
    )


def test_password_change_guesses_are_throttled(make_client: Any) -> None:
    client = make_client(password_check_limit=3, login_window_seconds=LONG_WINDOW)
    learner: Account = register(client)
    wrong = {"current_password": "une supposition fausse", "new_password": NEW_PASSWORD}
    statuses = [client.put("/api/v1/me/password", json=wrong, headers=learner.headers).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    throttled = client.put("/api/v1/me/password", json=right, headers=learner.headers)
    _problem(throttled, 429)
    assert 0 < int(throttled.headers["retry-after"]) <= LONG_WINDOW
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 200  # the password did not change


# --- argon2 memory stays flat under concurrent sign-ups (Build 2) ------------------------------------


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_concurrent_sign_ups_keep_memory_flat(clean_database: str, tmp_path: Path) -> None:
    extra = {"LEARNING_REGISTER_IP_LIMIT": "1000"}
    with _served(clean_database, tmp_path, "uvicorn", 1, trusted="", extra=extra) as (base, pid):
        body = {"email": "premier@example.org", "password": PASSWORD}
        assert httpx.post(f"{base}/api/v1/auth/register", json=body, timeout=60).status_code == 201
        before = _peak_rss_kib(pid)

        def sign_up_one(i: int) -> int:
            # On a busy machine a sign-up may wait past the bounded wait for a hashing slot: 503 + Retry-After,
            # which a client sends again after the delay (a bounded number of times).
            for _ in range(10):
                answer = httpx.post(
                    f"{base}/api/v1/auth/register", json={**body, "email": f"foule{i}@example.org"}, timeout=120
                )
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers["retry-after"]))
            return answer.status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = set(pool.map(sign_up_one, range(24)))
        growth = _peak_rss_kib(pid) - before
    assert statuses == {201}
    # argon2id takes 64 MiB per hash: 24 at once add ~1.5 GiB; a bounded few at a time stay near +130 MiB.
    assert growth < 250 * 1024, f"peak RSS grew by {growth // 1024} MiB"


# --- the last admin (Build 10) ---------------------------------------------------------------------


def test_the_last_admin_cannot_be_deleted(client: TestClient[Any], admin: Account, settings: Settings) -> None:
    me = client.get("/api/v1/me", headers=admin.headers).json()
    refused = _problem(client.delete(f"/api/v1/admin/users/{me['id']}", headers=admin.headers), 409)
    assert "last admin" in refused["detail"]
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200
    asyncio.run(create_admin(settings, email="seconde@example.org", password=PASSWORD))
    assert client.delete(f"/api/v1/admin/users/{me['id']}", headers=admin.headers).status_code == 204


# --- LEARNING_TRUSTED_PROXIES alone decides (Build 9) ------------------------------------------------


@contextmanager
def _served(
    database_url: str, tmp_path: Path, server: str, workers: int, trusted: str, extra: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``learning serve`` as a user starts it (its base URL and process id), stopped afterwards."""
    port = free_port()
    env = clean_environment(
        LEARNING_DATABASE_URL=database_url, LEARNING_DATA_DIR=str(tmp_path / "var"), LEARNING_PORT=str(port),
        LEARNING_SERVER=server, LEARNING_WORKERS=str(workers), LEARNING_CONTENT_SYNC_ON_START="false",
        LEARNING_LOGIN_IP_LIMIT="3",
        LEARNING_LOGIN_WINDOW_SECONDS=str(LONG_WINDOW), LEARNING_TRUSTED_PROXIES=trusted, LEARNING_LOG_LEVEL="WARNING",
        LEARNING_SECRET_KEY="test-secret-key-not-for-production-use-0123456789", **(extra or {}),
    )  # fmt: skip
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(learning_command("serve"), env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/api/v1/ping", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)  # waiting for start-up, not a timing assertion
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def _logins_rotating_forwarded_for(base: str) -> list[int]:
    # Several connections, so that every worker process takes some of them.
    statuses = []
    for i in range(6):
        with httpx.Client(base_url=base, timeout=30) as http:
            response = http.post(
                "/api/v1/auth/login",
                json={"email": f"personne{i}@example.org", "password": "nimporte quoi"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}", "X-Forwarded-Proto": "https"},
            )
            statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize(("server", "workers"), [("uvicorn", 1), ("uvicorn", 2), ("granian", 2)])
def test_forwarded_for_counts_only_from_trusted_proxies(
    clean_database: str, tmp_path: Path, server: str, workers: int
) -> None:
    with _served(clean_database, tmp_path, server, workers, trusted="") as (base, _):
        # Not trusted (the default): every attempt is this one client's, whatever the header says.
        assert _logins_rotating_forwarded_for(base) == [401, 401, 401, 429, 429, 429]
    with _served(clean_database, tmp_path, server, workers, trusted="127.0.0.1") as (base, _):
        # Behind a trusted proxy: each forwarded client has its own allowance.
        assert _logins_rotating_forwarded_for(base) == [401] * 6
