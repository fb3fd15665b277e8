"""Queries on uploads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class UploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, upload_id: uuid.UUID, *, lock: bool = False, skip_locked: bool = False) -> m.Upload | None:
        """The upload; with ``lock``, its row locked (``skip_locked``: None rather than wait for another)."""
        query = select(m.Upload).where(m.Upload.id == upload_id)
        if lock:
            query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def unfinished_bytes(self, now: datetime) -> tuple[int, int]:
        """Of the uploads still receiving bytes (not expired): their declared bytes, and those still to come."""
        upload = m.Upload
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(upload.length), 0),
                    func.coalesce(func.sum(upload.length - upload.offset), 0),
                ).where(upload.status == m.UploadStatus.UPLOADING, upload.expires_at > now)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def skip_commit_flush(self) -> None:
        """This transaction's commit need not wait for the WAL flush: what it records (an upload's offset
        and expiry) is a mirror of the store, recomputed on the next HEAD if lost in a crash."""
        await self.session.execute(text("SET LOCAL synchronous_commit = off"))

    async def add(self, upload: m.Upload) -> m.Upload:
        self.session.add(upload)
        await self.session.flush()
        return upload

    async def delete(self, upload: m.Upload) -> None:
        await self.session.delete(upload)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def listing(self, *, limit: int, offset: int) -> tuple[list[m.Upload], int]:
        total = (await self.session.execute(select(func.count()).select_from(m.Upload))).scalar_one()
        rows = await self.session.execute(
            select(m.Upload).order_by(m.Upload.created_at.desc(), m.Upload.id).limit(limit).offset(offset)
        )
        return list(rows.scalars()), total

    async def latest_per_target(self) -> dict[uuid.UUID, m.Upload]:
        """Each target's most recent upload."""
        upload = m.Upload
        rows = await self.session.execute(
            select(upload)
            .ext(distinct_on(upload.target_id))
            .order_by(upload.target_id, upload.created_at.desc(), upload.id)
        )
        return {row.target_id: row for row in rows.scalars()}

    async def expired(self, now: datetime, *, limit: int = 100) -> list[m.Upload]:
        rows = await self.session.execute(
            select(m.Upload)
            .where(m.Upload.status == m.UploadStatus.UPLOADING, m.Upload.expires_at < now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.scalars())

    async def stalled(self, before: datetime, *, limit: int = 100) -> list[m.Upload]:
        """Uploads waiting for processing (or left mid-way) that nothing touched since ``before``."""
        rows = await self.session.execute(
            select(m.Upload)
            .where(
                m.Upload.status.in_([m.UploadStatus.UPLOADED, m.UploadStatus.PROCESSING]),
                m.Upload.updated_at < before,
            )
            .limit(limit)
        )
        return list(rows.scalars())

    async def session_target(self, series_slug: str, session_slug: str) -> m.WebinarSession | None:
        query = (
            select(m.WebinarSession)
            .join(m.WebinarSeries, m.WebinarSeries.id == m.WebinarSession.series_id)
            .where(m.WebinarSeries.slug == series_slug, m.WebinarSession.slug == session_slug)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def sessions_matching(self, prefix: str) -> list[m.WebinarSession]:
        """Sessions whose slug starts with ``prefix`` (``2019-03`` names the March session)."""
        query = select(m.WebinarSession).where(m.WebinarSession.slug.startswith(prefix, autoescape=True))
        return list((await self.session.execute(query)).scalars())

    async def lesson_target(self, module_slug: str, lesson_slug: str) -> m.Lesson | None:
        query = (
            select(m.Lesson)
            .join(m.Module, m.Module.id == m.Lesson.module_id)
            .where(m.Module.slug == module_slug, m.Lesson.slug == lesson_slug)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def target(self, kind: m.UploadTarget, target_id: uuid.UUID) -> m.WebinarSession | m.Lesson | None:
        """The webinar session or lesson an upload is for."""
        model: type[m.WebinarSession] | type[m.Lesson] = (
            m.WebinarSession if kind is m.UploadTarget.WEBINAR_SESSION else m.Lesson
        )
        return await self.session.get(model, target_id)
