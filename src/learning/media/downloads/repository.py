"""Every query of download counting: the advisory locks, the salts, the raw requests, the counted
downloads and the statistics over them. The caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m
from learning.media.downloads.batch import Batch

_LOCK_CLASS = 0x646C  # first key of the advisory locks that serialise counting per asset across processes

# Counting a batch is one statement, whatever its size (``batch.Batch`` has its arrays). In order:
#   req       the batch's request rows (one per byte range served), stored by ``stored``;
#   ident     each group's listener hashes (one listener of one asset, hashed with the salts of the last days);
#   hit       the hits, numbered in time order within their group (k);
#   seen      every request row a group's windows may use: the stored ones of its hashes in the batch's span
#             (index range scans on ix_media_request_asset_listener) and the batch's own rows (a CTE's
#             INSERT is not visible to the rest of its statement);
#   known     the windows already counted for the group's hashes (ix_media_download_asset_listener);
#   walk      rules.count_downloads in SQL: each group's hits, one step per hit, carrying the group's window
#             starts. A hit inside an existing window (less than 24 hours from a start) counts nothing; else
#             the requests of the last 24 hours after the end of the latest earlier window are unioned
#             (int8 ranges clipped to the file) and a download is counted once they cover the hit's
#             threshold (one minute of audio, from rules.threshold_bytes), its window starting at the
#             earliest of them;
#   added     the new downloads; the statement trigger on media_download adds them to download_day (the admin's
#             figures) in the same transaction, as one INSERT … ON CONFLICT DO UPDATE per statement (the
#             migration c4a8e2f61d93 has it: whoever writes media_download, the rollup follows).
# Counting is serialised per asset by ``lock_assets``, so the rollup's rows are updated in one order.
_COUNT = text(
    "WITH RECURSIVE req AS ("
    " SELECT * FROM unnest(CAST(:r_asset AS uuid[]), CAST(:r_listener AS text[]), CAST(:r_at AS timestamptz[]),"
    " CAST(:r_start AS bigint[]), CAST(:r_end AS bigint[]), CAST(:r_app AS text[]))"
    " AS r(asset_id, listener, requested_at, range_start, range_end, app)"
    "), stored AS ("
    " INSERT INTO media_request (asset_id, listener, requested_at, range_start, range_end, app)"
    " SELECT asset_id, listener, requested_at, range_start, range_end, app FROM req"
    "), ident AS ("
    " SELECT * FROM unnest(CAST(:i_group AS int[]), CAST(:i_asset AS uuid[]), CAST(:i_listener AS text[]))"
    " AS i(g, asset_id, listener)"
    "), hit AS ("
    " SELECT * FROM unnest(CAST(:h_group AS int[]), CAST(:h_k AS int[]), CAST(:h_asset AS uuid[]),"
    " CAST(:h_listener AS text[]), CAST(:h_at AS timestamptz[]), CAST(:h_size AS bigint[]),"
    " CAST(:h_threshold AS bigint[]), CAST(:h_app AS text[]), CAST(:h_day AS date[]))"
    " AS h(g, k, asset_id, listener, at, size, threshold, app, day)"
    "), seen AS ("
    " SELECT i.g, r.requested_at AS at, r.range_start AS s, r.range_end AS e FROM ident i"
    " JOIN media_request r ON r.asset_id = i.asset_id AND r.listener = i.listener"
    " AND r.requested_at > CAST(:after AS timestamptz) AND r.requested_at <= CAST(:until AS timestamptz)"
    " UNION ALL"
    " SELECT i.g, q.requested_at, q.range_start, q.range_end FROM ident i"
    " JOIN req q ON q.asset_id = i.asset_id AND q.listener = i.listener"
    "), history AS ("
    " SELECT g, array_agg(at) AS ats, array_agg(s) AS ss, array_agg(e) AS es FROM seen GROUP BY g"
    "), known AS ("
    " SELECT i.g, array_agg(d.window_start) AS starts FROM ident i"
    " JOIN media_download d ON d.asset_id = i.asset_id AND d.listener = i.listener"
    " AND d.window_start > CAST(:starts_after AS timestamptz)"
    " AND d.window_start < CAST(:starts_before AS timestamptz)"
    " GROUP BY i.g"
    "), grp AS ("
    " SELECT g, array_agg(at ORDER BY k) AS ats, array_agg(size ORDER BY k) AS sizes,"
    " array_agg(threshold ORDER BY k) AS thresholds FROM hit GROUP BY g"
    "), walk (g, k, n, ats, sizes, thresholds, rats, rss, res, starts, counted, start) AS ("
    " SELECT grp.g, 0, cardinality(grp.ats), grp.ats, grp.sizes, grp.thresholds,"
    " coalesce(h.ats, '{}'), coalesce(h.ss, '{}'), coalesce(h.es, '{}'), coalesce(kn.starts, '{}'),"
    " false, CAST(NULL AS timestamptz)"
    " FROM grp LEFT JOIN history h ON h.g = grp.g LEFT JOIN known kn ON kn.g = grp.g"
    " UNION ALL"
    " SELECT w.g, w.k + 1, w.n, w.ats, w.sizes, w.thresholds, w.rats, w.rss, w.res,"
    " CASE WHEN d.counted THEN w.starts || win.earliest ELSE w.starts END, d.counted,"
    " CASE WHEN d.counted THEN win.earliest END"
    " FROM walk w"
    " CROSS JOIN LATERAL (SELECT w.ats[w.k + 1] AS at, w.sizes[w.k + 1] AS size,"
    " w.thresholds[w.k + 1] AS threshold) h"
    " CROSS JOIN LATERAL (SELECT"
    " EXISTS (SELECT FROM unnest(w.starts) s WHERE s > h.at - CAST(:window AS interval)"
    " AND s < h.at + CAST(:window AS interval)) AS inside,"
    " coalesce((SELECT max(s) FROM unnest(w.starts) s WHERE s + CAST(:window AS interval) <= h.at)"
    " + CAST(:window AS interval), h.at - CAST(:window AS interval)) AS floor"
    " ) f"
    " CROSS JOIN LATERAL (SELECT count(*) AS requests, min(x.at) AS earliest,"
    " range_agg(int8range(greatest(x.s, 0), least(x.e, h.size - 1), '[]'))"
    " FILTER (WHERE greatest(x.s, 0) <= least(x.e, h.size - 1)) AS served"
    " FROM unnest(w.rats, w.rss, w.res) AS x(at, s, e)"
    " WHERE x.at > h.at - CAST(:window AS interval) AND x.at <= h.at AND x.at >= f.floor"
    " ) win"
    " CROSS JOIN LATERAL (SELECT NOT f.inside AND win.requests > 0"
    " AND coalesce((SELECT sum(upper(u) - lower(u)) FROM unnest(win.served) AS u), 0) >= h.threshold"
    " AS counted) d"
    " WHERE w.k < w.n"
    "), added AS ("
    " INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day)"
    " SELECT h.asset_id, h.listener, w.start, h.at, h.app, h.day FROM walk w JOIN hit h ON h.g = w.g AND h.k = w.k"
    " WHERE w.counted ORDER BY h.g, h.k"
    " RETURNING 1"
    ")"
    " SELECT count(*) FROM added"
)


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

    async def count_batch(self, batch: Batch, *, window: timedelta) -> int:
        """Store the batch's requests, decide its new downloads and add them to the day rollup, in one
        statement (see ``_COUNT``); returns how many downloads were counted."""
        found = await self.session.execute(_COUNT, {**batch.parameters(), "window": window})
        return int(found.scalar_one())

    async def delete_requests_before(self, moment: datetime) -> int:
        result = await self.session.execute(delete(m.MediaRequest).where(m.MediaRequest.requested_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- statistics: from the day rollup (download_day), never from the downloads themselves
    async def asset(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        return await self.session.get(m.MediaAsset, asset_id)

    async def per_day(self, asset_id: uuid.UUID, start: date, end: date) -> dict[date, int]:
        t = m.DownloadDay
        rows = await self.session.execute(
            select(t.day, func.sum(t.downloads))
            .where(t.asset_id == asset_id, t.day >= start, t.day <= end)
            .group_by(t.day)
        )
        return {day: int(count) for day, count in rows.all()}

    async def per_app(self, asset_id: uuid.UUID, start: date, end: date) -> list[tuple[str, int]]:
        t = m.DownloadDay
        count = func.sum(t.downloads).label("count")
        rows = await self.session.execute(
            select(t.app, count)
            .where(t.asset_id == asset_id, t.day >= start, t.day <= end)
            .group_by(t.app)
            .order_by(count.desc(), t.app)
        )
        return [(app, int(count)) for app, count in rows.all()]

    async def totals(
        self, *, start: date | None, end: date | None, limit: int, offset: int
    ) -> tuple[list[tuple[uuid.UUID, str | None, str, int]], int]:
        t, a = m.DownloadDay, m.MediaAsset
        where = [t.day >= start, t.day <= end] if start is not None and end is not None else []
        per_asset = (
            select(t.asset_id, func.sum(t.downloads).label("total"))
            .where(*where)
            .group_by(t.asset_id)
            .subquery("per_asset")
        )
        total = (await self.session.execute(select(func.count()).select_from(per_asset))).scalar_one()
        rows = await self.session.execute(
            select(per_asset.c.asset_id, a.ref, a.name, per_asset.c.total)
            .join(a, a.id == per_asset.c.asset_id)
            .order_by(per_asset.c.total.desc(), a.ref.asc().nulls_last(), a.name, a.id)
            .limit(limit)
            .offset(offset)
        )
        return [(asset_id, ref, name, int(count)) for asset_id, ref, name, count in rows.all()], total

    async def episode_totals(self, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """All-time downloads of each asset and its renditions together."""
        if not asset_ids:
            return {}
        asset, day = m.MediaAsset, m.DownloadDay
        episode = func.coalesce(asset.parent_id, asset.id)
        rows = await self.session.execute(
            select(episode, func.sum(day.downloads))
            .select_from(day)
            .join(asset, asset.id == day.asset_id)
            .where(episode.in_(asset_ids))
            .group_by(episode)
        )
        return {row[0]: int(row[1]) for row in rows.all()}
