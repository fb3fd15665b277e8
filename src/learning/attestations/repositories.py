"""Queries of the attestations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class AttestationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_number(self, number: str, *, lock: bool = False) -> m.Attestation | None:
        query = select(m.Attestation).where(m.Attestation.number == number)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def in_force(self, user_id: uuid.UUID, subject: str) -> m.Attestation | None:
        query = select(m.Attestation).where(
            m.Attestation.user_id == user_id, m.Attestation.subject == subject, m.Attestation.revoked_at.is_(None)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_unless_in_force(self, values: dict[str, Any]) -> m.Attestation:
        """Insert the attestation, unless one of the same learner and subject is in force (then that one: two
        requests at once get the same attestation)."""
        statement = (
            insert(m.Attestation)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[m.Attestation.user_id, m.Attestation.subject],
                index_where=m.Attestation.revoked_at.is_(None),
            )
        )
        await self.session.execute(statement)
        found = await self.in_force(values["user_id"], values["subject"])
        if found is None:  # the unique index guarantees one in force after the insert
            raise RuntimeError("no attestation in force after inserting one")
        return found

    async def of_user(self, user_id: uuid.UUID) -> list[m.Attestation]:
        query = (
            select(m.Attestation)
            .where(m.Attestation.user_id == user_id)
            .order_by(m.Attestation.issued_at.desc(), m.Attestation.number)
        )
        return list((await self.session.execute(query)).scalars())

    async def page(self, *, limit: int, offset: int) -> tuple[list[m.Attestation], int]:
        total = (await self.session.execute(select(func.count()).select_from(m.Attestation))).scalar_one()
        query = (
            select(m.Attestation)
            .order_by(m.Attestation.issued_at.desc(), m.Attestation.number)
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(query)).scalars()), total

    async def flush(self) -> None:
        await self.session.flush()
