"""Locks held by another connection, to make the app wait for real (lock and statement timeouts)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

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
