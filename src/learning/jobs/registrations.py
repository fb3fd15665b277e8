"""The registrations' due pass, every minute in whichever process runs the jobs: reminders, notices of a change and
replays, handed to the mail queue batch by batch (each batch its own transaction) until nothing is due."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.config import Settings
from learning.lib.clock import utcnow
from learning.registrations.deps import registration_service
from learning.registrations.services import DUE_BATCH

logger = logging.getLogger("learning.registrations")
DUE_INTERVAL_SECONDS = 60.0


async def send_due(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, int]:
    """Everything due now, in batches; returns what was queued."""
    total: dict[str, int] = {}
    while True:
        async with sessionmaker.begin() as session:
            sent = await registration_service(session, settings).send_due(utcnow())
        for key, count in sent.items():
            total[key] = total.get(key, 0) + count
        if sum(sent.values()) < DUE_BATCH:
            break
    if any(total.values()):
        logger.info("registration messages queued", extra={"fields": total})
    return total


async def registration_pass(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """One pass; the database briefly away only delays it to the next."""
    try:
        await send_due(sessionmaker, settings)
    except (OSError, SQLAlchemyError) as exc:
        logger.warning("registration pass failed: %s", type(exc).__name__)
