"""Queries on the messages the site sends."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: m.MailMessage, *, flush: bool = True) -> None:
        """Keep a message (``flush=False``: with the next flush, for a run of them)."""
        self.session.add(message)
        if flush:
            await self.session.flush()

    async def lock(self, ids: list[uuid.UUID]) -> list[m.MailMessage]:
        """These messages still to send, locked until the transaction ends (one sender at a time; a message
        another sender holds is skipped: it is being sent)."""
        query = (
            select(m.MailMessage)
            .where(m.MailMessage.id.in_(ids), m.MailMessage.sent_at.is_(None), m.MailMessage.failed_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        found = {message.id: message for message in (await self.session.execute(query)).scalars()}
        return [found[message_id] for message_id in ids if message_id in found]

    async def purge_before(self, moment: datetime) -> int:
        """Messages sent or given up before ``moment`` removed (their links are secrets: kept no longer than
        needed)."""
        done = m.MailMessage.sent_at < moment, m.MailMessage.failed_at < moment
        result = await self.session.execute(delete(m.MailMessage).where(or_(*done)))
        return int(getattr(result, "rowcount", 0) or 0)

    async def flush(self) -> None:
        await self.session.flush()
