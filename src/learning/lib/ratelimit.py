"""Fixed-window counters in PostgreSQL, shared by every app process.

A login attempt that fails must still count, even though its request is rolled back: the limiter
therefore writes in its own short transaction, committed at once.

Once PostgreSQL has said a key is over its limit until the end of its window, the process remembers it
(``Refusals``) and refuses the key's next events without a query until then: one client hammering one key
would otherwise queue every request on the same counter row's lock (each waiting its turn, past the statement
timeout). The database still decides first, so the limits stay shared by every process.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
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


class Refusals:
    """What this process was told is refused until when: key → the moment the refusal ends.

    Bounded: past ``max_entries`` the ended refusals go, then the oldest ones (forgetting one only costs a
    query to the database, which remembers).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._until: dict[Hashable, datetime] = {}

    def __len__(self) -> int:
        return len(self._until)

    def retry_after(self, key: Hashable, now: datetime) -> int | None:
        """Seconds until ``key`` may be tried again, or None when it is not (or no longer) refused here."""
        until = self._until.get(key)
        if until is None:
            return None
        if until <= now:
            del self._until[key]
            return None
        return max(1, math.ceil((until - now).total_seconds()))

    def refuse(self, key: Hashable, until: datetime, now: datetime) -> None:
        """Remember that ``key`` is refused until ``until``."""
        if key not in self._until and len(self._until) >= self._max_entries:
            for ended in [known for known, moment in self._until.items() if moment <= now]:
                del self._until[ended]
            while len(self._until) >= self._max_entries:  # insertion order: the oldest first
                del self._until[next(iter(self._until))]
        self._until[key] = until


def remembered_refusal(refusals: Refusals, key: str, limit: Limit, now: datetime | None = None) -> Verdict | None:
    """The refusal this process remembers for ``key`` under ``limit`` (what ``RateLimiter`` would answer without
    a query), or None: for a guard that refuses before the request's body is read."""
    retry_after = refusals.retry_after((key, limit), now or utcnow())
    return None if retry_after is None else Verdict(False, retry_after, limit.hits + 1)


class RateLimiter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], refusals: Refusals | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._refusals = refusals if refusals is not None else Refusals()

    def _remembered(self, key: str, limit: Limit, now: datetime) -> Verdict | None:
        return remembered_refusal(self._refusals, key, limit, now)

    def _remember(self, key: str, limit: Limit, verdict: Verdict, window: datetime, now: datetime) -> Verdict:
        if not verdict.allowed:  # a window's count only grows: refused until the window ends
            self._refusals.refuse((key, limit), window + timedelta(seconds=limit.window_seconds), now)
        return verdict

    async def hit(self, key: str, limit: Limit) -> Verdict:
        """Count one event for ``key``; refused once the window holds more than ``limit.hits`` (then, until the
        window ends, refused by this process without counting)."""
        now = utcnow()
        if (remembered := self._remembered(key, limit, now)) is not None:
            return remembered
        window = _window_start(now, limit.window_seconds)
        table = m.RateLimitCounter.__table__
        assert isinstance(table, Table)  # noqa: S101 — narrows the type for the dialect insert
        statement = (
            insert(table)
            .values(key=key, window_start=window, window_end=window + timedelta(seconds=limit.window_seconds), hits=1)
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
        return self._remember(key, limit, _verdict(count, limit, window, now, allow_equal=True), window, now)

    async def check(self, key: str, limit: Limit) -> Verdict:
        """Whether one more event would still be within the limit, without counting it."""
        now = utcnow()
        if (remembered := self._remembered(key, limit, now)) is not None:
            return remembered
        window = _window_start(now, limit.window_seconds)
        verdict = _verdict(await self._count(key, window), limit, window, now, allow_equal=False)
        return self._remember(key, limit, verdict, window, now)

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

    async def purge_ended(self, moment: datetime) -> int:
        """Delete the windows that ended by ``moment`` (however long they were); returns how many rows went."""
        async with self._sessionmaker.begin() as session:
            result = await session.execute(delete(m.RateLimitCounter).where(m.RateLimitCounter.window_end <= moment))
        return int(getattr(result, "rowcount", 0) or 0)
