"""Queries on the messages the site sends."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: m.MailMessage) -> None:
        self.session.add(message)
        await self.session.flush()

    async def lock(self, message_id: uuid.UUID) -> m.MailMessage | None:
        """The message, locked until the transaction ends (one sender at a time)."""
        return await self.session.get(m.MailMessage, message_id, with_for_update=True)

    async def purge_before(self, moment: datetime) -> int:
        """Messages sent or given up before ``moment`` removed (their links are secrets: kept no longer than
        needed)."""
        done = m.MailMessage.sent_at < moment, m.MailMessage.failed_at < moment
        result = await self.session.execute(delete(m.MailMessage).where(or_(*done)))
        return int(getattr(result, "rowcount", 0) or 0)

    async def flush(self) -> None:
        await self.session.flush()
