"""The job runner outlives its database connection: killed between two polls, it reconnects, and stopping it
never raises (a raise there failed the app's shutdown and left its event loop unclosable). A job whose
process died runs again once its heartbeat is older than the configured timeout. A job that meets a database
outage goes back in the queue for later; one that fails for another reason is dropped with its traceback."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import pytest
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from learning.db.session import create_engine, create_sessionmaker
from learning.lib.queue import JobQueue, JobRunner
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


async def _until_queue_empty(connection: asyncpg.Connection) -> None:
    """Poll until no job is left in the queue (bounded)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if not await connection.fetchval("SELECT count(*) FROM pgqueuer"):
                return
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


async def test_a_job_that_meets_a_database_outage_runs_again_later_without_a_traceback(
    clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A mail job whose commit timed out while the database stalled was dropped with pgqueuer's traceback: the
    confirmation mail it carried never went. An outage now puts the job back in the queue for later."""
    connection = await asyncpg.connect(libpq(clean_database))
    calls: list[bytes] = []
    done = asyncio.Event()

    async def handler(payload: bytes) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise TimeoutError  # what asyncpg raised when the stalled database did not answer in time
        done.set()

    await Queries(AsyncpgDriver(connection)).enqueue("mail", b"message")
    runner = JobRunner(libpq(clean_database), {"mail": handler}, outage_retry=timedelta(0))
    await runner.start()
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await done.wait()
    finally:
        await runner.stop()
        await connection.close()
    assert calls == [b"message", b"message"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_job_that_fails_for_another_reason_is_dropped_with_its_traceback(
    clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Only an outage is worth waiting for: a bug in the handler is reported once, and the job is not run again."""
    connection = await asyncpg.connect(libpq(clean_database))
    calls: list[bytes] = []

    async def handler(payload: bytes) -> None:
        calls.append(payload)
        raise ValueError("a bug")

    await Queries(AsyncpgDriver(connection)).enqueue("mail", b"message")
    runner = JobRunner(libpq(clean_database), {"mail": handler}, outage_retry=timedelta(0))
    await runner.start()
    try:
        await _until_queue_empty(connection)
    finally:
        await runner.stop()
        await connection.close()
    assert calls == [b"message"]
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("Exception while processing entrypoint/job-id: mail/")


async def test_a_job_queued_in_a_transaction_that_rolls_back_does_not_exist(clean_database: str) -> None:
    """A job exists exactly when the change that calls for it commits, even when queuing it is the first thing
    the transaction does (SQLAlchemy's asyncpg adapter sends BEGIN only with its first statement)."""
    engine = create_engine(clean_database)
    connection = await asyncpg.connect(libpq(clean_database))
    try:
        async with create_sessionmaker(engine)() as session:
            await JobQueue(session).enqueue("mail", b"rolled back")
            await session.rollback()
        async with create_sessionmaker(engine)() as session:
            await JobQueue(session).enqueue("mail", b"committed")
            await session.commit()
        assert [row[0] for row in await connection.fetch("SELECT payload FROM pgqueuer")] == [b"committed"]
    finally:
        await connection.close()
        await engine.dispose()
