"""Every query of download counting: the advisory locks, the salts, the raw requests, the counted
downloads and the statistics over them. The caller owns the transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m
from learning.media.downloads.rules import Served

Key = tuple[uuid.UUID, str]  # (asset_id, listener)
_LOCK_CLASS = 0x646C  # first key of the advisory locks that serialise counting per asset across processes


class DownloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_assets(self, asset_ids: Iterable[uuid.UUID]) -> None:
        """Serialise counting per asset across app processes until the transaction ends (in key order)."""
        await self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:class, key) FROM (SELECT DISTINCT hashtext(a) AS key "
                "FROM unnest(CAST(:ids AS text[])) AS a ORDER BY key) AS keys"
            ),
            {"class": _LOCK_CLASS, "ids": sorted(str(asset_id) for asset_id in asset_ids)},
        )

    async def existing_assets(self, asset_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.session.execute(select(m.MediaAsset.id).where(m.MediaAsset.id.in_(list(asset_ids))))
        return set(rows.scalars())

    async def salts(self, days: Iterable[date]) -> dict[date, bytes]:
        rows = await self.session.execute(select(m.ListenerSalt).where(m.ListenerSalt.day.in_(list(days))))
        return {row.day: row.salt for row in rows.scalars()}

    async def create_salt(self, day: date, salt: bytes) -> bytes:
        """The day's salt: ``salt`` unless another process created one first."""
        await self.session.execute(
            pg_insert(m.ListenerSalt).values(day=day, salt=salt).on_conflict_do_nothing(index_elements=["day"])
        )
        stored = await self.session.execute(select(m.ListenerSalt.salt).where(m.ListenerSalt.day == day))
        return stored.scalar_one()

    async def delete_salts_before(self, day: date) -> None:
        await self.session.execute(delete(m.ListenerSalt).where(m.ListenerSalt.day < day))

    async def add_requests(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.MediaRequest), rows)

    async def add_downloads(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.MediaDownload), rows)

    async def requests_between(
        self, assets: set[uuid.UUID], listeners: set[str], *, after: datetime, until: datetime
    ) -> dict[Key, list[Served]]:
        r = m.MediaRequest
        rows = await self.session.execute(
            select(r.asset_id, r.listener, r.requested_at, r.range_start, r.range_end).where(
                r.asset_id.in_(assets), r.listener.in_(listeners), r.requested_at > after, r.requested_at <= until
            )
        )
        found: dict[Key, list[Served]] = defaultdict(list)
        for asset_id, listener, requested_at, start, end in rows.all():
            found[(asset_id, listener)].append((requested_at, start, end))
        return found

    async def window_starts_between(
        self, assets: set[uuid.UUID], listeners: set[str], *, after: datetime, before: datetime
    ) -> dict[Key, list[datetime]]:
        d = m.MediaDownload
        rows = await self.session.execute(
            select(d.asset_id, d.listener, d.window_start).where(
                d.asset_id.in_(assets), d.listener.in_(listeners), d.window_start > after, d.window_start < before
            )
        )
        found: dict[Key, list[datetime]] = defaultdict(list)
        for asset_id, listener, window_start in rows.all():
            found[(asset_id, listener)].append(window_start)
        return found

    async def delete_requests_before(self, moment: datetime) -> int:
        result = await self.session.execute(delete(m.MediaRequest).where(m.MediaRequest.requested_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- statistics
    async def asset(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        return await self.session.get(m.MediaAsset, asset_id)

    async def per_day(self, asset_id: uuid.UUID, start: date, end: date) -> dict[date, int]:
        d = m.MediaDownload
        rows = await self.session.execute(
            select(d.day, func.count()).where(d.asset_id == asset_id, d.day >= start, d.day <= end).group_by(d.day)
        )
        return dict(rows.all())

    async def per_app(self, asset_id: uuid.UUID, start: date, end: date) -> list[tuple[str, int]]:
        d = m.MediaDownload
        count = func.count().label("count")
        rows = await self.session.execute(
            select(d.app, count)
            .where(d.asset_id == asset_id, d.day >= start, d.day <= end)
            .group_by(d.app)
            .order_by(count.desc(), d.app)
        )
        return [(app, count) for app, count in rows.all()]

    async def totals(
        self, *, start: date | None, end: date | None, limit: int, offset: int
    ) -> tuple[list[tuple[uuid.UUID, str | None, str, int]], int]:
        d, a = m.MediaDownload, m.MediaAsset
        where = [d.day >= start, d.day <= end] if start is not None and end is not None else []
        per_asset = (
            select(d.asset_id, func.count().label("total")).where(*where).group_by(d.asset_id).subquery("per_asset")
        )
        total = (await self.session.execute(select(func.count()).select_from(per_asset))).scalar_one()
        rows = await self.session.execute(
            select(per_asset.c.asset_id, a.ref, a.name, per_asset.c.total)
            .join(a, a.id == per_asset.c.asset_id)
            .order_by(per_asset.c.total.desc(), a.ref.asc().nulls_last(), a.name, a.id)
            .limit(limit)
            .offset(offset)
        )
        return [(asset_id, ref, name, count) for asset_id, ref, name, count in rows.all()], total

    async def episode_totals(self, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """All-time downloads of each asset and its renditions together."""
        if not asset_ids:
            return {}
        asset, download = m.MediaAsset, m.MediaDownload
        episode = func.coalesce(asset.parent_id, asset.id)
        rows = await self.session.execute(
            select(episode, func.count())
            .select_from(download)
            .join(asset, asset.id == download.asset_id)
            .where(episode.in_(asset_ids))
            .group_by(episode)
        )
        return {row[0]: row[1] for row in rows.all()}
