"""Sending e-mail: a message is composed and kept as a row, and a job sends it after the request's transaction
commits (never inside a request). The job retries with backoff when the server is away, then gives up."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.queue import SEND_MAIL, JobQueue
from learning.mail.compose import Attachment, compose
from learning.mail.repositories import MailRepository
from learning.mail.transport import DeliveryFailed, Transport

logger = logging.getLogger("learning.mail")

MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min: about an hour of a server away
FIRST_RETRY = timedelta(seconds=30)


def retry_delay(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failed attempt the next one goes."""
    return FIRST_RETRY * int(2 ** (attempts - 1))


class MailService:
    """Queue messages in the caller's transaction: a message is sent exactly when that transaction commits."""

    def __init__(self, mail: MailRepository, jobs: JobQueue, sender: str) -> None:
        self.mail = mail
        self.jobs = jobs
        self.sender = sender

    async def send(
        self,
        template: str,
        *,
        kind: str,
        recipient: str,
        subject: str,
        attachments: Sequence[Attachment] = (),
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> uuid.UUID:
        """Compose ``template`` (French text and HTML) for ``recipient`` and queue it."""
        composed = compose(
            template, sender=self.sender, recipient=recipient, subject=subject, attachments=attachments,
            headers=headers, **context,
        )  # fmt: skip
        message = m.MailMessage(recipient=recipient, kind=kind, subject=subject, content=composed.content, attempts=0)
        await self.mail.add(message)
        await self.jobs.enqueue(SEND_MAIL, message.id.bytes, dedupe_key=f"mail:{message.id}")
        return message.id


class MailSender:
    """The ``send_mail`` job: hands one message to the transport, once; on failure, again later, up to
    ``MAX_ATTEMPTS``."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], transport: Transport, sender: str) -> None:
        self.sessionmaker = sessionmaker
        self.transport = transport
        self.sender = sender

    async def handle(self, payload: bytes) -> None:
        message_id = uuid.UUID(bytes=payload)
        async with self.sessionmaker.begin() as session:
            mail = MailRepository(session)
            message = await mail.lock(message_id)
            if message is None or message.sent_at is not None or message.failed_at is not None:
                return  # sent already (a job run twice), or given up
            message.attempts += 1
            try:
                await self.transport.send(self.sender, message.recipient, message.subject, message.content)
            except DeliveryFailed as exc:
                message.last_error = str(exc)[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.failed_at = utcnow()
                    logger.error("mail %s given up after %d attempts: %s", message_id, message.attempts, exc)
                    return
                delay = retry_delay(message.attempts)
                logger.warning("mail %s not sent (%s): again in %s", message_id, exc, delay)
                await JobQueue(session).enqueue(SEND_MAIL, payload, execute_after=delay)
                return
            message.sent_at = utcnow()
            message.last_error = None
