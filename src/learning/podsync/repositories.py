"""Queries behind app passwords, login flows, devices, subscriptions and episode actions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.db.session import session_driver
from learning.db.sql import numbered

# Many rows in one statement, each column an array PostgreSQL unnests (as the progress ingest does): the same
# SQL whatever the number of rows, prepared once by asyncpg on the session's connection (bench/run podsync).
_ACTION_COLUMNS = (
    "device", "podcast", "episode", "guid", "action", "timestamp", "started",
    "position", "total", "received_at", "digest",
)  # fmt: skip
_ADD_ACTIONS, _ADD_ACTIONS_PARAMETERS = numbered(
    "INSERT INTO sync_episode_action (user_id, app_password_id, device, podcast, episode, guid, action, timestamp,"
    " started, position, total, received_at, digest)"
    " SELECT CAST(:user_id AS uuid), CAST(:app_password_id AS uuid), * FROM unnest(CAST(:device AS text[]),"
    " CAST(:podcast AS text[]), CAST(:episode AS text[]), CAST(:guid AS text[]), CAST(:action AS text[]),"
    " CAST(:timestamp AS timestamptz[]), CAST(:started AS int[]), CAST(:position AS int[]), CAST(:total AS int[]),"
    " CAST(:received_at AS timestamptz[]), CAST(:digest AS text[]))"
    " ON CONFLICT (user_id, digest) DO NOTHING RETURNING digest"
)
# What crediting an upload's play actions reads, in one round trip: when the account was made, the app
# password's name, the audio and video lessons the actions name (by lesson id or media id) in the learner's
# active enrollments, and for each of the upload's moments the latest of the learner's play actions kept at or
# before it since ``start`` (but the upload's own): one index lookup each, however many the learner kept.
_LISTENING, _LISTENING_PARAMETERS = numbered(
    "WITH lessons AS ("
    " SELECT l.id, l.media_id, l.duration_seconds FROM lesson l"
    " JOIN enrollment en ON en.module_id = l.module_id AND en.user_id = :user_id AND en.status = 'active'"
    " WHERE l.kind <> 'text'"
    " AND (l.id = ANY(CAST(:lesson_ids AS uuid[])) OR l.media_id = ANY(CAST(:media_ids AS uuid[])))"
    ")"
    " SELECT u.created_at, p.name,"
    " ARRAY(SELECT id FROM lessons) AS lesson_ids, ARRAY(SELECT media_id FROM lessons) AS media_ids,"
    " ARRAY(SELECT duration_seconds FROM lessons) AS durations,"
    " ARRAY(SELECT (SELECT max(a.timestamp) FROM sync_episode_action a WHERE a.user_id = :user_id"
    " AND a.action = 'play' AND a.timestamp BETWEEN :start AND t.moment"
    " AND a.digest <> ALL(CAST(:leaving_out AS text[])))"
    " FROM unnest(CAST(:moments AS timestamptz[])) AS t(moment)) AS moments"
    " FROM user_account u JOIN app_password p ON p.user_id = u.id AND p.id = :app_password_id"
    " WHERE u.id = :user_id"
)


@dataclass(frozen=True, slots=True)
class ListeningContext:
    """What crediting an upload's play actions needs to know (``SyncRepository.listening_context``)."""

    account_created: datetime
    app: str
    lessons: list[tuple[uuid.UUID, uuid.UUID | None, int]]  # (lesson id, media id, duration)
    moments: list[datetime]  # the latest play action kept before each of the upload's (but its own), if any


