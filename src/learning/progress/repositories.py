"""Queries on enrollments."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
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


class ProgressRepository(EnrollmentRepository):
    """Progress queries; enrollment queries come from ``EnrollmentRepository``."""

    async def lessons(self, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.Lesson]:
        rows = await self.session.execute(select(m.Lesson).where(m.Lesson.id.in_(lesson_ids)))
        return {lesson.id: lesson for lesson in rows.scalars()}

    async def active_module_ids(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.execute(
            select(m.Enrollment.module_id).where(
                m.Enrollment.user_id == user_id, m.Enrollment.status == m.EnrollmentStatus.ACTIVE
            )
        )
        return set(rows.scalars())

    async def events(self, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.ProgressEvent]:
        rows = await self.session.execute(select(m.ProgressEvent).where(m.ProgressEvent.id.in_(event_ids)))
        return {event.id: event for event in rows.scalars()}

    async def insert_events(self, values: list[dict[str, object]]) -> set[uuid.UUID]:
        """Insert events; an id already taken (a concurrent replay) is skipped. Returns the inserted ids."""
        if not values:
            return set()
        statement = insert(m.ProgressEvent).values(values).on_conflict_do_nothing().returning(m.ProgressEvent.id)
        return set((await self.session.execute(statement)).scalars())

    async def progress_for_update(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> m.LessonProgress:
        """The learner's progress row on a lesson, created if needed, locked until the transaction ends."""
        await self.session.execute(
            insert(m.LessonProgress)
            .values(user_id=user_id, lesson_id=lesson_id, segments=[], watched_seconds=0.0, completed=False)
            .on_conflict_do_nothing()
        )
        query = (
            select(m.LessonProgress)
            .where(m.LessonProgress.user_id == user_id, m.LessonProgress.lesson_id == lesson_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(query)).scalar_one()

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
