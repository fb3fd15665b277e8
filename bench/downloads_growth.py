"""Download counting and the admin's download figures as the request table grows (issue 20, item 4).

On an embedded PostgreSQL (``bench.harness.bench_database``) with the migrations applied: 50 episodes, then
``media_request`` filled by COPY to each size (10k, 100k, 1M rows by default; a download for one row in
four, which the rollup trigger adds to ``download_day``). At each size: the recorder's counting throughput
(hits/s through the real batch writer: ``DownloadRecorder.flush`` of fresh hits, two byte ranges each, from
new listeners, batches of 500) and the p50 of the admin's totals (``DownloadStatsService.totals``, first
page, all time) and of one asset's figures (``for_asset``, last 30 days). Prints a table; the target is
counting ≥ 10,000 hits/s and flat (≥ 0.8× per 10×), figures p50 ≤ 30 ms at 1M rows.

    python -m bench.downloads_growth [--sizes 10000,100000,1000000] [--hits 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.harness import bench_database
from learning.db.migrate import upgrade
from learning.db.session import create_engine, create_sessionmaker
from learning.media.downloads import DownloadRecorder, DownloadRepository, DownloadStatsService

EPISODES = 50
SIZE, DURATION = 4_800_000, 300.0
APPS = ("AntennaPod", "Apple Podcasts", "Spotify", "Overcast", "Web browser")
UA = "AntennaPod/3.4.0"


async def _fill(url: str, assets: list[uuid.UUID], have: int, want: int) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        rng = random.Random(want)
        now = datetime.now(UTC)
        chunk = 100_000
        for start in range(have, want, chunk):
            count = min(chunk, want - start)
            requests, downloads = [], []
            for n in range(start, start + count):
                listener = hashlib.sha256(str(n // 2).encode()).hexdigest()
                at = now - timedelta(seconds=rng.randrange(36 * 3600))
                asset = assets[rng.randrange(len(assets))]
                app = APPS[n % len(APPS)]
                requests.append((asset, listener, at, 0, SIZE - 1, app))
                if n % 4 == 0:
                    downloads.append((asset, listener, at, at, app, at.date()))
            await connection.copy_records_to_table(
                "media_request", records=requests,
                columns=["asset_id", "listener", "requested_at", "range_start", "range_end", "app"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "media_download", records=downloads,
                columns=["asset_id", "listener", "window_start", "counted_at", "app", "day"],
            )  # fmt: skip
        for table in ("media_request", "media_download", "download_day"):
            await connection.execute(f"VACUUM ANALYZE {table}")
        # The fill's dirty pages are written now, not by the measured flushes (every size is measured alike).
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def _measure(url: str, assets: list[uuid.UUID], size: int, hits: int, rounds: int) -> dict[str, float]:
    engine = create_engine(url, pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    try:
        rates = []
        for round_ in range(rounds):
            recorder = DownloadRecorder(flush_interval=3600, batch_size=500, max_buffered=hits + 1)
            await recorder.start(sessionmaker)
            now = datetime.now(UTC)
            for n in range(hits // 2):
                ip = f"10.{round_}.{n // 250}.{n % 250}"
                asset = assets[n % len(assets)]
                for part in range(2):
                    recorder.record(
                        asset, size_bytes=SIZE, duration_seconds=DURATION, client_ip=ip, user_agent=UA,
                        method="GET", ranges=[(part * 500_000, part * 500_000 + 499_999)], at=now,
                    )  # fmt: skip
            began = time.perf_counter()
            written = await recorder.flush()
            rates.append(written / (time.perf_counter() - began))
            await recorder.stop()
        totals, per_asset = [], []
        for n in range(30):
            async with sessionmaker() as session:
                stats = DownloadStatsService(DownloadRepository(session))
                began = time.perf_counter()
                await stats.totals(start=None, end=None, limit=50, offset=0)
                totals.append(time.perf_counter() - began)
                began = time.perf_counter()
                await stats.for_asset(assets[n % len(assets)], start=None, end=None)
                per_asset.append(time.perf_counter() - began)
        return {
            "rows": size,
            "hits_per_s": statistics.median(rates),
            "totals_p50_ms": 1000 * statistics.median(totals),
            "asset_p50_ms": 1000 * statistics.median(per_asset),
        }
    finally:
        await engine.dispose()


async def _assets(url: str) -> list[uuid.UUID]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        ids = [uuid.uuid4() for _ in range(EPISODES)]
        await connection.executemany(
            "INSERT INTO media_asset (id, ref, rendition, kind, status, name, extension, mime_type, size_bytes,"
            " duration_seconds, storage_key) VALUES ($1, $2, 'original', 'audio', 'ready', $2, 'mp3', 'audio/mpeg',"
            " $3, $4, $5)",
            [(i, f"episode-{n:03d}", SIZE, DURATION, f"audio/{i.hex}.mp3") for n, i in enumerate(ids)],
        )
        return ids
    finally:
        await connection.close()


def measure(sizes: list[int], hits: int = 5000, rounds: int = 3) -> list[dict[str, float]]:
    """At each size of ``media_request`` (growing): rows, hits_per_s, totals_p50_ms, asset_p50_ms."""
    with bench_database() as url:
        upgrade(url)
        assets = asyncio.run(_assets(url))
        have, results = 0, []
        for size in sizes:
            asyncio.run(_fill(url, assets, have, size))
            have = size
            results.append(asyncio.run(_measure(url, assets, size, hits, rounds)))
            print(f"... {size:,} rows measured", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--hits", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = measure([int(size) for size in args.sizes.split(",")], args.hits, args.rounds)
    print(f"{'request rows':>14} {'hits/s':>10} {'×prev':>6} {'totals p50 ms':>14} {'asset p50 ms':>13}")
    previous = None
    for row in results:
        ratio = f"{row['hits_per_s'] / previous:.2f}" if previous else "-"
        print(f"{row['rows']:>14,} {row['hits_per_s']:>10,.0f} {ratio:>6} {row['totals_p50_ms']:>14.1f}"
              f" {row['asset_p50_ms']:>13.1f}")  # fmt: skip
        previous = row["hits_per_s"]


if __name__ == "__main__":
    main()
