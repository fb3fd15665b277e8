"""Queries on enrollments."""

from __future__ import annotations

import uuid

from sqlalchemy import select
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
