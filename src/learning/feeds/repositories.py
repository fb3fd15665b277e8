"""Queries behind the podcast feeds and the private feed tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Uuid, any_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learning.db import models as m


@dataclass(frozen=True, slots=True)
class AssetRow:
    """What a feed needs of a media asset: plain values, cheap to make by the thousand (no ORM state)."""

    id: uuid.UUID
    kind: m.MediaKind
    status: m.MediaStatus
    name: str
    extension: str
    mime_type: str
    size_bytes: int
    duration_seconds: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    """What a feed needs of a webinar session, with its media."""

    id: uuid.UUID
    slug: str
    title: str
    summary: str
    body_html: str
    scheduled_at: datetime
    duration_minutes: int
    status: m.SessionStatus
    speakers: list[dict[str, str]]
    publication: m.Publication
    publish_at: datetime | None
    updated_at: datetime
    created_at: datetime
    join_url: str | None
    sequence: int
    cancel_reason: str
    replay: AssetRow | None
    transcript: AssetRow | None
    chapters: AssetRow | None
    artwork: AssetRow | None


_ASSET = m.MediaAsset
_ASSET_COLUMNS = (
    _ASSET.id, _ASSET.kind, _ASSET.status, _ASSET.name, _ASSET.extension, _ASSET.mime_type, _ASSET.size_bytes,
    _ASSET.duration_seconds, _ASSET.updated_at,
)  # fmt: skip
_SESSION = m.WebinarSession
_SESSION_COLUMNS = (
    _SESSION.id, _SESSION.slug, _SESSION.title, _SESSION.summary, _SESSION.body_html, _SESSION.scheduled_at,
    _SESSION.duration_minutes, _SESSION.status, _SESSION.speakers, _SESSION.publication, _SESSION.publish_at,
    _SESSION.updated_at, _SESSION.created_at, _SESSION.join_url, _SESSION.sequence, _SESSION.cancel_reason,
)  # fmt: skip


# A thousand ids as one array parameter: one statement PostgreSQL plans once, not an IN list of a thousand
# parameters rendered, sent and planned anew for every count.
_IDS = bindparam("ids", type_=ARRAY(Uuid()))


def _asset(row: Any) -> AssetRow:
    return AssetRow(*row[: len(_ASSET_COLUMNS)])


def _personal() -> ColumnElement[bool]:
    """A token the learner made for themselves, not one made for a podcast app's password (issue 25)."""
    return ~exists().where(m.AppPassword.feed_token_id == m.PrivateFeedToken.id)


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def feed(self, kind: m.FeedKind, source_slug: str) -> m.PodcastFeed | None:
        query = (
            select(m.PodcastFeed)
            .where(m.PodcastFeed.kind == kind, m.PodcastFeed.source_slug == source_slug)
            .options(selectinload(m.PodcastFeed.artwork), selectinload(m.PodcastFeed.live_enclosure))
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def series(self, slug: str, now: datetime) -> m.WebinarSeries | None:
        query = select(m.WebinarSeries).where(m.WebinarSeries.slug == slug, m.WebinarSeries.visible(now))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def series_sessions(self, series_id: uuid.UUID) -> list[SessionRow]:
        """All sessions of a series (visible or not: the next publication bounds the cache), with their media.

        Plain rows rather than ORM objects: a series may have a thousand sessions, and a cold feed should
        neither build nor garbage-collect thousands of tracked instances.
        """
        media = (_SESSION.replay_id, _SESSION.transcript_id, _SESSION.chapters_id, _SESSION.artwork_id)
        rows: list[Any] = list(
            (await self.session.execute(select(*_SESSION_COLUMNS, *media).where(_SESSION.series_id == series_id))).all()
        )
        count = len(_SESSION_COLUMNS)
        wanted = {asset_id for row in rows for asset_id in row[count:] if asset_id is not None}
        assets = await self.asset_rows(wanted)
        return [
            SessionRow(*row[:count], *(assets.get(asset_id) if asset_id else None for asset_id in row[count:]))
            for row in rows
        ]

    async def asset_rows(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, AssetRow]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*_ASSET_COLUMNS).where(_ASSET.id == any_(_IDS)), {"ids": list(ids)})
        return {asset.id: asset for asset in map(_asset, rows.all())}

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

    async def audio_renditions(self, parent_ids: list[uuid.UUID]) -> dict[uuid.UUID, AssetRow]:
        """The ready audio-only renditions of these assets, by parent id."""
        if not parent_ids:
            return {}
        rows = await self.session.execute(
            select(*_ASSET_COLUMNS, _ASSET.parent_id).where(
                _ASSET.parent_id == any_(_IDS),
                _ASSET.rendition == m.Rendition.AUDIO,
                _ASSET.status == m.MediaStatus.READY,
            ),
            {"ids": parent_ids},
        )
        return {row.parent_id: _asset(row) for row in rows.all()}

    # --- what a public feed last looked like ---------------------------------------------------
    async def record_version(self, feed_id: uuid.UUID, digest: str, now: datetime) -> datetime:
        """The instant the feed took the look ``digest`` names: kept while it stays the same, moved to ``now``
        when it differs (at least a second past the previous instant, so that HTTP dates, which count whole
        seconds, always move). Atomic: processes rendering the same feed at once agree."""
        version = m.FeedVersion
        known = (
            await self.session.execute(select(version.digest, version.changed_at).where(version.feed_id == feed_id))
        ).first()
        if known is not None and known.digest == digest:  # the usual case: read only, no row lock
            recorded: datetime = known.changed_at
            return recorded
        insert = pg_insert(version).values(feed_id=feed_id, digest=digest, changed_at=now.replace(microsecond=0))
        moved = await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[version.feed_id],
                set_={
                    "digest": insert.excluded.digest,
                    "changed_at": func.greatest(
                        insert.excluded.changed_at,
                        func.date_trunc("second", version.changed_at) + timedelta(seconds=1),
                    ),
                },
                where=version.digest != insert.excluded.digest,
            ).returning(version.changed_at)
        )
        changed_at = moved.scalar_one_or_none()
        if changed_at is None:  # another process recorded this same look meanwhile: its instant stays
            changed_at = await self.version_changed_at(feed_id)
        return changed_at or now.replace(microsecond=0)  # (None only if the feed was deleted meanwhile)

    async def version_changed_at(self, feed_id: uuid.UUID) -> datetime | None:
        query = select(m.FeedVersion.changed_at).where(m.FeedVersion.feed_id == feed_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- private feed tokens --------------------------------------------------------------------
    async def token(self, token_hash: str) -> m.PrivateFeedToken | None:
        """The token of this hash, live or revoked (``revoked_at`` says which)."""
        query = select(m.PrivateFeedToken).where(m.PrivateFeedToken.token_hash == token_hash)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def user_tokens(self, user_id: uuid.UUID) -> list[m.PrivateFeedToken]:
        """The learner's own live tokens (not those of their podcast apps' passwords)."""
        query = select(m.PrivateFeedToken).where(
            m.PrivateFeedToken.user_id == user_id, m.PrivateFeedToken.revoked_at.is_(None), _personal()
        )
        return list((await self.session.execute(query)).scalars())

    async def revoke_all(self, user_id: uuid.UUID, at: datetime) -> int:
        """Revoke the learner's own live tokens (an app password's goes with that password)."""
        result = await self.session.execute(
            update(m.PrivateFeedToken)
            .where(m.PrivateFeedToken.user_id == user_id, m.PrivateFeedToken.revoked_at.is_(None), _personal())
            .values(revoked_at=at)
            .returning(m.PrivateFeedToken.id)
        )
        return len(result.all())

    async def add(self, row: m.PrivateFeedToken) -> None:
        self.session.add(row)
        await self.session.flush()

    async def revoke_token(self, token_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(m.PrivateFeedToken)
            .where(m.PrivateFeedToken.id == token_id, m.PrivateFeedToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

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
