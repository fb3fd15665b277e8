"""The worker's maintenance pass removes ended rate-limit windows and keeps running ones, however long."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg

from learning.lib.clock import utcnow
from tests.helpers.cli import clean_environment, run_learning


async def _seed_and_count(url: str, *, seed: bool) -> list[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if seed:
            now = utcnow()
            await connection.executemany(
                "INSERT INTO rate_limit_counter (key, window_start, window_end, hits) VALUES ($1, $2, $3, 1)",
                [
                    ("login:ip:old", now - timedelta(minutes=10), now - timedelta(minutes=5)),
                    ("login:ip:current", now - timedelta(minutes=1), now + timedelta(minutes=4)),
                    # A week-long registration window that started two days ago still counts.
                    ("register:ip:week", now - timedelta(days=2), now + timedelta(days=5)),
                ],
            )
        rows = await connection.fetch("SELECT key FROM rate_limit_counter ORDER BY key")
        return [row["key"] for row in rows]
    finally:
        await connection.close()


def test_worker_once_purges_ended_rate_limit_windows_only(clean_database: str, tmp_path: Path) -> None:
    seeded = asyncio.run(_seed_and_count(clean_database, seed=True))
    assert seeded == ["login:ip:current", "login:ip:old", "register:ip:week"]
    env = clean_environment(LEARNING_DATABASE_URL=clean_database)
    result = run_learning("worker", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert asyncio.run(_seed_and_count(clean_database, seed=False)) == ["login:ip:current", "register:ip:week"]
