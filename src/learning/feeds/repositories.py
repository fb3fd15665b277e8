"""Queries behind the podcast feeds and the private feed tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learning.db import models as m


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def feed(self, kind: m.FeedKind, source_slug: str) -> m.PodcastFeed | None:
        query = (
            select(m.PodcastFeed)
            .where(m.PodcastFeed.kind == kind, m.PodcastFeed.source_slug == source_slug)
            .options(selectinload(m.PodcastFeed.artwork))
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def series(self, slug: str, now: datetime) -> m.WebinarSeries | None:
        """A visible series with all its sessions (visible or not: the next publication bounds the cache)."""
        sessions = selectinload(m.WebinarSeries.sessions)
        query = (
            select(m.WebinarSeries)
            .where(m.WebinarSeries.slug == slug, m.WebinarSeries.visible(now))
            .options(
                sessions.selectinload(m.WebinarSession.replay),
                sessions.selectinload(m.WebinarSession.transcript),
                sessions.selectinload(m.WebinarSession.chapters),
                sessions.selectinload(m.WebinarSession.artwork),
            )
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def module(self, slug: str, now: datetime) -> m.Module | None:
        """A visible module with all its lessons (visible or not) and their media."""
        lessons = selectinload(m.Module.lessons)
        query = (
            select(m.Module)
            .where(m.Module.slug == slug, m.Module.visible(now))
            .options(
                lessons.selectinload(m.Lesson.media),
                lessons.selectinload(m.Lesson.transcript),
                lessons.selectinload(m.Lesson.chapters),
                lessons.selectinload(m.Lesson.artwork),
            )
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def audio_renditions(self, parent_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.MediaAsset]:
        """The ready audio-only renditions of these assets, by parent id."""
        if not parent_ids:
            return {}
        rows = await self.session.execute(
            select(m.MediaAsset).where(
                m.MediaAsset.parent_id.in_(parent_ids),
                m.MediaAsset.rendition == m.Rendition.AUDIO,
                m.MediaAsset.status == m.MediaStatus.READY,
            )
        )
        return {asset.parent_id: asset for asset in rows.scalars() if asset.parent_id is not None}

    # --- private feed tokens --------------------------------------------------------------------
    async def live_token(self, token_hash: str) -> m.PrivateFeedToken | None:
        query = select(m.PrivateFeedToken).where(
            m.PrivateFeedToken.token_hash == token_hash, m.PrivateFeedToken.revoked_at.is_(None)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def user_tokens(self, user_id: uuid.UUID) -> list[m.PrivateFeedToken]:
        query = select(m.PrivateFeedToken).where(
            m.PrivateFeedToken.user_id == user_id, m.PrivateFeedToken.revoked_at.is_(None)
        )
        return list((await self.session.execute(query)).scalars())

    async def revoke_all(self, user_id: uuid.UUID, at: datetime) -> int:
        result = await self.session.execute(
            update(m.PrivateFeedToken)
            .where(m.PrivateFeedToken.user_id == user_id, m.PrivateFeedToken.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(m.PrivateFeedToken.id)
        )
        return len(result.all())

    async def add(self, row: m.PrivateFeedToken) -> None:
        self.session.add(row)
        await self.session.flush()

    async def enrolled_modules(self, user_id: uuid.UUID) -> list[m.Module]:
        """Visible modules the learner is actively enrolled in, in catalog order."""
        rows = await self.session.execute(
            select(m.Module)
            .join(m.Enrollment, m.Enrollment.module_id == m.Module.id)
            .where(
                m.Enrollment.user_id == user_id,
                m.Enrollment.status == m.EnrollmentStatus.ACTIVE,
                m.Module.visible(),
            )
            .order_by(m.Module.position, m.Module.slug)
        )
        return list(rows.scalars())

    async def enrolled_asset(self, user_id: uuid.UUID, asset_id: uuid.UUID) -> m.MediaAsset | None:
        """A ready asset of a visible lesson (or the audio rendition of one) in a module the learner is
        actively enrolled in; None otherwise."""
        asset = await self.session.get(m.MediaAsset, asset_id)
        if asset is None or asset.status is not m.MediaStatus.READY:
            return None
        owner = asset.parent_id if asset.rendition is m.Rendition.AUDIO and asset.parent_id else asset.id
        found = await self.session.execute(
            select(m.Lesson.id)
            .join(m.Enrollment, m.Enrollment.module_id == m.Lesson.module_id)
            .join(m.Module, m.Module.id == m.Lesson.module_id)
            .where(
                or_(m.Lesson.media_id == owner, m.Lesson.transcript_id == owner, m.Lesson.chapters_id == owner),
                m.Lesson.visible(),
                m.Module.visible(),
                m.Enrollment.user_id == user_id,
                m.Enrollment.status == m.EnrollmentStatus.ACTIVE,
            )
            .limit(1)
        )
        return asset if found.first() is not None else None
