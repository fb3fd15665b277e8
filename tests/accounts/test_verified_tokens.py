"""Verified tokens are remembered in memory, and forgotten the moment an account changes, in every process."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.security.jwt import Token
from litestar.testing import TestClient

from learning.accounts.auth import CurrentUser, VerifiedTokens
from learning.db import models as m
from tests.helpers.accounts import Account, register

NEW_PASSWORD = "une toute nouvelle phrase secrète"


def _listening(client: TestClient[Any]) -> None:
    """Wait (bounded) until the app's change listener is connected: only then does it remember tokens."""
    deadline = time.monotonic() + 10
    while not client.app.state.edge.hub.active:
        assert time.monotonic() < deadline, "the change listener never connected"
        time.sleep(0.02)


def _remembered(client: TestClient[Any], account: Account) -> bool:
    return client.app.state.verified_tokens.get(account.token) is not None


def _change_password(client: TestClient[Any], account: Account) -> None:
    body = {"current_password": account.password, "new_password": NEW_PASSWORD}
    assert client.put("/api/v1/me/password", json=body, headers=account.headers).status_code == 200


def test_a_remembered_token_is_refused_as_soon_as_its_password_changes(client: TestClient[Any]) -> None:
    _listening(client)
    learner = register(client)
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 200
    assert _remembered(client, learner)
    _change_password(client, learner)
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 401
    assert not _remembered(client, learner)


def test_another_process_forgets_a_token_when_the_password_changes(make_client: Any) -> None:
    first, second = make_client(), make_client()
    _listening(first)
    _listening(second)
    learner = register(first)
    assert second.get("/api/v1/me", headers=learner.headers).status_code == 200
    assert _remembered(second, learner)
    _change_password(first, learner)
    deadline = time.monotonic() + 10  # NOTIFY reaches the other process a moment after the commit
    while _remembered(second, learner):
        assert time.monotonic() < deadline, "the other process still remembers the old token"
        time.sleep(0.02)
    assert second.get("/api/v1/me", headers=learner.headers).status_code == 401


def test_another_process_forgets_the_token_of_a_deleted_account(make_client: Any, admin: Account) -> None:
    first, second = make_client(), make_client()
    _listening(first)
    _listening(second)
    learner = register(first)
    me = second.get("/api/v1/me", headers=learner.headers)
    assert me.status_code == 200
    assert _remembered(second, learner)
    assert first.delete(f"/api/v1/admin/users/{me.json()['id']}", headers=admin.headers).status_code == 204
    deadline = time.monotonic() + 10
    while _remembered(second, learner):
        assert time.monotonic() < deadline, "the other process still remembers the deleted account's token"
        time.sleep(0.02)
    assert second.get("/api/v1/me", headers=learner.headers).status_code == 401


def test_an_expired_token_is_never_answered_from_memory() -> None:
    now = [time.time()]
    tokens = VerifiedTokens(listening=lambda: True, clock=lambda: now[0])
    token = Token(exp=datetime.now(UTC) + timedelta(minutes=5), sub=str(uuid.uuid4()))
    user = CurrentUser(id=uuid.UUID(token.sub), email="a@example.org", role=m.Role.LEARNER)
    tokens.put("encoded", user, token, tokens.generation)
    assert tokens.get("encoded") == (user, token)
    now[0] += 301
    assert tokens.get("encoded") is None


def test_nothing_is_remembered_while_the_listener_is_down_or_after_a_change() -> None:
    listening = [False]
    tokens = VerifiedTokens(listening=lambda: listening[0])
    token = Token(exp=datetime.now(UTC) + timedelta(minutes=5), sub=str(uuid.uuid4()))
    user = CurrentUser(id=uuid.UUID(token.sub), email="a@example.org", role=m.Role.LEARNER)
    tokens.put("encoded", user, token, tokens.generation)
    assert tokens.get("encoded") is None  # could not hear about changes: must not remember
    listening[0] = True
    verified_during = tokens.generation
    tokens.invalidate()  # an account changed while this token was being verified
    tokens.put("encoded", user, token, verified_during)
    assert tokens.get("encoded") is None
