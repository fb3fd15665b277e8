"""Queries on quizzes and attempts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class QuizRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def quiz(self, module_slug: str) -> tuple[m.Module, m.Quiz] | None:
        """The quiz of a visible module, with its module."""
        row = (
            await self.session.execute(
                select(m.Module, m.Quiz)
                .join(m.Quiz, m.Quiz.module_id == m.Module.id)
                .where(m.Module.slug == module_slug, m.Module.visible())
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def lock_enrollment(self, user_id: uuid.UUID, module_id: uuid.UUID) -> m.Enrollment | None:
        """The learner's enrollment, locked: one attempt at a time per learner and module gets its number."""
        query = (
            select(m.Enrollment)
            .where(m.Enrollment.user_id == user_id, m.Enrollment.module_id == module_id)
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def attempts(self, user_id: uuid.UUID, module_id: uuid.UUID) -> list[m.QuizAttempt]:
        rows = await self.session.execute(
            select(m.QuizAttempt)
            .where(m.QuizAttempt.user_id == user_id, m.QuizAttempt.module_id == module_id)
            .order_by(m.QuizAttempt.number)
        )
        return list(rows.scalars())

    async def all_attempts(self, user_id: uuid.UUID) -> list[tuple[str, m.QuizAttempt]]:
        """Every attempt of the learner, with its module's slug, in the order they were made."""
        rows = await self.session.execute(
            select(m.Module.slug, m.QuizAttempt)
            .join(m.Module, m.Module.id == m.QuizAttempt.module_id)
            .where(m.QuizAttempt.user_id == user_id)
            .order_by(m.QuizAttempt.submitted_at, m.QuizAttempt.id)
        )
        return [(slug, attempt) for slug, attempt in rows.all()]

    async def count(self, user_id: uuid.UUID, module_id: uuid.UUID) -> int:
        query = select(func.count()).where(m.QuizAttempt.user_id == user_id, m.QuizAttempt.module_id == module_id)
        return int((await self.session.execute(query)).scalar_one())

    async def add(self, attempt: m.QuizAttempt) -> None:
        self.session.add(attempt)
        await self.session.flush()
