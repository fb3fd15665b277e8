"""The background worker: processing jobs (pgqueuer) and periodic maintenance.

It runs inside the app in the embedded default (``jobs_in_process``), or alone as ``learning worker``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.config import Settings
from learning.db.session import create_engine, create_sessionmaker, libpq_url
from learning.jobs.replays import ReplayProcessor
from learning.lib.clock import utcnow
from learning.lib.queue import PROCESS_UPLOAD, JobRunner
from learning.lib.ratelimit import RateLimiter
from learning.media.downloads import DownloadRecorder
from learning.storage import ObjectStore, StorageUnavailable, create_object_store
from learning.uploads.deps import upload_service

logger = logging.getLogger("learning.worker")

MAINTENANCE_INTERVAL_SECONDS = 300
RATE_LIMIT_RETENTION = timedelta(days=1)
REQUEST_RETENTION = timedelta(days=2)
STALLED_AFTER = timedelta(minutes=10)


def job_runner(database_url: str, sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> JobRunner:
    """The job handlers, ready to run against ``database_url``."""
    processor = ReplayProcessor(sessionmaker, store)
    return JobRunner(libpq_url(database_url), {PROCESS_UPLOAD: processor.handle})


async def run_maintenance(sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> dict[str, int]:
    """One maintenance pass; returns what it removed or re-queued."""
    done = {
        "expired_rate_limit_windows": await RateLimiter(sessionmaker).purge_before(utcnow() - RATE_LIMIT_RETENTION),
        # Raw media requests and listener salts are only needed for the rolling 24-hour window.
        "expired_media_requests": await DownloadRecorder(sessionmaker).purge_before(utcnow() - REQUEST_RETENTION),
    }
    async with sessionmaker.begin() as session:
        uploads = upload_service(session, store)
        done["expired_uploads"] = await uploads.remove_expired()
        done["requeued_uploads"] = await uploads.requeue_stalled(STALLED_AFTER)
    if any(done.values()):
        logger.info("maintenance", extra={"fields": done})
    return done


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
    runner = None if once else job_runner(database_url, sessionmaker, store)
    try:
        await store.open()
        if runner is not None:
            await runner.start()
        while True:
            try:
                await run_maintenance(sessionmaker, store)
            except (OSError, StorageUnavailable) as exc:  # briefly away: the next pass retries
                logger.warning("maintenance failed: %s", type(exc).__name__)
            if once:
                return
            try:
                await asyncio.wait_for(stop.wait(), MAINTENANCE_INTERVAL_SECONDS)
                return
            except TimeoutError:
                continue
    finally:
        if runner is not None:
            await runner.stop()
        await store.close()
        await engine.dispose()
