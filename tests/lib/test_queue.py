"""The job runner outlives its database connection: killed between two polls, it reconnects, and stopping it
never raises (a raise there failed the app's shutdown and left its event loop unclosable). A job whose
process died runs again once its heartbeat is older than the configured timeout."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from learning.lib.queue import JobRunner
from tests.helpers.database import libpq

WAIT_SECONDS = 30.0

OTHER_BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


async def _backends(observer: asyncpg.Connection) -> set[int]:
    return {row["pid"] for row in await observer.fetch(OTHER_BACKENDS)}


async def _until_backends(observer: asyncpg.Connection, accept: object) -> set[int]:
    """Poll until the other backends satisfy ``accept`` (bounded)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            found = await _backends(observer)
            if accept(found):  # type: ignore[operator]
                return found
            await asyncio.sleep(0.05)


async def test_a_runner_whose_connection_is_killed_reconnects_and_stops_cleanly(clean_database: str) -> None:
    observer = await asyncpg.connect(libpq(clean_database))
    runner = JobRunner(libpq(clean_database), {})
    try:
        before = await _backends(observer)
        await runner.start()
        first = await _until_backends(observer, lambda found: len(found - before) == 1) - before
        # Killed while it waits between two polls: its next poll finds the connection closed.
        await observer.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(first))
        second = await _until_backends(observer, lambda found: len(found - before - first) == 1)
        assert not (second & first)
    finally:
        await runner.stop()  # must not raise
        await observer.close()


async def test_a_job_whose_process_died_runs_again_after_the_configured_heartbeat_timeout(
    clean_database: str,
) -> None:
    connection = await asyncpg.connect(libpq(clean_database))
    ran = asyncio.Event()

    async def handler(payload: bytes) -> None:
        ran.set()

    # Picked by a process that died just now, after its last heartbeat (the default timeout is 30 s).
    await Queries(AsyncpgDriver(connection)).enqueue("orphan", b"")
    await connection.execute("UPDATE pgqueuer SET status = 'picked', heartbeat = now()")
    runner = JobRunner(libpq(clean_database), {"orphan": handler}, heartbeat_timeout=timedelta(seconds=4))
    await runner.start()
    try:
        async with asyncio.timeout(20):  # the 4 s timeout, a poll or two, and room for a loaded machine
            await ran.wait()
    finally:
        await runner.stop()
        await connection.close()
