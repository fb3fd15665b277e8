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
from learning.mail.transport import DeliveryFailed, Send, Transport

logger = logging.getLogger("learning.mail")

MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min: about an hour of a server away
FIRST_RETRY = timedelta(seconds=30)
JOB_MESSAGES = 500  # messages one send_mail job sends over one connection
COMMIT_EVERY = 50  # messages marked sent per transaction


def retry_delay(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failed attempt the next one goes."""
    return FIRST_RETRY * int(2 ** (attempts - 1))


class MailService:
    """Queue messages in the caller's transaction: a message is sent exactly when that transaction commits."""

    def __init__(self, mail: MailRepository, jobs: JobQueue, sender: str) -> None:
        self.mail = mail
        self.jobs = jobs
        self.sender = sender
        self.held: list[uuid.UUID] = []  # composed with ``hold``: sent by one job (``send_held``)

    async def send(
        self,
        template: str,
        *,
        kind: str,
        recipient: str,
        subject: str,
        attachments: Sequence[Attachment] = (),
        headers: Mapping[str, str] | None = None,
        hold: bool = False,
        **context: Any,
    ) -> uuid.UUID:
        """Compose ``template`` (French text and HTML) for ``recipient`` and queue it (with ``hold``: keep it for
        ``send_held``, which sends a run of messages over one connection)."""
        composed = compose(
            template, sender=self.sender, recipient=recipient, subject=subject, attachments=attachments,
            headers=headers, **context,
        )  # fmt: skip
        message = m.MailMessage(
            id=uuid.uuid4(), recipient=recipient, kind=kind, subject=subject, content=composed.content, attempts=0
        )
        await self.mail.add(message, flush=not hold)
        if hold:
            self.held.append(message.id)
        else:
            await self.jobs.enqueue(SEND_MAIL, message.id.bytes, dedupe_key=f"mail:{message.id}")
        return message.id

    async def send_held(self) -> None:
        """One job for the messages composed with ``hold`` (reminders to thousands go by one connection)."""
        if self.held:
            await self.mail.flush()
            for start in range(0, len(self.held), JOB_MESSAGES):
                run = self.held[start : start + JOB_MESSAGES]
                await self.jobs.enqueue(SEND_MAIL, b"".join(message_id.bytes for message_id in run))
            self.held = []


class MailSender:
    """The ``send_mail`` job: hands its messages (one, or a run) to the transport over one connection, each once,
    each in its own transaction; one that fails goes again later, alone, up to ``MAX_ATTEMPTS``."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], transport: Transport, sender: str) -> None:
        self.sessionmaker = sessionmaker
        self.transport = transport
        self.sender = sender

    async def handle(self, payload: bytes) -> None:
        ids = [uuid.UUID(bytes=payload[start : start + 16]) for start in range(0, len(payload), 16)]
        try:
            async with self.transport.connection() as send:
                for start in range(0, len(ids), COMMIT_EVERY):
                    await self._run(ids[start : start + COMMIT_EVERY], send, None)
        except DeliveryFailed as exc:  # no connection at all: each message left waits for its next attempt
            await self._run(ids, None, exc)

    async def _run(self, ids: list[uuid.UUID], send: Send | None, failure: DeliveryFailed | None) -> None:
        """Send these messages (one transaction: those the server accepted are marked sent together; a crash
        in between sends at most ``COMMIT_EVERY`` of them twice)."""
        async with self.sessionmaker.begin() as session:
            jobs = JobQueue(session)
            for message in await MailRepository(session).lock(ids):
                message.attempts += 1
                try:
                    if send is None:
                        raise failure or DeliveryFailed("no connection")
                    await send(self.sender, message.recipient, message.subject, message.content)
                except DeliveryFailed as exc:
                    await self._failed(message, exc, jobs)
                    continue
                message.sent_at = utcnow()
                message.last_error = None

    async def _failed(self, message: m.MailMessage, exc: DeliveryFailed, jobs: JobQueue) -> None:
        message.last_error = str(exc)[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.failed_at = utcnow()
            logger.error("mail %s given up after %d attempts: %s", message.id, message.attempts, exc)
            return
        delay = retry_delay(message.attempts)
        logger.warning("mail %s not sent (%s): again in %s", message.id, exc, delay)
        await jobs.enqueue(SEND_MAIL, message.id.bytes, execute_after=delay)
