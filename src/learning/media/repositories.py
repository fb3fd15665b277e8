"""Queries on media assets."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in the object store, checked and ready to serve: what its media asset records of it."""

    kind: m.MediaKind
    name: str  # the last segment of its URL: /media/{id}/{name}.{extension}
    extension: str
    mime_type: str
    size_bytes: int
    storage_key: str
    sha256: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        return await self.session.get(m.MediaAsset, asset_id)

    async def is_published(self, asset: m.MediaAsset, now: datetime) -> bool:
        """Whether a public URL may serve this asset: it (or, for a rendition, its original) belongs to a
        visible lesson of a visible module, to a visible session of a visible series, or is a feed's artwork or
        live-item stand-in.
        Media of drafts and of scheduled content not yet due are not public, nor are files attached to nothing."""
        owner = asset.parent_id if asset.rendition is not m.Rendition.ORIGINAL and asset.parent_id else asset.id
        lesson, session = m.Lesson, m.WebinarSession
        in_lesson = (
            select(lesson.id)
            .join(m.Module, m.Module.id == lesson.module_id)
            .where(
                or_(lesson.media_id == owner, lesson.transcript_id == owner, lesson.chapters_id == owner,
                    lesson.artwork_id == owner),
                lesson.visible(now),
                m.Module.visible(now),
            )
        )  # fmt: skip
        in_session = (
            select(session.id)
            .join(m.WebinarSeries, m.WebinarSeries.id == session.series_id)
            .where(
                or_(session.replay_id == owner, session.transcript_id == owner, session.chapters_id == owner,
                    session.artwork_id == owner),
                session.visible(now),
                m.WebinarSeries.visible(now),
            )
        )  # fmt: skip
        feed = m.PodcastFeed
        feed_artwork = select(feed.id).where(or_(feed.artwork_id == owner, feed.live_enclosure_id == owner))
        query = select(or_(exists(in_lesson), exists(in_session), exists(feed_artwork)))
        return bool((await self.session.execute(query)).scalar())

    async def by_refs(self, refs: Iterable[str]) -> dict[str, m.MediaAsset]:
        wanted = list(refs)
        if not wanted:
            return {}
        rows = await self.session.execute(select(m.MediaAsset).where(m.MediaAsset.ref.in_(wanted)))
        return {asset.ref: asset for asset in rows.scalars() if asset.ref is not None}

    async def rendition(self, parent_id: uuid.UUID, rendition: m.Rendition) -> m.MediaAsset | None:
        """A ready rendition (the audio ``.m4a``, the poster) of an asset."""
        query = select(m.MediaAsset).where(
            m.MediaAsset.parent_id == parent_id,
            m.MediaAsset.rendition == rendition,
            m.MediaAsset.status == m.MediaStatus.READY,
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def register(
        self,
        file: StoredFile,
        *,
        rendition: m.Rendition = m.Rendition.ORIGINAL,
        parent_id: uuid.UUID | None = None,
        ref: str | None = None,
        asset_id: uuid.UUID | None = None,
    ) -> m.MediaAsset:
        """The one way a stored file becomes a (ready) media asset.

        With ``asset_id``, an asset of that id is updated in place rather than duplicated: a job run again
        after a crash derives the same ids and overwrites what the previous run left.
        """
        asset = await self.get(asset_id) if asset_id is not None else None
        if asset is None:
            asset = m.MediaAsset(id=asset_id or uuid.uuid4())
            self.session.add(asset)
        asset.ref, asset.parent_id, asset.rendition = ref, parent_id, rendition
        asset.kind, asset.status = file.kind, m.MediaStatus.READY
        asset.name, asset.extension, asset.mime_type = file.name, file.extension, file.mime_type
        asset.size_bytes, asset.sha256, asset.storage_key = file.size_bytes, file.sha256, file.storage_key
        asset.duration_seconds, asset.width, asset.height = file.duration_seconds, file.width, file.height
        await self.session.flush()
        return asset

    async def episode_files(self, asset_id: uuid.UUID) -> list[m.MediaAsset]:
        """An episode's original file and its downloadable renditions (not its poster)."""
        asset = m.MediaAsset
        rows = await self.session.execute(
            select(asset)
            .where(or_(asset.id == asset_id, asset.parent_id == asset_id), asset.rendition != m.Rendition.POSTER)
            .order_by(asset.parent_id.nulls_first(), asset.name)
        )
        return list(rows.scalars())

    async def flush(self) -> None:
        await self.session.flush()
