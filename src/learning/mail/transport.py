"""Where a composed message goes: an SMTP server (aiosmtplib, STARTTLS and login when set, every step bounded by
a timeout), or, with no SMTP host set (the embedded default), an .eml file under data_dir/outbox/."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

import aiosmtplib

from learning.config import Settings
from learning.lib.clock import utcnow

logger = logging.getLogger("learning.mail")


class DeliveryFailed(Exception):
    """The message could not be handed over now (server away, refused for the time being): try again later."""


Send = Callable[[str, str, str, bytes], Awaitable[None]]  # (sender, recipient, subject, content)


class Transport(Protocol):
    def connection(self) -> AbstractAsyncContextManager[Send]:
        """One connection for a run of messages (SMTP: connect and log in once)."""
        ...


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username or None
        self.password = settings.smtp_password.get_secret_value() or None
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_seconds

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, start_tls=self.starttls, timeout=self.timeout)
        try:
            await client.connect()
            if self.username and self.password:
                await client.login(self.username, self.password)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

        async def send(sender: str, recipient: str, subject: str, content: bytes) -> None:
            try:
                await client.sendmail(sender, [recipient], content)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

        try:
            yield send
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()


class OutboxTransport:
    """Each message an .eml file (written whole, then renamed into place); its subject and file are logged."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        yield self.send

    async def send(self, sender: str, recipient: str, subject: str, content: bytes) -> None:
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, content)
        except OSError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        # The subject and where to read it (its links are secrets: they stay in the file, not in the log).
        logger.info("mail written to the outbox", extra={"fields": {"subject": subject, "file": str(path)}})

    def _write(self, name: str, content: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        partial = path.with_suffix(".part")
        with partial.open("wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
        return path


def create_transport(settings: Settings) -> Transport:
    return SmtpTransport(settings) if settings.smtp_host else OutboxTransport(settings.outbox_dir)
