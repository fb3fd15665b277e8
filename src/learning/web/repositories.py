"""Read models of the admin desk: every session and lesson (drafts too) with its replay and latest upload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


@dataclass(frozen=True, slots=True)
class Episode:
    """A webinar session or a lesson, as the desk lists it."""

    kind: m.UploadTarget
    id: uuid.UUID
    parent_slug: str
    parent_title: str
    slug: str
    title: str
    publication: m.Publication
    publish_at: datetime | None
    media_id: uuid.UUID | None
    scheduled_at: datetime | None = None
    lesson_kind: m.LessonKind | None = None

    @property
    def target(self) -> str:
        """The tus ``target`` metadata naming this episode."""
        prefix = "session" if self.kind is m.UploadTarget.WEBINAR_SESSION else "lesson"
        return f"{prefix}:{self.parent_slug}/{self.slug}"

    @property
    def public_path(self) -> str:
        if self.kind is m.UploadTarget.WEBINAR_SESSION:
            return f"/webinaires/{self.parent_slug}/{self.slug}"
        return f"/modules/{self.parent_slug}/lecons/{self.slug}"


class DeskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sessions(self) -> list[Episode]:
        s, series = m.WebinarSession, m.WebinarSeries
        rows = await self.session.execute(
            select(series.slug, series.title, s.id, s.slug, s.title, s.publication, s.publish_at, s.replay_id,
                   s.scheduled_at)
            .join(series, series.id == s.series_id)
            .order_by(series.slug, s.scheduled_at, s.slug)
        )  # fmt: skip
        return [
            Episode(m.UploadTarget.WEBINAR_SESSION, row[2], row[0], row[1], row[3], row[4], row[5], row[6], row[7],
                    scheduled_at=row[8])
            for row in rows.all()
        ]  # fmt: skip

    async def lessons(self) -> list[Episode]:
        lesson, module = m.Lesson, m.Module
        rows = await self.session.execute(
            select(module.slug, module.title, lesson.id, lesson.slug, lesson.title, lesson.publication,
                   lesson.publish_at, lesson.media_id, lesson.kind)
            .join(module, module.id == lesson.module_id)
            .order_by(module.position, module.slug, lesson.position, lesson.slug)
        )  # fmt: skip
        return [
            Episode(m.UploadTarget.LESSON, row[2], row[0], row[1], row[3], row[4], row[5], row[6], row[7],
                    lesson_kind=row[8])
            for row in rows.all()
        ]  # fmt: skip

    async def latest_uploads(self) -> dict[uuid.UUID, m.Upload]:
        """Each target's most recent upload."""
        upload = m.Upload
        rows = await self.session.execute(
            select(upload)
            .ext(distinct_on(upload.target_id))
            .order_by(upload.target_id, upload.created_at.desc(), upload.id)
        )
        return {row.target_id: row for row in rows.scalars()}

    async def download_totals(self, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """All-time downloads of each asset and its renditions (the feeds' audio file counts for its video)."""
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

    async def episode_files(self, asset_id: uuid.UUID) -> list[m.MediaAsset]:
        """An episode's original file and its downloadable renditions (not its poster)."""
        asset = m.MediaAsset
        rows = await self.session.execute(
            select(asset)
            .where(or_(asset.id == asset_id, asset.parent_id == asset_id), asset.rendition != m.Rendition.POSTER)
            .order_by(asset.parent_id.nulls_first(), asset.name)
        )
        return list(rows.scalars())

    async def episode_of(self, asset_id: uuid.UUID) -> Episode | None:
        """The session or lesson whose replay this asset is."""
        for episode in [*await self.sessions(), *await self.lessons()]:
            if episode.media_id == asset_id:
                return episode
        return None
