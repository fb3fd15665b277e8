"""Download counting against a real PostgreSQL: one test per IAB v2 rule, privacy, and the recorder's
buffering (background writes, flush on stop, nothing lost while the database is away)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db.session import create_engine, create_sessionmaker
from learning.lib.clock import utcnow
from learning.media.downloads import DownloadRecorder
from tests.helpers.database import SwitchableSessionmaker, fetch

IP = "198.51.100.23"
UA = "AntennaPod/3.4.0"
MINUTE_OF_LONG = 960_000  # 4,800,000 bytes for 300 s: one minute is 960,000 bytes


@dataclass(frozen=True)
class Episode:
    id: uuid.UUID
    size: int
    duration: float | None

    def get(
        self,
        recorder: DownloadRecorder,
        *,
        at: datetime,
        ranges: list[tuple[int, int]] | None = None,
        ip: str = IP,
        ua: str = UA,
        method: str = "GET",
    ) -> None:
        recorder.record(
            self.id,
            size_bytes=self.size,
            duration_seconds=self.duration,
            client_ip=ip,
            user_agent=ua,
            method=method,
            ranges=[(0, self.size - 1)] if ranges is None else ranges,
            at=at,
        )


async def add_episode(url: str, *, size: int, duration: float | None) -> Episode:
    asset_id = uuid.uuid4()
    await fetch(
        url,
        "INSERT INTO media_asset (id, ref, rendition, kind, status, name, extension, mime_type, size_bytes, "
        "duration_seconds, storage_key) VALUES ($1, $2, 'original', 'audio', 'ready', 'episode', 'mp3', "
        "'audio/mpeg', $3, $4, $5)",
        asset_id,
        f"episode-{asset_id.hex[:8]}",
        size,
        duration,
        f"audio/{asset_id.hex}.mp3",
    )
    return Episode(asset_id, size, duration)


async def downloads(url: str, episode: Episode) -> list[Any]:
    return await fetch(url, "SELECT * FROM media_download WHERE asset_id = $1 ORDER BY counted_at", episode.id)


async def requests(url: str, episode: Episode) -> list[Any]:
    return await fetch(url, "SELECT * FROM media_request WHERE asset_id = $1 ORDER BY requested_at", episode.id)


@pytest.fixture
async def sessionmaker(clean_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(clean_database, pool_size=2)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def recorder(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[DownloadRecorder]:
    """A recorder whose background task never fires on its own: the tests flush explicitly."""
    recorder = DownloadRecorder(flush_interval=3600)
    await recorder.start(sessionmaker)
    yield recorder
    await recorder.stop()


@pytest.fixture
async def long_episode(clean_database: str) -> Episode:
    return await add_episode(clean_database, size=4_800_000, duration=300.0)


@pytest.fixture
async def short_episode(clean_database: str) -> Episode:
    return await add_episode(clean_database, size=200_000, duration=30.0)


# --- what never counts ----------------------------------------------------------------------------------
async def test_a_two_byte_probe_never_counts(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    for _ in range(3):
        short_episode.get(recorder, at=utcnow(), ranges=[(0, 1)])
    await recorder.flush()
    assert await downloads(clean_database, short_episode) == []
    assert await requests(clean_database, short_episode) == []


async def test_head_never_counts(recorder: DownloadRecorder, short_episode: Episode, clean_database: str) -> None:
    short_episode.get(recorder, at=utcnow(), method="HEAD")
    await recorder.flush()
    assert await downloads(clean_database, short_episode) == []
    assert await requests(clean_database, short_episode) == []


@pytest.mark.parametrize(
    "agent",
    [
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.32.3",
        "Go-http-client/2.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
        "Podcastindex.org/v0.3.3 (Aggrivate)",
        "Overcast/1.0 Podcast Sync (12 subscribers; feed-id=42; +http://overcast.fm/)",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "",
    ],
)
async def test_a_bot_never_counts(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str, agent: str
) -> None:
    short_episode.get(recorder, at=utcnow(), ua=agent)
    await recorder.flush()
    assert await downloads(clean_database, short_episode) == []
    assert await requests(clean_database, short_episode) == []


# --- one download per listener in a rolling 24-hour window --------------------------------------------------
async def test_a_full_get_of_a_short_file_counts_once(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    moment = utcnow()
    short_episode.get(recorder, at=moment, ua="Podcasts/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0")
    assert await recorder.flush() == 1
    [download] = await downloads(clean_database, short_episode)
    assert download["app"] == "Apple Podcasts"
    assert download["counted_at"] == moment
    assert download["window_start"] == moment
    assert download["day"] == moment.date()
    assert len(download["listener"]) == 64


async def test_two_full_gets_within_24_hours_count_once(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    first = utcnow() - timedelta(hours=23, minutes=59)
    short_episode.get(recorder, at=first)
    await recorder.flush()
    short_episode.get(recorder, at=first + timedelta(hours=23, minutes=58))
    short_episode.get(recorder, at=first + timedelta(hours=23, minutes=59))  # same batch, still the same window
    await recorder.flush()
    assert [d["window_start"] for d in await downloads(clean_database, short_episode)] == [first]
    assert len(await requests(clean_database, short_episode)) == 3


async def test_a_request_25_hours_after_the_first_counts_again(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    first = utcnow() - timedelta(hours=26)
    short_episode.get(recorder, at=first)
    await recorder.flush()
    short_episode.get(recorder, at=first + timedelta(hours=23))  # inside the first window
    await recorder.flush()
    # The window opened at the first request: it ended 24 hours later, whatever came in between.
    short_episode.get(recorder, at=first + timedelta(hours=25))
    await recorder.flush()
    counted = await downloads(clean_database, short_episode)
    assert [d["window_start"] for d in counted] == [first, first + timedelta(hours=25)]


async def test_the_window_spans_midnight_although_the_salt_changes(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    midnight = datetime.combine(utcnow().date(), time(), tzinfo=UTC)
    short_episode.get(recorder, at=midnight - timedelta(hours=1))
    await recorder.flush()
    short_episode.get(recorder, at=midnight + timedelta(minutes=30))
    await recorder.flush()
    assert len(await downloads(clean_database, short_episode)) == 1
    assert len({r["listener"] for r in await requests(clean_database, short_episode)}) == 2


# --- at least one minute of audio, the union of the ranges ---------------------------------------------------
async def test_ranges_count_once_their_union_reaches_one_minute(
    recorder: DownloadRecorder, long_episode: Episode, clean_database: str
) -> None:
    start = utcnow() - timedelta(hours=2)
    long_episode.get(recorder, at=start, ranges=[(0, 499_999)])
    await recorder.flush()
    long_episode.get(recorder, at=start + timedelta(minutes=5), ranges=[(500_000, 899_999)])
    await recorder.flush()
    assert await downloads(clean_database, long_episode) == []  # 900,000 bytes: 56 seconds

    long_episode.get(recorder, at=start + timedelta(minutes=10), ranges=[(900_000, MINUTE_OF_LONG - 1)])
    await recorder.flush()
    long_episode.get(recorder, at=start + timedelta(minutes=15), ranges=[(MINUTE_OF_LONG, 2_000_000)])
    await recorder.flush()
    [download] = await downloads(clean_database, long_episode)
    assert download["window_start"] == start
    assert download["counted_at"] == start + timedelta(minutes=10)


async def test_overlapping_ranges_do_not_add_up(
    recorder: DownloadRecorder, long_episode: Episode, clean_database: str
) -> None:
    start = utcnow() - timedelta(hours=1)
    for minutes in range(3):
        long_episode.get(recorder, at=start + timedelta(minutes=minutes), ranges=[(0, 599_999)])
    long_episode.get(recorder, at=start + timedelta(minutes=4), ranges=[(300_000, 899_999)])
    await recorder.flush()
    long_episode.get(recorder, at=start + timedelta(minutes=5), ranges=[(0, MINUTE_OF_LONG - 2)])
    await recorder.flush()
    assert await downloads(clean_database, long_episode) == []  # one byte short of a minute
    assert len(await requests(clean_database, long_episode)) == 5


async def test_several_ranges_of_one_response_add_up(
    recorder: DownloadRecorder, long_episode: Episode, clean_database: str
) -> None:
    long_episode.get(recorder, at=utcnow(), ranges=[(0, 479_999), (1_000_000, 1_479_999)])
    await recorder.flush()
    assert len(await downloads(clean_database, long_episode)) == 1


async def test_a_file_of_unknown_duration_counts_when_complete(recorder: DownloadRecorder, clean_database: str) -> None:
    episode = await add_episode(clean_database, size=1_000_000, duration=None)
    moment = utcnow()
    episode.get(recorder, at=moment, ranges=[(0, 998_999)])
    await recorder.flush()
    assert await downloads(clean_database, episode) == []
    episode.get(recorder, at=moment + timedelta(seconds=1), ranges=[(999_000, 999_999)])
    await recorder.flush()
    assert len(await downloads(clean_database, episode)) == 1


# --- listeners ----------------------------------------------------------------------------------------------
async def test_another_user_agent_or_ip_is_another_listener(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    moment = utcnow()
    short_episode.get(recorder, at=moment)
    short_episode.get(recorder, at=moment, ua="PocketCasts/7.50 (Android 14)")
    short_episode.get(recorder, at=moment, ip="198.51.100.24")
    short_episode.get(recorder, at=moment, ip="::ffff:198.51.100.23")  # the first listener, spelt in IPv6
    await recorder.flush()
    counted = await downloads(clean_database, short_episode)
    assert sorted(d["app"] for d in counted) == ["AntennaPod", "AntennaPod", "Pocket Casts"]
    assert len({d["listener"] for d in counted}) == 3


async def test_raw_ips_and_user_agents_are_never_stored(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    secrets = ["203.0.113.77", "2001:db8::77", "SecretPlayer/9.9"]
    short_episode.get(recorder, at=utcnow(), ip="203.0.113.77", ua="SecretPlayer/9.9")
    short_episode.get(recorder, at=utcnow(), ip="2001:db8::77")
    await recorder.flush()
    assert len(await downloads(clean_database, short_episode)) == 2
    tables = await fetch(clean_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    for table in [row["tablename"] for row in tables]:
        query = f'SELECT t::text AS content FROM "{table}" AS t'  # noqa: S608 — names from pg_tables
        for row in await fetch(clean_database, query):
            assert not any(secret in row["content"] for secret in secrets), table


async def test_the_salt_changes_with_the_utc_day(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    today = datetime.combine(utcnow().date(), time(12), tzinfo=UTC)
    short_episode.get(recorder, at=today - timedelta(days=1))
    short_episode.get(recorder, at=today)
    await recorder.flush()
    salts = await fetch(clean_database, "SELECT day, salt FROM listener_salt ORDER BY day")
    assert [s["day"] for s in salts] == [today.date() - timedelta(days=1), today.date()]
    assert salts[0]["salt"] != salts[1]["salt"]
    assert len(salts[0]["salt"]) == 32
    listeners = [r["listener"] for r in await requests(clean_database, short_episode)]
    assert len(set(listeners)) == 2
    assert len(await downloads(clean_database, short_episode)) == 2  # 24 hours apart


# --- the recorder: buffering, background writes, outages, retention -----------------------------------------
async def _eventually(condition: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_stop_writes_every_buffered_record(
    sessionmaker: async_sessionmaker[AsyncSession], short_episode: Episode, clean_database: str
) -> None:
    recorder = DownloadRecorder(flush_interval=3600)
    await recorder.start(sessionmaker)
    for n in range(5):
        short_episode.get(recorder, at=utcnow(), ip=f"198.51.100.{n}")
    assert recorder.pending == 5
    await recorder.stop()
    assert recorder.pending == 0
    assert len(await downloads(clean_database, short_episode)) == 5


async def test_the_background_task_writes_every_interval(
    sessionmaker: async_sessionmaker[AsyncSession], short_episode: Episode, clean_database: str
) -> None:
    recorder = DownloadRecorder(flush_interval=0.05)
    await recorder.start(sessionmaker)
    try:
        short_episode.get(recorder, at=utcnow())

        async def written() -> bool:
            return len(await downloads(clean_database, short_episode)) == 1

        await _eventually(written)
    finally:
        await recorder.stop()


async def test_a_full_batch_is_written_without_waiting_for_the_interval(
    sessionmaker: async_sessionmaker[AsyncSession], short_episode: Episode, clean_database: str
) -> None:
    recorder = DownloadRecorder(flush_interval=3600, batch_size=3)
    await recorder.start(sessionmaker)
    try:
        for n in range(3):
            short_episode.get(recorder, at=utcnow(), ip=f"198.51.100.{n}")

        async def written() -> bool:
            return len(await downloads(clean_database, short_episode)) == 3

        await _eventually(written)
    finally:
        await recorder.stop()


async def test_records_wait_in_memory_while_the_database_is_down(
    sessionmaker: async_sessionmaker[AsyncSession],
    short_episode: Episode,
    clean_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", pool_size=1)
    switch = SwitchableSessionmaker(create_sessionmaker(dead))
    recorder = DownloadRecorder(flush_interval=3600)
    await recorder.start(switch)  # type: ignore[arg-type]
    try:
        short_episode.get(recorder, at=utcnow())
        for _ in range(4):  # an outage is waited out, however long (it is not a refused batch)
            assert await recorder.flush() == 0
        assert recorder.pending == 1
        assert "database unavailable" in caplog.text
        switch.target = sessionmaker  # the database is back
        assert await recorder.flush() == 1
        assert recorder.pending == 0
        assert len(await downloads(clean_database, short_episode)) == 1
    finally:
        await recorder.stop()
        await dead.dispose()


async def test_a_batch_the_database_refuses_is_dropped_after_three_attempts(
    sessionmaker: async_sessionmaker[AsyncSession], clean_database: str
) -> None:
    stored = await add_episode(clean_database, size=1_000, duration=None)
    huge = Episode(stored.id, size=2**63 + 10, duration=None)  # its ranges overflow bigint
    short = await add_episode(clean_database, size=200_000, duration=30.0)
    recorder = DownloadRecorder(flush_interval=3600)
    await recorder.start(sessionmaker)
    try:
        huge.get(recorder, at=utcnow(), ranges=[(2**63, 2**63 + 9)])
        assert [await recorder.flush() for _ in range(3)] == [0, 0, 0]
        assert (recorder.pending, recorder.dropped) == (0, 1)
        short.get(recorder, at=utcnow())
        assert await recorder.flush() == 1
        assert len(await downloads(clean_database, short)) == 1
    finally:
        await recorder.stop()


def test_the_buffer_is_bounded_and_refuses_the_newest() -> None:
    recorder = DownloadRecorder(max_buffered=3)
    asset = uuid.uuid4()
    for n in range(5):
        recorder.record(
            asset, size_bytes=10, duration_seconds=1.0, client_ip=f"198.51.100.{n}", user_agent=UA,
            method="GET", ranges=[(0, 9)], at=utcnow(),
        )  # fmt: skip
    assert recorder.pending == 3
    assert recorder.dropped == 2


async def test_requests_for_a_deleted_asset_are_discarded(
    recorder: DownloadRecorder, short_episode: Episode, long_episode: Episode, clean_database: str
) -> None:
    short_episode.get(recorder, at=utcnow())
    long_episode.get(recorder, at=utcnow())
    await fetch(clean_database, "DELETE FROM media_asset WHERE id = $1", short_episode.id)
    assert await recorder.flush() == 2
    assert recorder.pending == 0
    assert len(await downloads(clean_database, long_episode)) == 1


async def test_purge_removes_old_requests_and_salts_but_keeps_downloads(
    recorder: DownloadRecorder, short_episode: Episode, clean_database: str
) -> None:
    now = utcnow()
    short_episode.get(recorder, at=now - timedelta(days=3))
    short_episode.get(recorder, at=now)
    await recorder.flush()
    assert await recorder.purge_before(now - timedelta(days=2)) == 1
    assert [r["requested_at"] for r in await requests(clean_database, short_episode)] == [now]
    assert len(await downloads(clean_database, short_episode)) == 2
    days = [row["day"] for row in await fetch(clean_database, "SELECT day FROM listener_salt")]
    assert days == [now.date()]
