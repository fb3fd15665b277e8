"""Password hashing never holds a database connection: sign-ups, logins and password changes waiting for a
hashing slot leave the connection pool to everyone else (issue 17: registrations exhausted the pool)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.helpers.accounts import PASSWORD

NEW_PASSWORD = "une autre phrase de passe bien longue"


async def _until(condition: Any, what: str) -> None:
    """Poll ``condition`` until it holds (a generous deadline: the machine may be busy)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_requests_waiting_for_a_hashing_slot_leave_the_pool_to_others(make_client: Any) -> None:
    # A pool of 2 connections and 1 hashing slot, held here: 2 sign-ups, 2 logins and a password change
    # wait for it at once, more than the pool holds. Whoever needs the database meanwhile is served.
    client = make_client(
        database_pool_size=2, password_hash_concurrency=1, password_hash_wait_seconds=120,
        edge=False,  # the modules list is made by the route, from the database
    )  # fmt: skip
    emails = ["ancien1@example.org", "ancien2@example.org"]
    for email in emails:
        assert client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    token = client.post("/api/v1/auth/login", json={"email": emails[0], "password": PASSWORD}).json()["access_token"]
    app, hashing = client.app, client.app.state.login_policy.hashing

    async def scenario() -> tuple[int, int, list[httpx.Response]]:
        # In the app's own event loop (the test client's portal), where the hashing slots live.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local", timeout=120) as http:
            async with hashing.slot():
                crowd = [
                    http.post("/api/v1/auth/register", json={"email": f"nouveau{i}@example.org", "password": PASSWORD})
                    for i in range(2)
                ] + [
                    http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}) for email in emails
                ] + [
                    http.put(
                        "/api/v1/me/password", headers={"Authorization": f"Bearer {token}"},
                        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                    )
                ]  # fmt: skip
                waiting = [asyncio.ensure_future(request) for request in crowd]
                await _until(
                    lambda: hashing.waiting == len(crowd),
                    "every request of the crowd waits for the slot, none for a pooled connection",
                )
                ready = await http.get("/health/ready")
                modules = await http.get("/api/v1/modules")
                assert not any(request.done() for request in waiting)
            return ready.status_code, modules.status_code, list(await asyncio.gather(*waiting))

    ready, modules, answers = client.blocking_portal.call(scenario)
    assert ready == 200
    assert modules == 200
    assert [answer.status_code for answer in answers] == [201, 201, 200, 200, 200], [a.text for a in answers]
