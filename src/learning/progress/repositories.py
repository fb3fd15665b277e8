"""Queries on enrollments and on learners' progress."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class EnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID, module_id: uuid.UUID, *, lock: bool = False) -> m.Enrollment | None:
        query = select(m.Enrollment).where(m.Enrollment.user_id == user_id, m.Enrollment.module_id == module_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def active_with_modules(self, user_id: uuid.UUID) -> list[tuple[m.Enrollment, m.Module]]:
        rows = await self.session.execute(
            select(m.Enrollment, m.Module)
            .join(m.Module, m.Module.id == m.Enrollment.module_id)
            .where(m.Enrollment.user_id == user_id, m.Enrollment.status == m.EnrollmentStatus.ACTIVE)
            .order_by(m.Module.position, m.Module.slug)
        )
        return [(row[0], row[1]) for row in rows.all()]

    async def visible_module(self, slug: str) -> m.Module | None:
        query = select(m.Module).where(m.Module.slug == slug, m.Module.visible())
        return (await self.session.execute(query)).scalar_one_or_none()

    async def module(self, slug: str) -> m.Module | None:
        return (await self.session.execute(select(m.Module).where(m.Module.slug == slug))).scalar_one_or_none()

    async def add(self, enrollment: m.Enrollment) -> m.Enrollment:
        self.session.add(enrollment)
        await self.session.flush()
        return enrollment

    async def flush(self) -> None:
        await self.session.flush()


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """What applying events to a lesson needs, and whether the learner is enrolled in its module."""

    id: uuid.UUID
    module_id: uuid.UUID
    duration_seconds: int | None
    completion_rule: m.CompletionRule
    completion_threshold: float
    enrolled: bool


@dataclass(slots=True)
class ProgressState:
    """A learner's merged progress on a lesson, as the event ingestion reads and writes it."""

    lesson_id: uuid.UUID
    segments: list[list[float]]
    watched_seconds: float = 0.0
    position_seconds: float | None = None
    position_time: datetime | None = None
    completed: bool = False
    completed_at: datetime | None = None
    stored: bool = False  # False: no row yet


@dataclass(slots=True)
class Ingested:
    lessons: dict[uuid.UUID, LessonFacts] = field(default_factory=dict)
    inserted: set[uuid.UUID] = field(default_factory=set)  # event ids stored by this batch
    progress: dict[uuid.UUID, ProgressState] = field(default_factory=dict)  # existing rows, now locked


