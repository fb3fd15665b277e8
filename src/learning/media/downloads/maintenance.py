"""Retention: raw requests and listener salts are only needed for the rolling 24-hour window."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.media.downloads.repository import DownloadRepository


async def purge_before(sessionmaker: async_sessionmaker[AsyncSession], moment: datetime) -> int:
    """Delete the requests made before ``moment`` and the salts of the days before it, in one transaction;
    returns how many requests went. Counted downloads stay."""
    async with sessionmaker.begin() as session:
        repo = DownloadRepository(session)
        removed = await repo.delete_requests_before(moment)
        await repo.delete_salts_before(moment.astimezone(UTC).date())
    return removed
