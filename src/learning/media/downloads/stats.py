"""The download statistics the admin reads: per UTC day and per app for one asset, totals per asset."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from learning.db import models as m
from learning.lib.clock import EARLIEST, LATEST, utcnow
from learning.lib.errors import LearningError, NotFound
from learning.media.downloads.repository import DownloadRepository

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


class InvalidPeriod(LearningError):
    status_code = 400
    title = "Invalid period"


class AssetNotFound(NotFound):
    title = "Media asset not found"


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive


@dataclass(frozen=True, slots=True)
class AssetDownloads:
    asset: m.MediaAsset
    period: Period
    days: list[tuple[date, int]]  # every day of the period, zeros included
    apps: list[tuple[str, int]]  # most used first

    @property
    def total(self) -> int:
        return sum(count for _, count in self.days)


@dataclass(frozen=True, slots=True)
class AssetTotal:
    asset_id: uuid.UUID
    ref: str | None
    name: str
    total: int


def resolve_period(start: date | None, end: date | None, *, today: date) -> Period:
    """``end`` defaults to today and ``start`` to 30 days before it; at most 366 days, in order."""
    for day in (start, end):
        if day is not None and not EARLIEST.date() <= day < LATEST.date():
            raise InvalidPeriod("Dates must be between 1900 and 2200.")
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if end < start:
        raise InvalidPeriod("The end of the period ('to') is before its start ('from').")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"A period covers at most {MAX_PERIOD_DAYS} days.")
    return Period(start, end)


class DownloadStatsService:
    def __init__(self, downloads: DownloadRepository) -> None:
        self.downloads = downloads

    async def for_asset(self, asset_id: uuid.UUID, *, start: date | None, end: date | None) -> AssetDownloads:
        """Downloads of one asset per UTC day and per app (the last 30 days unless a period is given)."""
        period = resolve_period(start, end, today=utcnow().date())
        asset = await self.downloads.asset(asset_id)
        if asset is None:
            raise AssetNotFound("No such media asset.")
        counts = await self.downloads.per_day(asset_id, period.start, period.end)
        span = (period.end - period.start).days + 1
        days = [(day, counts.get(day, 0)) for day in (period.start + timedelta(days=n) for n in range(span))]
        apps = await self.downloads.per_app(asset_id, period.start, period.end)
        return AssetDownloads(asset=asset, period=period, days=days, apps=apps)

    async def totals(
        self, *, start: date | None, end: date | None, limit: int, offset: int
    ) -> tuple[list[AssetTotal], int]:
        """Downloads per asset, most downloaded first: all time, or within the period when one is given."""
        period = resolve_period(start, end, today=utcnow().date()) if start or end else None
        rows, total = await self.downloads.totals(
            start=period.start if period else None, end=period.end if period else None, limit=limit, offset=offset
        )
        return [AssetTotal(*row) for row in rows], total

    async def episode_totals(self, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """All-time downloads of each episode (a feed's audio file counts for its video)."""
        return await self.downloads.episode_totals(asset_ids)
