"""The background worker: runs in-process with `learning serve`, or alone as `learning worker`.

Today it does periodic maintenance (expired rate-limit windows); media processing joins it later.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from learning.config import Settings
from learning.db.session import create_engine, create_sessionmaker
from learning.lib.clock import utcnow
from learning.lib.ratelimit import RateLimiter
from learning.media.downloads import DownloadRecorder

logger = logging.getLogger("learning.worker")

MAINTENANCE_INTERVAL_SECONDS = 300
RATE_LIMIT_RETENTION = timedelta(days=1)
REQUEST_RETENTION = timedelta(days=2)


async def run_maintenance(limiter: RateLimiter, downloads: DownloadRecorder) -> int:
    """One maintenance pass; returns the number of rows removed."""
    removed = await limiter.purge_before(utcnow() - RATE_LIMIT_RETENTION)
    # Raw media requests and listener salts are only needed for the rolling 24-hour window.
    removed_requests = await downloads.purge_before(utcnow() - REQUEST_RETENTION)
    if removed or removed_requests:
        logger.info(
            "maintenance",
            extra={"fields": {"expired_rate_limit_windows": removed, "expired_media_requests": removed_requests}},
        )
    return removed + removed_requests


async def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Run until SIGINT/SIGTERM (or one pass with ``once``)."""
    engine = create_engine(settings.require_database_url(), pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    limiter = RateLimiter(sessionmaker)
    downloads = DownloadRecorder(sessionmaker)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while True:
            try:
                await run_maintenance(limiter, downloads)
            except OSError as exc:  # the database may be briefly away; the next pass retries
                logger.warning("maintenance failed: %s", type(exc).__name__)
            if once:
                return
            try:
                await asyncio.wait_for(stop.wait(), MAINTENANCE_INTERVAL_SECONDS)
                return
            except TimeoutError:
                continue
    finally:
        await engine.dispose()