def _table(model: type[m.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # noqa: S101 — narrows the type for the dialect insert
    return table


class AppPasswordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: m.AppPassword) -> None:
        self.session.add(row)
        await self.session.flush()

    async def live(self, user_id: uuid.UUID) -> list[m.AppPassword]:
        query = (
            select(m.AppPassword)
            .where(m.AppPassword.user_id == user_id, m.AppPassword.revoked_at.is_(None))
            .order_by(m.AppPassword.created_at, m.AppPassword.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def revoke(self, user_id: uuid.UUID, password_id: uuid.UUID, at: datetime) -> m.AppPassword | None:
        """Revoke one of the account's live app passwords; the row as revoked, or None."""
        result = await self.session.execute(
            update(m.AppPassword)
            .where(
                m.AppPassword.id == password_id, m.AppPassword.user_id == user_id, m.AppPassword.revoked_at.is_(None)
            )
            .values(revoked_at=at)
            .returning(m.AppPassword)
        )
        return result.scalar_one_or_none()


class AppPasswordReads:
    """What authenticating a sync request reads and writes, each in a short unit of its own: the request's own
    session is never touched before the credentials hold (a refusal raised while the request's dependencies
    are being resolved must not leave a connection checked out)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def _live(self, condition: ColumnElement[bool]) -> tuple[m.AppPassword, str] | None:
        query = (
            select(m.AppPassword, m.UserAccount.email)
            .join(m.UserAccount, m.UserAccount.id == m.AppPassword.user_id)
            .where(condition, m.AppPassword.revoked_at.is_(None))
        )
        async with self.sessionmaker() as session:
            found = (await session.execute(query)).first()
        return None if found is None else (found[0], found[1])

    async def by_hash(self, secret_hash: str) -> tuple[m.AppPassword, str] | None:
        """The live app password of this hash and its account's e-mail."""
        return await self._live(m.AppPassword.secret_hash == secret_hash)

    async def by_id(self, password_id: uuid.UUID) -> tuple[m.AppPassword, str] | None:
        return await self._live(m.AppPassword.id == password_id)

    async def touch(self, password_id: uuid.UUID, at: datetime) -> None:
        async with self.sessionmaker.begin() as session:
            await session.execute(update(m.AppPassword).where(m.AppPassword.id == password_id).values(last_used_at=at))


class LoginFlowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: m.LoginFlow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def by_login(self, login_hash: str, now: datetime, *, lock: bool = False) -> m.LoginFlow | None:
        """The unexpired, unanswered flow of this login token (its row locked with ``lock``)."""
        query = select(m.LoginFlow).where(
            m.LoginFlow.login_hash == login_hash, m.LoginFlow.expires_at > now, m.LoginFlow.consumed_at.is_(None)
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def consume_approved(self, poll_hash: str, now: datetime) -> m.LoginFlow | None:
        """Mark the approved, unexpired, unanswered flow of this poll token answered: the row, once, or None."""
        result = await self.session.execute(
            update(m.LoginFlow)
            .where(
                m.LoginFlow.poll_hash == poll_hash,
                m.LoginFlow.expires_at > now,
                m.LoginFlow.approved_by.is_not(None),
                m.LoginFlow.consumed_at.is_(None),
            )
            .values(consumed_at=now)
            .returning(m.LoginFlow)
        )
        return result.scalar_one_or_none()

    async def purge(self, ended_before: datetime) -> None:
        await self.session.execute(delete(m.LoginFlow).where(m.LoginFlow.expires_at < ended_before))

    async def flush(self) -> None:
        await self.session.flush()


@dataclass(frozen=True, slots=True)
class WebPosition:
    """Where the web player (or any client) left a media lesson, as the apps are told it."""

    module_slug: str
    lesson_id: uuid.UUID
    asset: m.MediaAsset
    duration: int
    position: float
    moment: datetime


class SyncRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- devices ---------------------------------------------------------------------------------
    async def devices(self, user_id: uuid.UUID) -> list[m.SyncDevice]:
        query = select(m.SyncDevice).where(m.SyncDevice.user_id == user_id).order_by(m.SyncDevice.device)
        return list((await self.session.execute(query)).scalars())

    async def save_device(self, user_id: uuid.UUID, device: str, values: dict[str, str], now: datetime) -> None:
        """Create the device, or change the fields given."""
        table = _table(m.SyncDevice)
        statement = insert(table).values(
            id=uuid.uuid4(), user_id=user_id, device=device, caption=values.get("caption", ""),
            kind=values.get("kind", "other"), created_at=now,
        )  # fmt: skip
        if values:
            statement = statement.on_conflict_do_update(index_elements=[table.c.user_id, table.c.device], set_=values)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.device])
        await self.session.execute(statement)

    # --- subscriptions ---------------------------------------------------------------------------
    async def subscriptions(
        self, app_password_id: uuid.UUID, device: str, *, lock: bool = False
    ) -> list[m.SyncSubscription]:
        query = select(m.SyncSubscription).where(
            m.SyncSubscription.app_password_id == app_password_id, m.SyncSubscription.device == device
        )
        if lock:  # one reconciliation at a time per app password and device
            query = query.with_for_update()
        return list((await self.session.execute(query)).scalars())

    async def add_subscription(self, row: m.SyncSubscription) -> None:
        self.session.add(row)
        await self.session.flush()

    async def lock_password(self, app_password_id: uuid.UUID) -> None:
        """Serialise the subscription changes of one app password (its row locked until the transaction ends)."""
        await self.session.execute(
            select(m.AppPassword.id).where(m.AppPassword.id == app_password_id).with_for_update()
        )

    async def flush(self) -> None:
        await self.session.flush()

    # --- episode actions -------------------------------------------------------------------------
    async def add_actions(
        self, user_id: uuid.UUID, app_password_id: uuid.UUID, rows: Sequence[dict[str, Any]]
    ) -> set[str]:
        """Insert the actions (one statement, ``_ADD_ACTIONS``); one already kept (same account and digest) is left
        as it was. The digests of those inserted now."""
        if not rows:
            return set()
        values: dict[str, object] = {"user_id": user_id, "app_password_id": app_password_id}
        values |= {name: [row[name] for row in rows] for name in _ACTION_COLUMNS}
        connection = await session_driver(self.session)
        found = await connection.fetch(_ADD_ACTIONS, *[values[name] for name in _ADD_ACTIONS_PARAMETERS])
        return {row[0] for row in found}

    async def listening_context(
        self, user_id: uuid.UUID, app_password_id: uuid.UUID, *, lesson_ids: set[uuid.UUID],
        media_ids: set[uuid.UUID], moments: set[datetime], start: datetime, leaving_out: set[str],
    ) -> ListeningContext:  # fmt: skip
        """What crediting play actions reads (``_LISTENING``), in one round trip: the lessons among ``lesson_ids``
        or playing one of ``media_ids``, and for each of ``moments`` the latest play action kept at or before it
        since ``start`` (which is all the clock budget of an action at that moment needs)."""
        values = {
            "user_id": user_id, "app_password_id": app_password_id, "lesson_ids": list(lesson_ids),
            "media_ids": list(media_ids), "moments": sorted(moments), "start": start,
            "leaving_out": list(leaving_out),
        }  # fmt: skip
        connection = await session_driver(self.session)
        row = await connection.fetchrow(_LISTENING, *[values[name] for name in _LISTENING_PARAMETERS])
        if row is None:
            raise LookupError("no such account and app password")
        return ListeningContext(
            row["created_at"], row["name"],
            list(zip(row["lesson_ids"], row["media_ids"], row["durations"], strict=True)),
            [moment for moment in row["moments"] if moment is not None],
        )  # fmt: skip

    async def web_positions(self, user_id: uuid.UUID, since: datetime) -> list[WebPosition]:
        """Where the learner got to in each audio or video lesson of their enrolled modules, for the progress
        changed since ``since`` (bounded by the catalog: one row per lesson)."""
        progress, lesson, module, enrollment = m.LessonProgress, m.Lesson, m.Module, m.Enrollment
        query = (
            select(module.slug, lesson.id, m.MediaAsset, lesson.duration_seconds, progress.position_seconds,
                   progress.position_time)
            .join(lesson, lesson.id == progress.lesson_id)
            .join(module, module.id == lesson.module_id)
            .join(enrollment, (enrollment.module_id == module.id) & (enrollment.user_id == progress.user_id))
            .join(m.MediaAsset, m.MediaAsset.id == lesson.media_id)
            .where(
                progress.user_id == user_id, progress.updated_at >= since,
                enrollment.status == m.EnrollmentStatus.ACTIVE, progress.position_seconds.is_not(None),
                progress.position_time.is_not(None),
                lesson.kind != m.LessonKind.TEXT,
            )
            .order_by(progress.position_time, lesson.id)
        )  # fmt: skip
        return [
            WebPosition(slug, lesson_id, asset, duration, position, moment)
            for slug, lesson_id, asset, duration, position, moment in (await self.session.execute(query)).all()
            if position is not None and moment is not None  # always (the query asks for it): said for mypy
        ]

    async def actions(
        self, user_id: uuid.UUID, since: datetime, *, podcast: str | None, device: str | None, limit: int
    ) -> list[m.SyncEpisodeAction]:
        query = select(m.SyncEpisodeAction).where(
            m.SyncEpisodeAction.user_id == user_id, m.SyncEpisodeAction.received_at >= since
        )
        if podcast is not None:
            query = query.where(m.SyncEpisodeAction.podcast == podcast)
        if device is not None:
            query = query.where(m.SyncEpisodeAction.device == device)
        query = query.order_by(m.SyncEpisodeAction.received_at, m.SyncEpisodeAction.id).limit(limit)
        return list((await self.session.execute(query)).scalars())
