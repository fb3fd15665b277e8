"""Queries on registrations (with their session, series and learner where the messages need them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


@dataclass(frozen=True, slots=True)
class Registered:
    """A registration with what its messages say."""

    registration: m.SessionRegistration
    session: m.WebinarSession
    series: m.WebinarSeries
    email: str
    name: str | None


def _registered(
    row: Row[m.SessionRegistration, m.WebinarSession, m.WebinarSeries, str, str | None],
) -> Registered:
    registration, session, series, email, name = row
    return Registered(registration, session, series, email, name)


class RegistrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def session_of(self, series_slug: str, session_slug: str, now: datetime) -> m.WebinarSession | None:
        """A published session of a published series."""
        query = (
            select(m.WebinarSession)
            .join(m.WebinarSeries, m.WebinarSeries.id == m.WebinarSession.series_id)
            .where(
                m.WebinarSeries.slug == series_slug, m.WebinarSession.slug == session_slug,
                m.WebinarSeries.visible(now), m.WebinarSession.visible(now),
            )
        )  # fmt: skip
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get(
        self, user_id: uuid.UUID, session_id: uuid.UUID, *, lock: bool = False
    ) -> m.SessionRegistration | None:
        query = select(m.SessionRegistration).where(
            m.SessionRegistration.user_id == user_id, m.SessionRegistration.session_id == session_id
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_id(self, registration_id: uuid.UUID, *, lock: bool = False) -> m.SessionRegistration | None:
        return await self.session.get(m.SessionRegistration, registration_id, with_for_update=lock)

    async def add(self, registration: m.SessionRegistration) -> None:
        self.session.add(registration)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    def _joined(self) -> Select[m.SessionRegistration, m.WebinarSession, m.WebinarSeries, str, str | None]:
        return (
            select(
                m.SessionRegistration,
                m.WebinarSession,
                m.WebinarSeries,
                m.UserAccount.email,
                m.UserAccount.display_name,
            )
            .join(m.WebinarSession, m.WebinarSession.id == m.SessionRegistration.session_id)
            .join(m.WebinarSeries, m.WebinarSeries.id == m.WebinarSession.series_id)
            .join(m.UserAccount, m.UserAccount.id == m.SessionRegistration.user_id)
        )

    async def one(self, registration_id: uuid.UUID) -> Registered | None:
        rows = await self.session.execute(self._joined().where(m.SessionRegistration.id == registration_id))
        return next((_registered(row) for row in rows.all()), None)

    async def of_user(self, user_id: uuid.UUID) -> list[Registered]:
        rows = await self.session.execute(
            self._joined()
            .where(m.SessionRegistration.user_id == user_id, m.SessionRegistration.cancelled_at.is_(None))
            .order_by(m.WebinarSession.scheduled_at)
        )
        return [_registered(row) for row in rows.all()]

    async def of_session(self, session_id: uuid.UUID) -> list[Registered]:
        rows = await self.session.execute(
            self._joined()
            .where(m.SessionRegistration.session_id == session_id, m.SessionRegistration.cancelled_at.is_(None))
            .order_by(m.SessionRegistration.created_at)
        )
        return [_registered(row) for row in rows.all()]

    async def due(self, now: datetime, first_before: datetime, second_before: datetime, limit: int) -> list[Registered]:
        """Active registrations with something to send now (locked, skipped if another pass holds them): a
        reminder whose moment came (``first_before``/``second_before``: the session starts before then), a
        notice of a change (the session's sequence moved on), the replay out."""
        session, registration = m.WebinarSession, m.SessionRegistration
        replay = exists().where(m.MediaAsset.id == session.replay_id, m.MediaAsset.status == m.MediaStatus.READY)
        ahead = and_(session.scheduled_at > now, session.status != m.SessionStatus.CANCELLED)
        wanted = or_(
            and_(ahead, registration.first_reminder_at.is_(None), session.scheduled_at <= first_before),
            and_(ahead, registration.second_reminder_at.is_(None), session.scheduled_at <= second_before),
            registration.told_sequence < session.sequence,
            and_(registration.replay_notice_at.is_(None), replay),
        )
        rows = await self.session.execute(
            self._joined()
            .where(registration.cancelled_at.is_(None), session.visible(now), wanted)
            .order_by(session.scheduled_at, registration.id)
            .limit(limit)
            .with_for_update(of=registration, skip_locked=True)
        )
        return [_registered(row) for row in rows.all()]

    async def has_replay(self, session: m.WebinarSession) -> bool:
        if session.replay_id is None:
            return False
        asset = await self.session.get(m.MediaAsset, session.replay_id)
        return asset is not None and asset.status is m.MediaStatus.READY
