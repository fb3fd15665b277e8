"""The admin's download figures come from the day rollup, which always equals what the counting rules make
of the raw requests; a batch is counted in a fixed number of statements whatever its size; a full buffer
refuses new records, says so, and never blocks."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learning.db.session import create_engine, create_sessionmaker
from learning.lib.clock import utcnow
from learning.media.downloads import DownloadRecorder, DownloadRepository, DownloadStatsService, Hit, listening_app
from learning.media.downloads.rules import count_downloads, normal_ip, served_ranges
from tests.helpers.database import SwitchableSessionmaker, fetch
from tests.media.test_downloads import UA, Episode, add_episode

APPS = ["AntennaPod/3.4.0", "Podcasts/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", "Spotify/8.9.10 Android/33"]
BOT = "curl/8.5.0"


@pytest.fixture
async def engine(clean_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(clean_database, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


def _truth(sent: list[tuple[Episode, dict[str, Any]]]) -> Counter[tuple[uuid.UUID, date, str]]:
    """Downloads per (asset, UTC day, app) by the rules applied to everything sent, in Python, at once."""
    groups: dict[tuple[uuid.UUID, str, str], list[Hit]] = defaultdict(list)
    for episode, request in sent:
        served = served_ranges(request["method"], episode.size, request["ranges"])
        app = listening_app(request["ua"])
        if not served or app is None:
            continue
        hit = Hit(episode.id, episode.size, episode.duration, request["ip"], request["ua"], app, request["at"], served)
        groups[(episode.id, normal_ip(request["ip"]), request["ua"])].append(hit)
    truth: Counter[tuple[uuid.UUID, date, str]] = Counter()
    for group in groups.values():
        requests = [(hit.at, start, end) for hit in group for start, end in hit.ranges]
        for hit, _ in count_downloads(group, requests, []):
            truth[(hit.asset_id, hit.at.date(), hit.app)] += 1
    return truth


async def test_the_rollup_and_the_admin_figures_equal_the_rules_applied_to_the_raw_requests(
    sessionmaker: async_sessionmaker[AsyncSession], clean_database: str
) -> None:
    long = await add_episode(clean_database, size=4_800_000, duration=300.0)  # one minute: 960,000 bytes
    short = await add_episode(clean_database, size=200_000, duration=30.0)  # the whole file
    unknown = await add_episode(clean_database, size=50_000, duration=None)
    now = utcnow().replace(microsecond=0)
    sent: list[tuple[Episode, dict[str, Any]]] = []

    def send(
        episode: Episode, hours_ago: float, ip: str, ua: str, ranges: list[tuple[int, int]], method: str = "GET"
    ) -> None:
        sent.append((episode, {"at": now - timedelta(hours=hours_ago), "ip": ip, "ua": ua, "ranges": ranges,
                               "method": method}))  # fmt: skip

    for n in range(6):  # whole files, for several listeners and apps, on two or three UTC days
        for episode in (long, short, unknown):
            send(episode, 40 - 7 * n, f"198.51.100.{n}", APPS[n % 3], [(0, episode.size - 1)])
    for step in range(5):  # one listener's player fetching the long episode in pieces: one download
        send(long, 12 - step * 0.1, "203.0.113.9", UA, [(step * 300_000, step * 300_000 + 299_999)])
    send(long, 30, "203.0.113.10", UA, [(0, 500_000)])  # half a minute, then the rest a day and more later: none,
    send(long, 2, "203.0.113.10", UA, [(500_001, 960_000)])  # then one (the first request is out of the window)
    send(long, 3, "203.0.113.10", UA, [(0, 959_999)])
    send(short, 30, "203.0.113.11", UA, [(0, 199_999)])  # the same listener 25 hours later: two downloads
    send(short, 5, "203.0.113.11", UA, [(0, 199_999)])
    send(short, 4, "203.0.113.11", UA, [(0, 199_999)])  # inside the second window: nothing more
    send(short, 6, "203.0.113.12", BOT, [(0, 199_999)])  # a bot
    send(short, 6, "203.0.113.13", UA, [(0, 1)])  # a probe
    send(short, 6, "203.0.113.14", UA, [(0, 199_999)], method="HEAD")
    send(unknown, 1, "2001:db8::1", APPS[1], [(0, 24_999)])  # half of a file of unknown length, then the rest
    send(unknown, 0.5, "::ffff:2001:db8:0:1", APPS[1], [(25_000, 49_999)])  # another address
    send(unknown, 0.5, "2001:db8:0:0::1", APPS[1], [(25_000, 49_999)])  # the same address spelt otherwise

    recorder = DownloadRecorder(flush_interval=3600, batch_size=7)  # several batches, in time order
    await recorder.start(sessionmaker)
    try:
        for episode, request in sorted(sent, key=lambda item: item[1]["at"]):
            recorder.record(
                episode.id, size_bytes=episode.size, duration_seconds=episode.duration, client_ip=request["ip"],
                user_agent=request["ua"], method=request["method"], ranges=request["ranges"], at=request["at"],
            )  # fmt: skip
            if recorder.pending >= 7:
                await recorder.flush()
        await recorder.flush()
    finally:
        await recorder.stop()

    truth = _truth(sent)
    assert sum(truth.values()) > 20  # the mix has something to count
    rollup = await fetch(clean_database, "SELECT asset_id, day, app, downloads FROM download_day")
    assert Counter({(row["asset_id"], row["day"], row["app"]): row["downloads"] for row in rollup}) == truth
    async with sessionmaker() as session:
        stats = DownloadStatsService(DownloadRepository(session))
        totals, count = await stats.totals(start=None, end=None, limit=10, offset=0)
        per_asset: Counter[uuid.UUID] = Counter()
        for (asset_id, _, _), downloads in truth.items():
            per_asset[asset_id] += downloads
        assert {total.asset_id: total.total for total in totals} == per_asset
        assert count == 3
        today = now.date()
        report = await stats.for_asset(long.id, start=today - timedelta(days=2), end=today)
        days: Counter[date] = Counter({today - timedelta(days=back): 0 for back in range(3)})
        for (asset_id, day, _), downloads in truth.items():
            if asset_id == long.id and day in days:
                days[day] += downloads
        assert dict(report.days) == dict(days)
        apps: Counter[str] = Counter()
        for (asset_id, _, app), downloads in truth.items():
            if asset_id == long.id:
                apps[app] += downloads
        assert dict(report.apps) == apps
        assert await stats.episode_totals([long.id, short.id]) == {
            long.id: per_asset[long.id],
            short.id: per_asset[short.id],
        }


def _count_executions(engine: AsyncEngine) -> list[int]:
    """Statements the server executes, as the driver sends them (an executemany of n rows is n executions)."""
    executions = [0]

    def counted(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        executions[0] += len(parameters) if executemany else 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    return executions


async def test_a_batch_is_counted_in_the_same_number_of_statements_whatever_its_size(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], clean_database: str
) -> None:
    episode = await add_episode(clean_database, size=200_000, duration=30.0)
    recorder = DownloadRecorder(flush_interval=3600, batch_size=10_000)
    await recorder.start(sessionmaker)
    executions = _count_executions(engine)
    try:
        now = utcnow()

        async def flush_of(listeners: int, offset: int) -> int:
            for n in range(listeners):
                for part in range(2):  # two requests a listener: the file in two halves
                    episode.get(recorder, at=now, ip=f"10.{offset}.{n // 250}.{n % 250}",
                                ranges=[(part * 100_000, part * 100_000 + 99_999)])  # fmt: skip
            before = executions[0]
            assert await recorder.flush() == 2 * listeners
            return executions[0] - before

        await flush_of(1, 0)  # the day's salt is made once
        small, large = await flush_of(3, 1), await flush_of(600, 2)
        assert small == large
        assert small <= 4
        assert len(await fetch(clean_database, "SELECT 1 FROM media_download")) == 1 + 3 + 600
    finally:
        await recorder.stop()


async def test_a_full_buffer_refuses_new_records_counts_and_logs_them_and_never_blocks(
    sessionmaker: async_sessionmaker[AsyncSession], clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    episodes = [await add_episode(clean_database, size=200_000, duration=30.0) for _ in range(5)]
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", pool_size=1)
    switch = SwitchableSessionmaker(create_sessionmaker(dead))
    recorder = DownloadRecorder(flush_interval=3600, max_buffered=2)
    await recorder.start(switch)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="learning.downloads")
    try:
        at = datetime.now(UTC)
        for episode in episodes:
            episode.get(recorder, at=at)
        async with asyncio.timeout(10):  # the database is away: the records wait, nothing blocks
            assert await recorder.flush() == 0
        status = recorder.status()
        assert (status.pending, status.max_buffered, status.dropped) == (2, 2, 3)
        full = [r for r in caplog.records if "buffer full" in r.getMessage()]
        assert len(full) == 1  # once per interval, not once per record
        assert "2 records waiting" in full[0].getMessage()
        switch.target = sessionmaker  # the database is back: the records kept are the first ones received
        await recorder.flush()  # (a refusal also woke the background writer: it may be the one writing them)
        assert recorder.pending == 0
        counted = {row["asset_id"] for row in await fetch(clean_database, "SELECT asset_id FROM media_download")}
        assert counted == {episodes[0].id, episodes[1].id}
    finally:
        await recorder.stop()
        await dead.dispose()
