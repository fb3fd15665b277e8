"""Queries on user accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import delete, exists, false, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.db.session import ACCOUNTS_CHANGED


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> m.UserAccount | None:
        return await self.session.get(m.UserAccount, user_id)

    async def get_by_email(self, email: str) -> m.UserAccount | None:
        result = await self.session.execute(select(m.UserAccount).where(m.UserAccount.email == email))
        return result.scalar_one_or_none()

    async def lock(self, user_id: uuid.UUID) -> m.UserAccount | None:
        """The account, its row locked until the transaction ends (and read afresh)."""
        result = await self.session.execute(
            select(m.UserAccount)
            .where(m.UserAccount.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def add(self, user: m.UserAccount) -> m.UserAccount:
        self.session.add(user)
        await self.session.flush()
        return user

    async def flush(self) -> None:
        await self.session.flush()

    async def lock_admins(self) -> list[uuid.UUID]:
        """The admins' ids, their rows locked until the transaction ends (two admins removed at once cannot
        both see the other one still there)."""
        rows = await self.session.execute(
            select(m.UserAccount.id)
            .where(m.UserAccount.role == m.Role.ADMIN)
            .order_by(m.UserAccount.id)
            .with_for_update()
        )
        return list(rows.scalars())

    async def list(self, *, limit: int, offset: int) -> tuple[list[m.UserAccount], int]:
        total = (await self.session.execute(select(func.count()).select_from(m.UserAccount))).scalar_one()
        rows = await self.session.execute(
            select(m.UserAccount).order_by(m.UserAccount.created_at, m.UserAccount.id).limit(limit).offset(offset)
        )
        return list(rows.scalars()), total

    async def delete(self, user: m.UserAccount) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def get_with_revocation(self, user_id: uuid.UUID, jti: str | None) -> tuple[m.UserAccount | None, bool]:
        """The account, and whether the token id ``jti`` was revoked (one round trip)."""
        revoked = exists().where(m.RevokedToken.jti == jti) if jti is not None else false()
        row = (await self.session.execute(select(m.UserAccount, revoked).where(m.UserAccount.id == user_id))).first()
        return (None, False) if row is None else (row[0], bool(row[1]))

    async def revoke(self, jti: str, expires_at: datetime, now: datetime) -> None:
        """Remember ``jti`` as revoked until ``expires_at``; forget revocations of tokens expired by now."""
        await self.session.execute(delete(m.RevokedToken).where(m.RevokedToken.expires_at <= now))
        await self.session.execute(
            insert(m.RevokedToken).values(jti=jti, expires_at=expires_at).on_conflict_do_nothing()
        )
        self.session.info[ACCOUNTS_CHANGED] = True  # this process forgets its verified tokens at commit


Link = TypeVar("Link", m.PasswordReset, m.EmailConfirmation)


class _SingleUseLinks(Generic[Link]):
    """Tokens of links sent by e-mail, by their SHA-256: each works once, until it expires."""

    model: type[Link]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, link: Link) -> None:
        self.session.add(link)
        await self.session.flush()

    async def lock(self, token_hash: bytes) -> Link | None:
        return await self.session.get(self.model, token_hash, with_for_update=True)

    async def close_all(self, user_id: uuid.UUID, now: datetime) -> None:
        """Every open link of the account used up (the one used, and any other)."""
        await self.session.execute(
            update(self.model).where(self.model.user_id == user_id, self.model.used_at.is_(None)).values(used_at=now)
        )

    async def purge_before(self, moment: datetime) -> int:
        """Links expired before ``moment`` removed (maintenance)."""
        result = await self.session.execute(delete(self.model).where(self.model.expires_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)


class ResetRepository(_SingleUseLinks[m.PasswordReset]):
    """Password-reset links."""

    model = m.PasswordReset


class ConfirmationRepository(_SingleUseLinks[m.EmailConfirmation]):
    """Links that confirm an e-mail address."""

    model = m.EmailConfirmation


class CredentialReads:
    """Account reads in a short unit of their own, its connection back in the pool before they return.

    What a password check reads before it waits for a hashing slot (``PasswordHashing``): the request's own
    session would keep its connection through that wait. The accounts come back detached, their columns
    loaded; nothing is written here.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def by_email(self, email: str) -> m.UserAccount | None:
        async with self._sessionmaker() as session:
            return await UserRepository(session).get_by_email(email)

    async def by_id(self, user_id: uuid.UUID) -> m.UserAccount | None:
        async with self._sessionmaker() as session:
            return await UserRepository(session).get(user_id)
