"""Admin endpoints over download counts (IAB v2 downloads, see ``learning.media.downloads``). Admin role
required. Days are UTC days; ``from`` and ``to`` are inclusive and span at most 366 days."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from learning.accounts.auth import requires_admin
from learning.admin.deps import PeriodQuery, provide_period
from learning.lib.pagination import Page, PageRequest, provide_page_request
from learning.media.deps import provide_download_recorder, provide_download_stats
from learning.media.downloads import DownloadRecorder, DownloadStatsService


class DayCount(msgspec.Struct):
    date: dt.date
    count: int


class AppCount(msgspec.Struct):
    app: str
    count: int


class AssetDownloadsRead(msgspec.Struct):
    asset_id: uuid.UUID
    ref: str | None
    name: str
    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    total: int
    days: list[DayCount]
    apps: list[AppCount]


class AssetDownloadTotal(msgspec.Struct):
    asset_id: uuid.UUID
    ref: str | None
    name: str
    total: int


class RecorderRead(msgspec.Struct):
    pending: int
    max_buffered: int
    dropped: int


class AdminDownloadController(Controller):
    path = "/api/v1/admin/downloads"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = {
        "download_stats": Provide(provide_download_stats, sync_to_thread=False),
        "download_recorder": Provide(provide_download_recorder, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
        "period": Provide(provide_period, sync_to_thread=False),
    }

    @get("/", operation_id="ListDownloadTotals")
    async def list_totals(
        self,
        download_stats: NamedDependency[DownloadStatsService],
        page: NamedDependency[PageRequest],
        period: NamedDependency[PeriodQuery],
    ) -> Page[AssetDownloadTotal]:
        """Downloads per media asset, most downloaded first: all time, or within ``from``–``to``."""
        totals, total = await download_stats.totals(
            start=period.start, end=period.end, limit=page.limit, offset=page.offset
        )
        items = [AssetDownloadTotal(asset_id=t.asset_id, ref=t.ref, name=t.name, total=t.total) for t in totals]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @get("/recorder", operation_id="GetDownloadRecorder")
    async def recorder(self, download_recorder: NamedDependency[DownloadRecorder]) -> RecorderRead:
        """This process's download recorder: records waiting to be written, its bound, and how many records
        it had to refuse (buffer full) or give up since the process started."""
        status = download_recorder.status()
        return RecorderRead(pending=status.pending, max_buffered=status.max_buffered, dropped=status.dropped)

    @get("/assets/{asset_id:uuid}", operation_id="GetAssetDownloads")
    async def asset_downloads(
        self,
        asset_id: FromPath[uuid.UUID],
        download_stats: NamedDependency[DownloadStatsService],
        period: NamedDependency[PeriodQuery],
    ) -> AssetDownloadsRead:
        """Downloads of one asset per UTC day (zeros included) and per listening app; the last 30 days
        unless ``from``/``to`` say otherwise."""
        report = await download_stats.for_asset(asset_id, start=period.start, end=period.end)
        return AssetDownloadsRead(
            asset_id=report.asset.id,
            ref=report.asset.ref,
            name=report.asset.name,
            from_=report.period.start,
            to=report.period.end,
            total=report.total,
            days=[DayCount(date=day, count=count) for day, count in report.days],
            apps=[AppCount(app=app, count=count) for app, count in report.apps],
        )
