"""Queries on user accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> m.UserAccount | None:
        return await self.session.get(m.UserAccount, user_id)

    async def get_by_email(self, email: str) -> m.UserAccount | None:
        result = await self.session.execute(select(m.UserAccount).where(m.UserAccount.email == email))
        return result.scalar_one_or_none()

    async def add(self, user: m.UserAccount) -> m.UserAccount:
        self.session.add(user)
        await self.session.flush()
        return user

    async def flush(self) -> None:
        await self.session.flush()

    async def list(self, *, limit: int, offset: int) -> tuple[list[m.UserAccount], int]:
        total = (await self.session.execute(select(func.count()).select_from(m.UserAccount))).scalar_one()
        rows = await self.session.execute(
            select(m.UserAccount).order_by(m.UserAccount.created_at, m.UserAccount.id).limit(limit).offset(offset)
        )
        return list(rows.scalars()), total

    async def delete(self, user: m.UserAccount) -> None:
        await self.session.delete(user)
        await self.session.flush()
