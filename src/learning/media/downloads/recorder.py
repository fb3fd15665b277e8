"""The recorder: ``record`` only appends to a buffer in memory; a background task writes the buffer in
batches and decides the new downloads, one transaction per batch (the job boundary)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.lib.clock import utcnow
from learning.lib.errors import is_database_outage
from learning.media.downloads import agents, maintenance
from learning.media.downloads.batch import build_batch
from learning.media.downloads.repository import DownloadRepository
from learning.media.downloads.rules import SALT_RETENTION, WINDOW, Hit, served_ranges

logger = logging.getLogger("learning.downloads")

_MAX_USER_AGENT = 512
_MAX_ATTEMPTS = 3  # a batch failing this often for a reason other than an outage is dropped


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    pending: int  # records waiting in memory
    max_buffered: int  # the bound: beyond, new records are refused
    dropped: int  # records refused (buffer full) or given up (a batch the database kept refusing)


class DownloadRecorder:
    """Counts downloads without slowing delivery.

    ``record`` only appends to a buffer. A background task writes the buffer to PostgreSQL every
    ``flush_interval`` seconds, or as soon as ``batch_size`` records wait, and decides the downloads in the
    same transaction. ``stop`` writes what is left.

    Back-pressure: ``record`` is called on the media answer's path (the edge calls it synchronously), so it
    never waits. Past ``batch_size`` records it wakes the writer, which drains the whole buffer batch after
    batch. Only when ``max_buffered`` records already wait (the database away, or slower than the traffic)
    is a new record refused: the records already waiting are kept (their windows are the oldest), the
    refusal is counted in ``dropped`` (``status()``, shown to admins at ``/api/v1/admin/downloads/recorder``)
    and logged as a warning at most once per ``warn_interval`` seconds, with how many were refused since.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        *,
        flush_interval: float = 1.0,
        batch_size: int = 500,
        max_buffered: int = 100_000,
        warn_interval: float = 60.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._max_buffered = max_buffered
        self._buffer: deque[Hit] = deque()
        self._salts: dict[date, bytes] = {}
        self._flush_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._outage = False
        self._attempts = 0
        self._warn_interval = warn_interval
        self._warned_at: float | None = None  # time.monotonic() of the last "buffer full" warning
        self._unreported = 0  # records refused since that warning
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Records waiting in memory."""
        return len(self._buffer)

    def status(self) -> RecorderStatus:
        """What the buffer holds and what it had to refuse since the process started."""
        return RecorderStatus(pending=len(self._buffer), max_buffered=self._max_buffered, dropped=self.dropped)

    def record(
        self,
        asset_id: uuid.UUID,
        *,
        size_bytes: int,
        duration_seconds: float | None,
        client_ip: str,
        user_agent: str,
        method: str,
        ranges: list[tuple[int, int]],
        at: datetime | None = None,
    ) -> None:
        """Note one delivery and return at once. ``ranges`` are the inclusive byte ranges served.

        Only GET counts: HEAD, ``bytes=0-1`` probes, bots and responses without bytes are ignored.
        """
        served = served_ranges(method, size_bytes, ranges)
        if not served:
            return
        agent = user_agent[:_MAX_USER_AGENT]
        app = agents.listening_app(agent)
        if app is None:
            return
        if len(self._buffer) >= self._max_buffered:
            self._note_dropped(1)
            self._signal()
            return
        moment = at or utcnow()
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        self._buffer.append(Hit(asset_id, size_bytes, duration_seconds, client_ip, agent, app, moment, served))
        if len(self._buffer) >= self._batch_size:
            self._signal()

    # --- lifecycle
    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Start writing in the background (from the app's lifespan)."""
        agents.entries()  # compile the user-agent patterns now rather than on the first request
        self._sessionmaker = sessionmaker
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="download-recorder")

    async def stop(self) -> None:
        """Stop the background task and write everything still buffered."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._sessionmaker is not None:
            await self.flush()
        if self._buffer:
            logger.error("downloads: %d records could not be written before shutdown", len(self._buffer))
        self._wake = None
        self._loop = None

    async def _run(self) -> None:
        assert self._wake is not None  # noqa: S101 — set by start()
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_interval)
            self._wake.clear()
            if self._closing:  # stop() writes the rest itself
                break
            try:
                await self.flush()
            except Exception:  # never let a bug end the task: records would pile up unseen
                logger.exception("downloads: flush failed")

    def _signal(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or wake.is_set():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:  # record() called from another thread
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def _note_dropped(self, count: int) -> None:
        self.dropped += count
        self._unreported += count
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= self._warn_interval:
            logger.warning(
                "downloads: buffer full (%d records waiting), %d records refused since the last warning, "
                "%d in all",
                len(self._buffer), self._unreported, self.dropped,
            )  # fmt: skip
            self._warned_at, self._unreported = now, 0

    # --- writing
    async def flush(self) -> int:
        """Write what is buffered now; returns how many records were written. On a database error the
        records stay buffered for the next attempt."""
        if self._sessionmaker is None:
            raise RuntimeError("DownloadRecorder.start() was not called")
        written = 0
        async with self._flush_lock:
            remaining = len(self._buffer)
            while remaining > 0 and self._buffer:
                count = await self._flush_batch(self._sessionmaker, min(self._batch_size, remaining))
                if count is None:
                    break
                written += count
                remaining -= count
        return written

    async def _flush_batch(self, sessionmaker: async_sessionmaker[AsyncSession], size: int) -> int | None:
        batch = [self._buffer.popleft() for _ in range(min(size, len(self._buffer)))]
        salts = dict(self._salts)
        try:
            async with sessionmaker.begin() as session:
                await self._write(DownloadRepository(session), batch, salts)
        except BaseException as exc:
            kept = self._requeue(batch)
            if not isinstance(exc, Exception):
                raise
            self._failed(exc, kept)
            return None
        oldest = utcnow().date() - SALT_RETENTION  # the same days as the database keeps
        self._salts = {day: salt for day, salt in salts.items() if day >= oldest}
        if self._outage:
            logger.info("downloads: database reachable again, %d records waiting", len(self._buffer))
        self._outage, self._attempts = False, 0
        return len(batch)

    def _requeue(self, batch: list[Hit]) -> int:
        """Put a failed batch back in front; returns how many of its records are kept. Records that came
        meanwhile may then be past the bound: the newest go, as ``record`` would have refused them."""
        self._buffer.extendleft(reversed(batch))
        overflow = max(0, len(self._buffer) - self._max_buffered)
        for _ in range(overflow):
            self._buffer.pop()
        if overflow:
            self._note_dropped(overflow)
        return min(len(batch), len(self._buffer))

    def _failed(self, exc: Exception, kept: int) -> None:
        if is_database_outage(exc):
            if not self._outage:
                logger.warning("downloads: database unavailable (%s), records wait in memory", type(exc).__name__)
            self._outage = True
            return
        self._attempts += 1
        if self._attempts < _MAX_ATTEMPTS:
            logger.warning("downloads: writing a batch failed (%s), will retry", type(exc).__name__)
            return
        # A batch the database keeps refusing must not block every later one.
        for _ in range(kept):
            self._buffer.popleft()
        self._attempts = 0
        self.dropped += kept
        logger.error("downloads: dropped a batch of %d records the database refuses", kept, exc_info=exc)

    async def _write(self, repo: DownloadRepository, batch: list[Hit], salts: dict[date, bytes]) -> None:
        assets = {hit.asset_id for hit in batch}
        await repo.lock_assets(assets)
        known = await repo.existing_assets(assets)  # an asset may have been deleted since it was served
        hits = [hit for hit in batch if hit.asset_id in known]
        if not hits:
            return
        await self._load_salts(repo, hits, salts)
        # The requests, the decision (rules.count_downloads, in SQL) and the day rollup: one statement.
        await repo.count_batch(build_batch(hits, salts), window=WINDOW)

    async def _load_salts(self, repo: DownloadRepository, hits: list[Hit], salts: dict[date, bytes]) -> None:
        needed = {hit.at.date() for hit in hits}
        wanted = {day - timedelta(days=back) for day in needed for back in range(3)}
        if missing := wanted - salts.keys():
            salts.update(await repo.salts(missing))
        if new_days := needed - salts.keys():
            # A new day: its salt is created once for every process, and salts past retention go.
            await repo.delete_salts_before(utcnow().date() - SALT_RETENTION)
            for day in sorted(new_days):
                salts[day] = await repo.create_salt(day, secrets.token_bytes(32))

    async def purge_before(self, moment: datetime) -> int:
        """Delete the requests made before ``moment`` and the salts of the days before it (see
        ``maintenance.purge_before``); returns how many requests went."""
        if self._sessionmaker is None:
            raise RuntimeError("DownloadRecorder needs a sessionmaker to purge")
        return await maintenance.purge_before(self._sessionmaker, moment)
