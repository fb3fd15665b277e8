"""Download counting as the IAB Podcast Measurement Technical Guidelines v2 describe it (as OP3 and oDL do).

- A listener is sha256(salt of the UTC day ‖ IP ‖ user agent): raw IPs never leave memory, and a day's
  salt is deleted two days later, after which its hashes cannot be linked to anyone.
- One download per listener and asset in a rolling 24-hour window: no two downloads of one listener for
  one asset have windows starting less than 24 hours apart. A request outside every counted window looks
  at the listener's requests of the previous 24 hours that belong to no earlier window; once the union of
  their byte ranges covers one minute of audio (size × 60 / duration bytes; the whole file when it is
  shorter than a minute or its duration is unknown), a download is counted, its window starting at the
  earliest of those requests. Re-requesting the same bytes adds nothing.
- HEAD requests, ``Range: bytes=0-1`` probes and bots (``data/bots.txt``) never count; the listening app
  comes from ``data/apps.txt``.

Delivery never waits for any of this: ``DownloadRecorder.record`` appends to a buffer in memory, and a
background task writes batches and decides the new downloads, one transaction per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import math
import re
import secrets
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.lib.clock import EARLIEST, LATEST, utcnow
from learning.lib.errors import LearningError, NotFound

logger = logging.getLogger("learning.downloads")

WINDOW = timedelta(hours=24)
SALT_RETENTION = timedelta(days=2)
OTHER_APP = "Other"
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
_PROBE = ((0, 1),)
_MAX_USER_AGENT = 512
_LOCK_CLASS = 0x646C  # first key of the advisory locks that serialise counting per asset across processes
_MAX_ATTEMPTS = 3  # a batch failing this often for a reason other than an outage is dropped


# --- user agents --------------------------------------------------------------------------------------
def _data_lines(name: str) -> list[str]:
    content = resources.files("learning.media").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in content.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _bots() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in _data_lines("bots.txt")), re.IGNORECASE)


@cache
def _apps() -> tuple[tuple[str, re.Pattern[str]], ...]:
    entries = (line.partition(": ") for line in _data_lines("apps.txt"))
    return tuple((name.strip(), re.compile(pattern.strip(), re.IGNORECASE)) for name, _, pattern in entries)


@lru_cache(maxsize=4096)
def listening_app(user_agent: str) -> str | None:
    """The listening app behind a user agent ("Other" when unknown), or None for a bot."""
    if _bots().search(user_agent):
        return None
    return next((name for name, pattern in _apps() if pattern.search(user_agent)), OTHER_APP)


# --- the counting rules -------------------------------------------------------------------------------
def threshold_bytes(size_bytes: int, duration_seconds: float | None) -> int:
    """Bytes a listener must request: one minute of audio, or the whole file (shorter or of unknown length)."""
    if not duration_seconds or duration_seconds <= 0:
        return size_bytes
    return min(size_bytes, math.ceil(size_bytes * 60 / duration_seconds))


def covered_bytes(ranges: Iterable[tuple[int, int]], size_bytes: int) -> int:
    """Bytes in the union of inclusive byte ranges, clipped to the file."""
    clipped = sorted((max(0, start), min(end, size_bytes - 1)) for start, end in ranges)
    total, current_start, current_end = 0, 0, -1
    for start, end in clipped:
        if end < start:
            continue
        if start > current_end + 1:
            total += current_end - current_start + 1
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    return total + current_end - current_start + 1


def listener_hash(salt: bytes, ip: str, user_agent: str) -> str:
    return hashlib.sha256(salt + ip.encode() + b"\x00" + user_agent.encode("utf-8", "replace")).hexdigest()


def _normal_ip(ip: str) -> str:
    """One spelling per address (IPv6 compressed, IPv4-mapped IPv6 as IPv4)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True, slots=True)
class Hit:
    """One GET that served bytes, as buffered in memory (the IP never goes further than this)."""

    asset_id: uuid.UUID
    size_bytes: int
    duration_seconds: float | None
    ip: str
    user_agent: str
    app: str
    at: datetime
    ranges: tuple[tuple[int, int], ...]


Served = tuple[datetime, int, int]  # (requested_at, range_start, range_end) of one stored request row


