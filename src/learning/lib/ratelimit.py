"""Fixed-window counters in PostgreSQL, shared by every app process.

A login attempt that fails must still count, even though its request is rolled back: the limiter
therefore writes in its own short transaction, committed at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.lib.clock import utcnow


@dataclass(frozen=True, slots=True)
class Limit:
    hits: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int
    hits: int  # events in the window (for ``hit``, this one included)


def _window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


def _verdict(count: int, limit: Limit, window: datetime, now: datetime, *, allow_equal: bool) -> Verdict:
    allowed = count <= limit.hits if allow_equal else count < limit.hits
    if allowed:
        return Verdict(True, 0, count)
    end = window + timedelta(seconds=limit.window_seconds)
    return Verdict(False, math.ceil((end - now).total_seconds()), count)


class RateLimiter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def hit(self, key: str, limit: Limit) -> Verdict:
        """Count one event for ``key``; refused once the window holds more than ``limit.hits``."""
        now = utcnow()
        window = _window_start(now, limit.window_seconds)
        table = m.RateLimitCounter.__table__
        assert isinstance(table, Table)  # noqa: S101 — narrows the type for the dialect insert
        statement = (
            insert(table)
            .values(key=key, window_start=window, hits=1)
            .on_conflict_do_update(index_elements=[table.c.key, table.c.window_start], set_={"hits": table.c.hits + 1})
            .returning(table.c.hits)
        )
        async with self._sessionmaker.begin() as session:
            count = (await session.execute(statement)).scalar_one()
            if count == 1:  # first hit of a new window: drop this key's finished windows
                await session.execute(
                    delete(m.RateLimitCounter).where(
                        m.RateLimitCounter.key == key, m.RateLimitCounter.window_start < window
                    )
                )
        return _verdict(count, limit, window, now, allow_equal=True)

    async def check(self, key: str, limit: Limit) -> Verdict:
        """Whether one more event would still be within the limit, without counting it."""
        now = utcnow()
        window = _window_start(now, limit.window_seconds)
        return _verdict(await self._count(key, window), limit, window, now, allow_equal=False)

    async def count(self, key: str, window_seconds: int) -> int:
        """How many events ``key`` holds in the current window."""
        return await self._count(key, _window_start(utcnow(), window_seconds))

    async def _count(self, key: str, window: datetime) -> int:
        async with self._sessionmaker() as session:
            count = (
                await session.execute(
                    select(m.RateLimitCounter.hits).where(
                        m.RateLimitCounter.key == key, m.RateLimitCounter.window_start == window
                    )
                )
            ).scalar_one_or_none()
        return count or 0

    async def purge_before(self, moment: datetime) -> int:
        """Delete windows that started before ``moment``; returns how many rows went."""
        async with self._sessionmaker.begin() as session:
            result = await session.execute(delete(m.RateLimitCounter).where(m.RateLimitCounter.window_start < moment))
        return int(getattr(result, "rowcount", 0) or 0)
