"""The background worker: processing jobs (pgqueuer) and periodic maintenance.

It runs inside the app in the embedded default (``jobs_in_process``), or alone as ``learning worker``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.accounts.addresses import confirmation_policy
from learning.accounts.repositories import ConfirmationRepository, ResetRepository
from learning.accounts.resets import reset_policy
from learning.config import Settings
from learning.db.session import create_engine, create_sessionmaker, libpq_url
from learning.jobs.accounts import AddressConfirmationMailer, PasswordResetMailer
from learning.jobs.registrations import DUE_INTERVAL_SECONDS, registration_pass
from learning.jobs.replays import ReplayProcessor
from learning.lib.clock import utcnow
from learning.lib.queue import EMAIL_CONFIRMATION, PASSWORD_RESET, PROCESS_UPLOAD, SEND_MAIL, JobRunner
from learning.lib.ratelimit import RateLimiter
from learning.mail.repositories import MailRepository
from learning.mail.services import MailSender
from learning.mail.transport import create_transport
from learning.media.downloads import DownloadRecorder
from learning.progress.repositories import TallyRepository
from learning.storage import ObjectStore, StorageUnavailable, create_object_store
from learning.uploads.deps import upload_service

logger = logging.getLogger("learning.worker")

MAINTENANCE_INTERVAL_SECONDS = 300
REQUEST_RETENTION = timedelta(days=2)
STALLED_AFTER = timedelta(minutes=10)
MAIL_RETENTION = timedelta(days=7)  # a sent message (and the link in it) is kept a week, for support


def job_runner(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> JobRunner:
    """The job handlers and the maintenance (expired uploads swept, stalled ones re-queued), ready to run
    against the database of ``settings`` in whichever process runs jobs: `learning serve` (jobs in process)
    or `learning worker`."""
    processor = ReplayProcessor(sessionmaker, store)
    mail = MailSender(sessionmaker, create_transport(settings), settings.mail_from)
    resets = PasswordResetMailer(sessionmaker, settings, reset_policy(settings))
    confirmations = AddressConfirmationMailer(sessionmaker, settings, confirmation_policy(settings))
    return JobRunner(
        libpq_url(settings.require_database_url()),
        {
            PROCESS_UPLOAD: processor.handle,
            SEND_MAIL: mail.handle,
            PASSWORD_RESET: resets.handle,
            EMAIL_CONFIRMATION: confirmations.handle,
        },
        periodic=[
            (functools.partial(maintain, sessionmaker, store), MAINTENANCE_INTERVAL_SECONDS),
            (functools.partial(registration_pass, sessionmaker, settings), DUE_INTERVAL_SECONDS),
        ],
        heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout_seconds),
    )


async def run_maintenance(sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> dict[str, int]:
    """One maintenance pass; returns what it removed or re-queued."""
    done = {
        "expired_rate_limit_windows": await RateLimiter(sessionmaker).purge_ended(utcnow()),
        # Raw media requests and listener salts are only needed for the rolling 24-hour window.
        "expired_media_requests": await DownloadRecorder(sessionmaker).purge_before(utcnow() - REQUEST_RETENTION),
    }
    async with sessionmaker.begin() as session:
        uploads = upload_service(session, store)
        done["expired_uploads"] = await uploads.remove_expired()
        done["requeued_uploads"] = await uploads.requeue_stalled(STALLED_AFTER)
    async with sessionmaker.begin() as session:
        done["expired_password_resets"] = await ResetRepository(session).purge_before(utcnow())
        done["expired_email_confirmations"] = await ConfirmationRepository(session).purge_before(utcnow())
        done["old_mail_messages"] = await MailRepository(session).purge_before(utcnow() - MAIL_RETENTION)
    async with sessionmaker.begin() as session:
        # The admin figures' tally: its changes since the last pass folded in (a read sums what is left).
        done["folded_progress_changes"] = await TallyRepository(session).fold()
    if any(done.values()):
        logger.info("maintenance", extra={"fields": done})
    return done


async def maintain(sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> None:
    """One maintenance pass; the database or the store briefly away only delays it to the next pass."""
    try:
        await run_maintenance(sessionmaker, store)
    except (OSError, StorageUnavailable, SQLAlchemyError) as exc:
        logger.warning("maintenance failed: %s", type(exc).__name__)


async def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Run jobs and maintenance until SIGINT/SIGTERM (with ``once``: one maintenance pass, no jobs)."""
    database_url = settings.require_database_url()
    engine = create_engine(database_url, pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    store = create_object_store(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await store.open()
        if once:
            await maintain(sessionmaker, store)
            return
        runner = job_runner(settings, sessionmaker, store)
        await runner.start()
        try:
            await stop.wait()
        finally:
            await runner.stop()
    finally:
        await store.close()
        await engine.dispose()
