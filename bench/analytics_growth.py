"""The admin's progress figures as learners grow (issue 20, item 4): 1k, 10k, 100k learners.

On an embedded PostgreSQL (``bench.harness.bench_database``) with the migrations applied and the shipped
content synced: learners added by SQL at each size, each enrolled in a module with probability 0.4 (one in ten
enrollments withdrawn), each enrollment touching each of its module's lessons with probability 0.5 and
completing 60 % of those, so that 100k learners make ~200k enrollments and ~540k progress rows. At each size,
the p50 of the figures as the admin's route reads them (``ProgressRepository.module_figures``: the tally) and, in the
same run, of the aggregate they were computed with before (every active enrollment joined to its progress
rows), the baseline. Target: the figures' p50 ≤ 30 ms at 100k learners.

    python -m bench.analytics_growth [--sizes 1000,10000,100000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.harness import bench_database
from learning.admin.commands import sync_content
from learning.config import Settings
from learning.db.migrate import upgrade
from learning.db.session import create_engine, create_sessionmaker
from learning.progress.repositories import ProgressRepository, TallyRepository

VISIBLE = "(l.publication = 'published' OR (l.publication = 'scheduled' AND l.publish_at <= now()))"
BEFORE = f"""
    WITH per_learner AS (
        SELECT e.module_id, count(p.lesson_id) AS touched, count(p.lesson_id) FILTER (WHERE p.completed) AS done
        FROM enrollment e
        LEFT JOIN lesson l ON l.module_id = e.module_id AND {VISIBLE}
        LEFT JOIN lesson_progress p ON p.lesson_id = l.id AND p.user_id = e.user_id
        WHERE e.status = 'active' GROUP BY e.module_id, e.user_id
    ), lessons AS (SELECT l.module_id, count(*) AS n FROM lesson l WHERE {VISIBLE} GROUP BY l.module_id)
    SELECT m.slug, coalesce(max(lessons.n), 0) AS lessons, count(pl.module_id) AS enrolled,
           count(*) FILTER (WHERE pl.touched > 0) AS started,
           count(*) FILTER (WHERE pl.done >= lessons.n AND lessons.n > 0) AS completed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY pl.done) AS median
    FROM module m LEFT JOIN lessons ON lessons.module_id = m.id LEFT JOIN per_learner pl ON pl.module_id = m.id
    GROUP BY m.id ORDER BY m.position, m.slug
"""  # noqa: S608 (constants)


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _grow(url: str, have: int, want: int) -> None:
    connection = await asyncpg.connect(_libpq(url))
    try:
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMPORARY TABLE new_learner ON COMMIT DROP AS"
                " SELECT gen_random_uuid() AS id, g FROM generate_series($1::int, $2::int) g",
                have + 1, want,
            )  # fmt: skip
            await connection.execute(
                "INSERT INTO user_account (id, email, password_hash, role, token_version)"
                " SELECT id, 'bench-learner-' || g || '@example.org', 'x', 'learner', 0 FROM new_learner"
            )
            await connection.execute(
                "INSERT INTO enrollment (id, user_id, module_id, registration, status, enrolled_at)"
                " SELECT gen_random_uuid(), u.id, m.id, gen_random_uuid(),"
                " CASE WHEN random() < 0.1 THEN 'withdrawn'::enrollment_status ELSE 'active' END, now()"
                " FROM new_learner u CROSS JOIN module m WHERE random() < 0.4"
            )
            await connection.execute(
                "INSERT INTO lesson_progress (user_id, lesson_id, watched_seconds, completed, segments)"
                " SELECT e.user_id, l.id, 10, random() < 0.6, '{}' FROM enrollment e"
                " JOIN new_learner u ON u.id = e.user_id JOIN lesson l ON l.module_id = e.module_id"
                " WHERE random() < 0.5"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _p50(call: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _measure(url: str, rounds: int) -> tuple[float, float, int, int]:
    engine = create_engine(url, pool_size=2)
    sessions = create_sessionmaker(engine)
    connection = await asyncpg.connect(_libpq(url))
    try:
        async with sessions.begin() as session:  # what the worker's maintenance does every 5 minutes
            folded = await TallyRepository(session).fold()
        await connection.execute("VACUUM module_progress_change")  # what autovacuum does next (the migration's)
        async with sessions() as session:
            repository = ProgressRepository(session, engine)
            figures = await repository.module_figures()  # warm: compiled statements, the catalog's rows
            project = await _p50(repository.module_figures, rounds)
        statement = await connection.prepare(BEFORE)
        await statement.fetch()
        baseline = await _p50(statement.fetch, rounds)
        enrolled = sum(f.enrolled for f in figures)
    finally:
        await connection.close()
        await engine.dispose()
    return project, baseline, enrolled, folded


async def _sync(url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as data:
        settings = Settings(database_url=url, data_dir=Path(data), _env_file=None)
        await sync_content(settings, settings.content_root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_growth", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="learners at each step")
    parser.add_argument("--rounds", type=int, default=7, help="reads per figure (the median is reported)")
    args = parser.parse_args(argv)
    rows = measure(sorted({int(s) for s in args.sizes.split(",") if s.strip()}), args.rounds)
    print("\nlearners  active enrollments  figures p50 ms  aggregate p50 ms  target ≤ 30 ms")
    for size, enrolled, project, baseline in rows:
        print(f"{size:>8}  {enrolled:>18}  {project:>14.1f}  {baseline:>16.1f}  {'yes' if project <= 30 else 'no'}")


def measure(sizes: list[int], rounds: int = 7) -> list[tuple[int, int, float, float]]:
    """At each number of learners (growing): (learners, active enrollments, figures p50 ms, aggregate p50 ms)."""
    rows = []
    with bench_database() as url:
        upgrade(url)
        asyncio.run(_sync(url))
        have = 0
        for size in sizes:
            asyncio.run(_grow(url, have, size))
            have = size
            project, baseline, enrolled, folded = asyncio.run(_measure(url, rounds))
            rows.append((size, enrolled, project, baseline))
            print(f"{size:>7} learners, {enrolled:>7} active enrollments ({folded} tally changes folded first):"
                  f" figures p50 {project:7.1f} ms, the aggregate before {baseline:7.1f} ms", flush=True)  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