# Event ingestion is the hottest write path: plain statements, prepared once per connection by asyncpg (no
# ORM unit of work). Column lists follow ``m.ProgressEvent`` and ``m.LessonProgress``.
#
# _INGEST does in one round trip what a batch needs before merging: the facts of its lessons (and whether the
# learner is actively enrolled in each one's module), the event log insert — only when every lesson exists
# and is enrolled; ids already stored are skipped — and the learner's progress rows on those lessons, locked
# in lesson order (concurrent batches never deadlock). Rows of the three parts are told apart by ``part``.
_INGEST = text(
    "WITH facts AS ("
    " SELECT l.id, l.module_id, l.duration_seconds, l.completion_rule, l.completion_threshold,"
    " EXISTS (SELECT 1 FROM enrollment e WHERE e.user_id = :user_id AND e.module_id = l.module_id"
    " AND e.status = 'active') AS enrolled"
    " FROM lesson l WHERE l.id = ANY(CAST(:lessons AS uuid[]))"
    "), allowed AS ("
    " SELECT count(*) = cardinality(CAST(:lessons AS uuid[])) AND coalesce(bool_and(enrolled), false) AS ok"
    " FROM facts"
    "), inserted AS ("
    " INSERT INTO progress_event (id, user_id, lesson_id, kind, client_time, start_seconds, end_seconds,"
    " position_seconds)"
    " SELECT e.id, :user_id, e.lesson_id, e.kind, e.client_time, e.start_seconds, e.end_seconds, e.position_seconds"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:lesson_ids AS uuid[]), CAST(:kinds AS progress_event_kind[]),"
    " CAST(:client_times AS timestamptz[]), CAST(:starts AS float8[]), CAST(:ends AS float8[]),"
    " CAST(:positions AS float8[]))"
    " AS e(id, lesson_id, kind, client_time, start_seconds, end_seconds, position_seconds)"
    " WHERE (SELECT ok FROM allowed)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
    "), locked AS ("
    " SELECT p.lesson_id, p.segments, p.watched_seconds, p.position_seconds, p.position_time, p.completed,"
    " p.completed_at FROM lesson_progress p"
    " WHERE p.user_id = :user_id AND p.lesson_id = ANY(CAST(:lessons AS uuid[])) AND (SELECT ok FROM allowed)"
    " ORDER BY p.lesson_id FOR UPDATE"
    ")"
    " SELECT 'lesson' AS part, id, module_id, duration_seconds, CAST(completion_rule AS text) AS rule,"
    " completion_threshold, enrolled, CAST(NULL AS jsonb) AS segments, CAST(NULL AS float8) AS watched_seconds,"
    " CAST(NULL AS float8) AS position_seconds, CAST(NULL AS timestamptz) AS position_time,"
    " CAST(NULL AS boolean) AS completed, CAST(NULL AS timestamptz) AS completed_at FROM facts"
    " UNION ALL SELECT 'event', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM inserted"
    " UNION ALL SELECT 'progress', lesson_id, NULL, NULL, NULL, NULL, NULL, segments, watched_seconds,"
    " position_seconds, position_time, completed, completed_at FROM locked"
).columns(segments=JSONB)
_LOCK_PROGRESS = text(
    "SELECT lesson_id, segments, watched_seconds, position_seconds, position_time, completed, completed_at "
    "FROM lesson_progress WHERE user_id = :user_id AND lesson_id = :lesson_id FOR UPDATE"
).columns(segments=JSONB)
_CREATE_PROGRESS = text(
    "INSERT INTO lesson_progress (user_id, lesson_id, segments, watched_seconds, position_seconds, position_time, "
    "completed, completed_at, updated_at) "
    "VALUES (:user_id, :lesson_id, CAST(:segments AS jsonb), :watched_seconds, :position_seconds, :position_time, "
    ":completed, :completed_at, now()) ON CONFLICT (user_id, lesson_id) DO NOTHING RETURNING lesson_id"
)
_UPDATE_PROGRESS = text(
    "UPDATE lesson_progress SET segments = CAST(:segments AS jsonb), watched_seconds = :watched_seconds, "
    "position_seconds = :position_seconds, position_time = :position_time, completed = :completed, "
    "completed_at = :completed_at, updated_at = now() WHERE user_id = :user_id AND lesson_id = :lesson_id"
)


