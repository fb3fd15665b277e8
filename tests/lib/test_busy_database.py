"""A statement or lock wait that runs out (``statement_timeout``, ``lock_timeout``) is a busy database: 503
with Retry-After, like an outage, never a 500 — provoked here for real, with a lock held by another
connection on the rate-limit counters a registration writes first."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest

from tests.helpers.database import libpq


@contextmanager
def table_locked(database_url: str, table: str) -> Iterator[None]:
    """``table`` locked (ACCESS EXCLUSIVE) by another connection, in its own thread and loop, until the end."""
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        connection = await asyncpg.connect(libpq(database_url))
        try:
            async with connection.transaction():
                await connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                await asyncio.to_thread(release.wait, 60)
        finally:
            await connection.close()

    holder = threading.Thread(target=lambda: asyncio.run(hold()))
    holder.start()
    try:
        assert locked.wait(30)
        yield
    finally:
        release.set()
        holder.join(30)


@pytest.mark.parametrize(
    "timeouts",
    [
        pytest.param({"database_lock_timeout_ms": 50}, id="lock-timeout"),
        pytest.param(
            {"database_lock_timeout_ms": 60_000, "database_statement_timeout_ms": 200}, id="statement-timeout"
        ),
    ],
)
def test_a_wait_that_runs_out_is_503_with_retry_after(
    make_client: Any, clean_database: str, timeouts: dict[str, int]
) -> None:
    client = make_client(**timeouts)
    with table_locked(clean_database, "rate_limit_counter"):
        response = client.post(
            "/api/v1/auth/register", json={"email": "attente@example.org", "password": "une phrase assez longue"}
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    # Nothing half-done: once the lock is gone the same registration goes through.
    again = client.post(
        "/api/v1/auth/register", json={"email": "attente@example.org", "password": "une phrase assez longue"}
    )
    assert again.status_code == 201, again.text