def count_downloads(
    hits: Sequence[Hit], requests: Sequence[Served], window_starts: Iterable[datetime]
) -> list[tuple[Hit, datetime]]:
    """Which ``hits`` (one listener, one asset) complete a download, with the start of its window.

    ``requests`` are the listener's stored rows (``hits`` included); ``window_starts`` those of the
    downloads already counted for this listener and asset.
    """
    starts = list(window_starts)
    counted: list[tuple[Hit, datetime]] = []
    for hit in sorted(hits, key=lambda h: h.at):
        moment = hit.at
        if any(abs(start - moment) < WINDOW for start in starts):
            continue  # inside a window that already has its download
        floor = max((start + WINDOW for start in starts if start + WINDOW <= moment), default=moment - WINDOW)
        window = [row for row in requests if moment - WINDOW < row[0] <= moment and row[0] >= floor]
        served = covered_bytes(((start, end) for _, start, end in window), hit.size_bytes)
        if window and served >= threshold_bytes(hit.size_bytes, hit.duration_seconds):
            start = min(row[0] for row in window)
            starts.append(start)
            counted.append((hit, start))
    return counted


# --- queries ------------------------------------------------------------------------------------------
Key = tuple[uuid.UUID, str]  # (asset_id, listener)


class DownloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_assets(self, asset_ids: Iterable[uuid.UUID]) -> None:
        """Serialise counting per asset across app processes until the transaction ends (in key order)."""
        await self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:class, key) FROM (SELECT DISTINCT hashtext(a) AS key "
                "FROM unnest(CAST(:ids AS text[])) AS a ORDER BY key) AS keys"
            ),
            {"class": _LOCK_CLASS, "ids": sorted(str(asset_id) for asset_id in asset_ids)},
        )

    async def existing_assets(self, asset_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.session.execute(select(m.MediaAsset.id).where(m.MediaAsset.id.in_(list(asset_ids))))
        return set(rows.scalars())

    async def salts(self, days: Iterable[date]) -> dict[date, bytes]:
        rows = await self.session.execute(select(m.ListenerSalt).where(m.ListenerSalt.day.in_(list(days))))
        return {row.day: row.salt for row in rows.scalars()}

    async def create_salt(self, day: date, salt: bytes) -> bytes:
        """The day's salt: ``salt`` unless another process created one first."""
        await self.session.execute(
            pg_insert(m.ListenerSalt).values(day=day, salt=salt).on_conflict_do_nothing(index_elements=["day"])
        )
        stored = await self.session.execute(select(m.ListenerSalt.salt).where(m.ListenerSalt.day == day))
        return stored.scalar_one()

    async def delete_salts_before(self, day: date) -> None:
        await self.session.execute(delete(m.ListenerSalt).where(m.ListenerSalt.day < day))

    async def add_requests(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.MediaRequest), rows)

    async def add_downloads(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.MediaDownload), rows)

    async def requests_between(
        self, assets: set[uuid.UUID], listeners: set[str], *, after: datetime, until: datetime
    ) -> dict[Key, list[Served]]:
        r = m.MediaRequest
        rows = await self.session.execute(
            select(r.asset_id, r.listener, r.requested_at, r.range_start, r.range_end).where(
                r.asset_id.in_(assets), r.listener.in_(listeners), r.requested_at > after, r.requested_at <= until
            )
        )
        found: dict[Key, list[Served]] = defaultdict(list)
        for asset_id, listener, requested_at, start, end in rows.all():
            found[(asset_id, listener)].append((requested_at, start, end))
        return found

    async def window_starts_between(
        self, assets: set[uuid.UUID], listeners: set[str], *, after: datetime, before: datetime
    ) -> dict[Key, list[datetime]]:
        d = m.MediaDownload
        rows = await self.session.execute(
            select(d.asset_id, d.listener, d.window_start).where(
                d.asset_id.in_(assets), d.listener.in_(listeners), d.window_start > after, d.window_start < before
            )
        )
        found: dict[Key, list[datetime]] = defaultdict(list)
        for asset_id, listener, window_start in rows.all():
            found[(asset_id, listener)].append(window_start)
        return found

    async def delete_requests_before(self, moment: datetime) -> int:
        result = await self.session.execute(delete(m.MediaRequest).where(m.MediaRequest.requested_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- statistics
    async def asset(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        return await self.session.get(m.MediaAsset, asset_id)

    async def per_day(self, asset_id: uuid.UUID, start: date, end: date) -> dict[date, int]:
        d = m.MediaDownload
        rows = await self.session.execute(
            select(d.day, func.count()).where(d.asset_id == asset_id, d.day >= start, d.day <= end).group_by(d.day)
        )
        return dict(rows.all())

    async def per_app(self, asset_id: uuid.UUID, start: date, end: date) -> list[tuple[str, int]]:
        d = m.MediaDownload
        count = func.count().label("count")
        rows = await self.session.execute(
            select(d.app, count)
            .where(d.asset_id == asset_id, d.day >= start, d.day <= end)
            .group_by(d.app)
            .order_by(count.desc(), d.app)
        )
        return [(app, count) for app, count in rows.all()]

    async def totals(
        self, *, start: date | None, end: date | None, limit: int, offset: int
    ) -> tuple[list[tuple[uuid.UUID, str | None, str, int]], int]:
        d, a = m.MediaDownload, m.MediaAsset
        where = [d.day >= start, d.day <= end] if start is not None and end is not None else []
        per_asset = (
            select(d.asset_id, func.count().label("total")).where(*where).group_by(d.asset_id).subquery("per_asset")
        )
        total = (await self.session.execute(select(func.count()).select_from(per_asset))).scalar_one()
        rows = await self.session.execute(
            select(per_asset.c.asset_id, a.ref, a.name, per_asset.c.total)
            .join(a, a.id == per_asset.c.asset_id)
            .order_by(per_asset.c.total.desc(), a.ref.asc().nulls_last(), a.name, a.id)
            .limit(limit)
            .offset(offset)
        )
        return [(asset_id, ref, name, count) for asset_id, ref, name, count in rows.all()], total


# --- the recorder -------------------------------------------------------------------------------------
def _is_outage(exc: BaseException) -> bool:
    """Whether the database is unreachable (worth waiting for), rather than refusing this batch."""
    if isinstance(exc, OSError | TimeoutError | OperationalError | InterfaceError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    cause = getattr(exc, "orig", None) or exc.__cause__
    return isinstance(cause, OSError | ConnectionError) or type(cause).__name__ in {
        "ConnectionDoesNotExistError",
        "AdminShutdownError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
    }


class DownloadRecorder:
    """Counts downloads without slowing delivery.

    ``record`` only appends to a buffer. A background task writes the buffer to PostgreSQL every
    ``flush_interval`` seconds, or as soon as ``batch_size`` records wait, and decides the downloads in the
    same transaction. While the database is away the records wait in memory, at most ``max_buffered`` of
    them: beyond, the oldest are dropped and counted in ``dropped``. ``stop`` writes what is left.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        *,
        flush_interval: float = 1.0,
        batch_size: int = 500,
        max_buffered: int = 100_000,
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
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Records waiting in memory."""
        return len(self._buffer)

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
        if method.upper() != "GET" or size_bytes <= 0:
            return
        served = tuple(
            (start, min(end, size_bytes - 1)) for start, end in ranges if 0 <= start <= end and start < size_bytes
        )
        if not served or served == _PROBE:
            return
        agent = user_agent[:_MAX_USER_AGENT]
        app = listening_app(agent)
        if app is None:
            return
        moment = at or utcnow()
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        self._buffer.append(Hit(asset_id, size_bytes, duration_seconds, client_ip, agent, app, moment, served))
        if len(self._buffer) > self._max_buffered:
            self._buffer.popleft()
            self._note_dropped(1)
        if len(self._buffer) >= self._batch_size:
            self._signal()

    # --- lifecycle
    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Start writing in the background (from the app's lifespan)."""
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
        before = self.dropped
        self.dropped += count
        if before == 0 or before // 10_000 != self.dropped // 10_000:
            logger.warning("downloads: buffer full, %d records dropped so far", self.dropped)

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
        """Put a failed batch back in front; returns how many of its records are kept."""
        self._buffer.extendleft(reversed(batch))
        overflow = max(0, len(self._buffer) - self._max_buffered)
        for _ in range(overflow):
            self._buffer.popleft()
        if overflow:
            self._note_dropped(overflow)
        return max(0, len(batch) - overflow)

    def _failed(self, exc: Exception, kept: int) -> None:
        if _is_outage(exc):
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

        groups: dict[tuple[uuid.UUID, str, str], list[Hit]] = defaultdict(list)
        for hit in hits:
            groups[(hit.asset_id, _normal_ip(hit.ip), hit.user_agent)].append(hit)
        # A listener's requests of the last 24 hours were hashed with this day's salt or an earlier one.
        identities: dict[tuple[uuid.UUID, str, str], set[str]] = {}
        rows: list[dict[str, Any]] = []
        for key, group in groups.items():
            asset_id, ip, agent = key
            days = {hit.at.date() - timedelta(days=back) for hit in group for back in range(3)}
            identities[key] = {listener_hash(salts[day], ip, agent) for day in days if day in salts}
            for hit in group:
                listener = listener_hash(salts[hit.at.date()], ip, agent)
                rows.extend(
                    {"asset_id": asset_id, "listener": listener, "requested_at": hit.at, "range_start": start,
                     "range_end": end, "app": hit.app}
                    for start, end in hit.ranges
                )  # fmt: skip
        await repo.add_requests(rows)

        listeners = set().union(*identities.values())
        first, last = min(hit.at for hit in hits), max(hit.at for hit in hits)
        history = await repo.requests_between(assets, listeners, after=first - WINDOW, until=last)
        starts = await repo.window_starts_between(assets, listeners, after=first - 2 * WINDOW, before=last + WINDOW)
        downloads: list[dict[str, Any]] = []
        for key, group in groups.items():
            asset_id, ip, agent = key
            requests = [row for listener in identities[key] for row in history.get((asset_id, listener), [])]
            known_starts = [start for listener in identities[key] for start in starts.get((asset_id, listener), [])]
            for hit, window_start in count_downloads(group, requests, known_starts):
                downloads.append(
                    {"asset_id": asset_id, "listener": listener_hash(salts[hit.at.date()], ip, agent),
                     "window_start": window_start, "counted_at": hit.at, "app": hit.app, "day": hit.at.date()}
                )  # fmt: skip
        await repo.add_downloads(downloads)

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
        """Delete the requests made before ``moment`` and the salts of the days before it (the worker
        calls this); returns how many requests went. Counted downloads stay."""
        if self._sessionmaker is None:
            raise RuntimeError("DownloadRecorder needs a sessionmaker to purge")
        async with self._sessionmaker.begin() as session:
            repo = DownloadRepository(session)
            removed = await repo.delete_requests_before(moment)
            await repo.delete_salts_before(moment.astimezone(UTC).date())
        return removed


# --- statistics ---------------------------------------------------------------------------------------
class InvalidPeriod(LearningError):
    status_code = 400
    title = "Invalid period"


class AssetNotFound(NotFound):
    title = "Media asset not found"


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive


@dataclass(frozen=True, slots=True)
class AssetDownloads:
    asset: m.MediaAsset
    period: Period
    days: list[tuple[date, int]]  # every day of the period, zeros included
    apps: list[tuple[str, int]]  # most used first

    @property
    def total(self) -> int:
        return sum(count for _, count in self.days)


@dataclass(frozen=True, slots=True)
class AssetTotal:
    asset_id: uuid.UUID
    ref: str | None
    name: str
    total: int


def resolve_period(start: date | None, end: date | None, *, today: date) -> Period:
    """``end`` defaults to today and ``start`` to 30 days before it; at most 366 days, in order."""
    for day in (start, end):
        if day is not None and not EARLIEST.date() <= day < LATEST.date():
            raise InvalidPeriod("Dates must be between 1900 and 2200.")
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if end < start:
        raise InvalidPeriod("The end of the period ('to') is before its start ('from').")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"A period covers at most {MAX_PERIOD_DAYS} days.")
    return Period(start, end)


class DownloadStatsService:
    def __init__(self, downloads: DownloadRepository) -> None:
        self.downloads = downloads

    async def for_asset(self, asset_id: uuid.UUID, *, start: date | None, end: date | None) -> AssetDownloads:
        """Downloads of one asset per UTC day and per app (the last 30 days unless a period is given)."""
        period = resolve_period(start, end, today=utcnow().date())
        asset = await self.downloads.asset(asset_id)
        if asset is None:
            raise AssetNotFound("No such media asset.")
        counts = await self.downloads.per_day(asset_id, period.start, period.end)
        span = (period.end - period.start).days + 1
        days = [(day, counts.get(day, 0)) for day in (period.start + timedelta(days=n) for n in range(span))]
        apps = await self.downloads.per_app(asset_id, period.start, period.end)
        return AssetDownloads(asset=asset, period=period, days=days, apps=apps)

    async def totals(
        self, *, start: date | None, end: date | None, limit: int, offset: int
    ) -> tuple[list[AssetTotal], int]:
        """Downloads per asset, most downloaded first: all time, or within the period when one is given."""
        period = resolve_period(start, end, today=utcnow().date()) if start or end else None
        rows, total = await self.downloads.totals(
            start=period.start if period else None, end=period.end if period else None, limit=limit, offset=offset
        )
        return [AssetTotal(*row) for row in rows], total