class ProgressRepository(EnrollmentRepository):
    """Progress queries; enrollment queries come from ``EnrollmentRepository``."""

    async def ingest(self, user_id: uuid.UUID, events: list[dict[str, Any]]) -> Ingested:
        """One round trip (see ``_INGEST``): the batch's lessons, the ids it stored, the locked progress rows."""
        params = {
            "user_id": user_id, "lessons": sorted({event["lesson_id"] for event in events}),
            "ids": [event["id"] for event in events], "lesson_ids": [event["lesson_id"] for event in events],
            "kinds": [event["kind"].value for event in events],
            "client_times": [event["client_time"] for event in events],
            "starts": [event["start_seconds"] for event in events],
            "ends": [event["end_seconds"] for event in events],
            "positions": [event["position_seconds"] for event in events],
        }  # fmt: skip
        found = Ingested()
        for row in await self.session.execute(_INGEST, params):
            if row.part == "lesson":
                found.lessons[row.id] = LessonFacts(
                    row.id, row.module_id, row.duration_seconds, m.CompletionRule(row.rule),
                    row.completion_threshold, row.enrolled,
                )  # fmt: skip
            elif row.part == "event":
                found.inserted.add(row.id)
            else:
                found.progress[row.id] = ProgressState(
                    lesson_id=row.id, segments=row.segments, watched_seconds=row.watched_seconds,
                    position_seconds=row.position_seconds, position_time=row.position_time,
                    completed=row.completed, completed_at=row.completed_at, stored=True,
                )  # fmt: skip
        return found

    async def lock_progress(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> ProgressState:
        """The learner's progress on a lesson, locked until the transaction ends (``stored=False`` if none)."""
        row = (await self.session.execute(_LOCK_PROGRESS, {"user_id": user_id, "lesson_id": lesson_id})).first()
        if row is None:
            return ProgressState(lesson_id=lesson_id, segments=[])
        return ProgressState(
            lesson_id=row.lesson_id, segments=row.segments, watched_seconds=row.watched_seconds,
            position_seconds=row.position_seconds, position_time=row.position_time, completed=row.completed,
            completed_at=row.completed_at, stored=True,
        )  # fmt: skip

    async def save_progress(self, user_id: uuid.UUID, state: ProgressState) -> bool:
        """Write the state; a first row loses to one another request created meanwhile (returns False)."""
        params = {
            "user_id": user_id, "lesson_id": state.lesson_id, "segments": json.dumps(state.segments),
            "watched_seconds": state.watched_seconds, "position_seconds": state.position_seconds,
            "position_time": state.position_time, "completed": state.completed, "completed_at": state.completed_at,
        }  # fmt: skip
        if state.stored:
            await self.session.execute(_UPDATE_PROGRESS, params)
            return True
        created = (await self.session.execute(_CREATE_PROGRESS, params)).first()
        state.stored = created is not None
        return state.stored

    async def lessons(self, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.Lesson]:
        rows = await self.session.execute(select(m.Lesson).where(m.Lesson.id.in_(lesson_ids)))
        return {lesson.id: lesson for lesson in rows.scalars()}

    async def events(self, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.ProgressEvent]:
        rows = await self.session.execute(select(m.ProgressEvent).where(m.ProgressEvent.id.in_(event_ids)))
        return {event.id: event for event in rows.scalars()}

    async def progress(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> m.LessonProgress | None:
        return await self.session.get(m.LessonProgress, (user_id, lesson_id))

    async def flush(self) -> None:
        await self.session.flush()

    async def module_lessons(self, module_slug: str) -> tuple[m.Module, list[m.Lesson]] | None:
        """A published module and its published lessons, in order."""
        module = (
            await self.session.execute(select(m.Module).where(m.Module.slug == module_slug, m.Module.visible()))
        ).scalar_one_or_none()
        if module is None:
            return None
        rows = await self.session.execute(
            select(m.Lesson).where(m.Lesson.module_id == module.id, m.Lesson.visible()).order_by(m.Lesson.position)
        )
        return module, list(rows.scalars())

    async def progress_rows(self, user_id: uuid.UUID, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.LessonProgress]:
        if not lesson_ids:
            return {}
        rows = await self.session.execute(
            select(m.LessonProgress).where(
                m.LessonProgress.user_id == user_id, m.LessonProgress.lesson_id.in_(lesson_ids)
            )
        )
        return {row.lesson_id: row for row in rows.scalars()}

    async def learner_activity(
        self, user_id: uuid.UUID
    ) -> tuple[list[m.ProgressEvent], list[m.Enrollment], list[m.Module], list[m.Lesson], list[m.LessonProgress]]:
        """Everything of one learner that xAPI statements are made of."""
        events = list(
            (await self.session.execute(select(m.ProgressEvent).where(m.ProgressEvent.user_id == user_id))).scalars()
        )
        enrollments = list(
            (await self.session.execute(select(m.Enrollment).where(m.Enrollment.user_id == user_id))).scalars()
        )
        module_ids = [enrollment.module_id for enrollment in enrollments]
        modules = list((await self.session.execute(select(m.Module).where(m.Module.id.in_(module_ids)))).scalars())
        lessons = list(
            (await self.session.execute(select(m.Lesson).where(m.Lesson.module_id.in_(module_ids)))).scalars()
        )
        rows = list(
            (await self.session.execute(select(m.LessonProgress).where(m.LessonProgress.user_id == user_id))).scalars()
        )
        return events, enrollments, modules, lessons, rows

    async def enrollment_completion(self) -> list[tuple[uuid.UUID, int, int]]:
        """For each active enrollment: (module id, lessons touched, lessons completed)."""
        touched = func.count(m.LessonProgress.lesson_id)
        completed = func.count(m.LessonProgress.lesson_id).filter(m.LessonProgress.completed.is_(True))
        rows = await self.session.execute(
            select(m.Enrollment.module_id, touched, completed)
            .select_from(m.Enrollment)
            .join(m.Lesson, (m.Lesson.module_id == m.Enrollment.module_id) & m.Lesson.visible(), isouter=True)
            .join(
                m.LessonProgress,
                (m.LessonProgress.lesson_id == m.Lesson.id) & (m.LessonProgress.user_id == m.Enrollment.user_id),
                isouter=True,
            )
            .where(m.Enrollment.status == m.EnrollmentStatus.ACTIVE)
            .group_by(m.Enrollment.module_id, m.Enrollment.user_id)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows.all()]

    async def modules_with_lesson_counts(self) -> list[tuple[m.Module, int]]:
        rows = await self.session.execute(
            select(m.Module, func.count(m.Lesson.id))
            .join(m.Lesson, (m.Lesson.module_id == m.Module.id) & m.Lesson.visible(), isouter=True)
            .group_by(m.Module.id)
            .order_by(m.Module.position, m.Module.slug)
        )
        return [(row[0], int(row[1])) for row in rows.all()]
