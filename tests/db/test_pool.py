"""The app's connection pool: a fixed set of connections, reused under load, replaced when the server
closes them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import httpx
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import register
from tests.helpers.database import make_settings, sql
from tests.helpers.live import live_server

APP_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'learning' "
    "AND pid <> pg_backend_pid() ORDER BY pid"
)


def backends(url: str) -> list[int]:
    return [row["pid"] for row in sql(url, APP_BACKENDS)]


def test_a_burst_of_requests_shares_the_pool_and_opens_no_new_connection(settings: Settings) -> None:
    url = settings.require_database_url()
    small = make_settings(url, settings.data_dir, database_pool_size=4)
    with live_server(create_app(small)) as base, TestClient(app=create_app(small)) as client:
        account = register(client)

        async def burst(start: int) -> list[int]:
            async with httpx.AsyncClient(base_url=base, headers=account.headers, timeout=60) as http:
                answers = await asyncio.gather(*[
                    http.get("/api/v1/me") if i % 2 else http.get(f"/api/v1/modules?burst={i}")  # uncached
                    for i in range(start, start + 60)
                ])  # fmt: skip
            return [answer.status_code for answer in answers]

        assert asyncio.run(burst(0)) == [200] * 60
        after_first = backends(url)
        assert asyncio.run(burst(60)) == [200] * 60
        after_second = backends(url)
    # Both app instances together hold at most 2 × 4 connections, and the second burst reused them all.
    assert len(after_first) <= 8
    assert after_second == after_first


def test_connections_the_server_closed_are_replaced_before_a_request_uses_them(settings: Settings) -> None:
    url = settings.require_database_url()
    with TestClient(app=create_app(settings)) as client:
        assert client.get("/health/ready").status_code == 200
        idle = backends(url)
        assert idle, "the pool keeps its connection open"
        sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])", idle)
        deadline = time.monotonic() + 10
        while set(idle) & set(backends(url)):  # the server has closed them
            assert time.monotonic() < deadline
        # Not a 503: the pool saw the closed connections and opened new ones.
        assert client.get("/health/ready").status_code == 200
        assert client.get("/api/v1/modules?fresh=1").status_code == 200
        assert not set(idle) & set(backends(url))


def test_a_raw_connection_that_failed_mid_statement_is_not_handed_to_the_next_request(settings: Settings) -> None:
    # Progress ingestion talks to asyncpg directly (db/session.driver_connection). Under killed connections a
    # connection could be checked out between the server's FATAL message and the socket's end: its statement
    # failed with asyncpg's InternalClientError ("cannot switch to state 12; another operation (2) is in
    # progress"), the connection went back to the pool as it was, and that request was a 500.
    from learning.db.session import create_engine, driver_connection
    from learning.lib.errors import is_database_outage

    interrupted = asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    assert is_database_outage(interrupted)  # answered 503 + Retry-After, like any lost connection

    async def backend_after(failure: BaseException | None, engine: Any) -> tuple[int, int]:
        with contextlib.suppress(asyncpg.InternalClientError, asyncpg.DivisionByZeroError, TimeoutError):
            async with driver_connection(engine) as connection:
                before = await connection.fetchval("SELECT pg_backend_pid()")
                if failure is None:
                    await connection.fetchval("SELECT 1 / 0")  # the server refuses: the connection is sound
                raise failure or AssertionError("unreachable")
        async with driver_connection(engine) as connection:
            return before, await connection.fetchval("SELECT pg_backend_pid()")

    async def scenario() -> dict[str, bool]:
        engine = create_engine(settings.require_database_url(), pool_size=1, max_overflow=0)
        try:
            reused = {}
            for name, failure in (("refused", None), ("interrupted", interrupted), ("timed out", TimeoutError())):
                before, after = await backend_after(failure, engine)
                reused[name] = before == after
            return reused
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == {"refused": True, "interrupted": False, "timed out": False}
