"""Search as the catalog grows: uncached search through the app against the bare ranked query, at 1×/10×/100×.

``python -m bench.search_growth [--scales 1,10,100] [--duration 10] [--connections 8]``

One ``learning serve`` (granian, 1 worker) on a throwaway PostgreSQL (``bench_database``), the shipped content
synced at start, then grown in place by ``bench.growth_lessons`` (lessons recombined from the shipped paragraphs):
×10 and ×100 add 450 and 4,950 lessons (issue 20's 497 and 4,997). The edge is off
(``LEARNING_EDGE=false``) and every request asks a different query, so nothing is answered from memory: a
stream of distinct queries, as users type them, made of one or two words of the shipped lessons.

At each scale, in turn:

- **app**: ``wrk`` on ``GET /api/v1/search?q=…``, each request the next query of the stream;
- **bare**: the same stream as ``SELECT id FROM lesson WHERE search_vector @@ websearch_to_tsquery(…)
  ORDER BY ts_rank(…) DESC LIMIT 20`` (the French, accent-folding configuration), from asyncpg with as many
  connections, on the same database.

Prints p50/p99 latencies and requests/s of both, and the ratio app/bare of the throughputs (issue 20's
target: at least 0.5 at 100×, with p50 ≤ 15 ms and p99 ≤ 50 ms). It writes nothing to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bench.growth_lessons import add_lessons
from bench.harness import bench_database, fmt, run_wrk, running_app

PORT = 18360
EXTRA_PER_SCALE = 50  # lessons added per step of scale: ×10 adds 450, ×100 adds 4,950
STREAM = 20_000  # distinct queries, more than any run asks
BARE = (
    "SELECT id FROM lesson WHERE search_vector @@ websearch_to_tsquery('public.fr_unaccent', $1) "
    "ORDER BY ts_rank(search_vector, websearch_to_tsquery('public.fr_unaccent', $1)) DESC LIMIT 20"
)
_WORD = re.compile(r"[^\W\d_]{5,}")


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _lessons(url: str) -> int:
    connection = await asyncpg.connect(_libpq(url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM lesson"))
    finally:
        await connection.close()


async def query_stream(url: str, count: int = STREAM, seed: int = 20) -> list[str]:
    """``count`` distinct queries of one or two words (five letters or more) of the shipped lessons."""
    connection = await asyncpg.connect(_libpq(url))
    try:
        texts = await connection.fetch("SELECT title, summary, body_md FROM lesson WHERE origin = 'content'")
    finally:
        await connection.close()
    words = sorted({w.lower() for row in texts for value in row.values() for w in _WORD.findall(value)})
    rng = random.Random(seed)
    queries: dict[str, None] = {}
    while len(queries) < count:
        picked = rng.sample(words, k=1 if rng.random() < 0.6 else 2)
        queries[" ".join(picked)] = None
    return list(queries)


def _lua_quote(value: str) -> str:
    return '"' + "".join(f"\\{ord(c):03d}" if c in '"\\' or ord(c) < 32 else c for c in value) + '"'


def stream_script(queries: Sequence[str], threads: int) -> str:
    """wrk Lua: each thread walks its own part of the stream, one query per request."""
    paths = ",\n".join(_lua_quote("/api/v1/search?" + urllib.parse.urlencode({"q": q})) for q in queries)
    return (
        f"local paths = {{{paths}}}\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  thread:set('first', threads)\n"
        "  threads = threads + 1\n"
        "end\n"
        f"function init(args) turn = first * math.floor(#paths / {threads}) end\n"
        "function request()\n"
        "  turn = turn + 1\n"
        "  return wrk.format(nil, paths[(turn % #paths) + 1])\n"
        "end\n"
    )


def measure_app(base_url: str, queries: Sequence[str], *, seconds: int, connections: int) -> Figures:
    threads = 2
    run = run_wrk(
        base_url + "/api/v1/search",
        connections=connections,
        duration_s=seconds,
        threads=threads,
        script=stream_script(queries, threads),
    )
    return Figures(run.requests_per_second, run.p50_ms, run.p99_ms, run.requests, run.errors)


async def measure_bare(url: str, queries: Sequence[str], *, seconds: int, connections: int) -> Figures:
    """The bare ranked query, ``connections`` at a time for ``seconds``, each the next query of the stream."""
    pool = await asyncpg.create_pool(_libpq(url), min_size=connections, max_size=connections)
    latencies: list[float] = []
    errors = 0
    turn = 0
    try:
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal turn, errors
            async with pool.acquire() as connection:
                statement = await connection.prepare(BARE)
                while time.monotonic() < deadline:
                    text = queries[turn % len(queries)]
                    turn += 1
                    started = time.perf_counter()
                    try:
                        await statement.fetch(text)
                    except asyncpg.PostgresError:
                        errors += 1
                        continue
                    latencies.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - started
    finally:
        await pool.close()
    if len(latencies) < 2:
        raise RuntimeError(f"the bare query answered {len(latencies)} time(s) in {seconds} s ({errors} errors)")
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(latencies) / elapsed, cuts[49], cuts[98], len(latencies), errors)


def measure(scales: list[int], *, duration: int = 10, connections: int = 8) -> list[tuple[int, int, Figures, Figures]]:
    """At each scale (growing): (scale, lessons, the app's figures, the bare query's figures)."""
    rows: list[tuple[int, int, Figures, Figures]] = []
    with bench_database() as url, running_app("search-growth", url, port=PORT, env={"LEARNING_EDGE": "false"}) as app:
        queries = asyncio.run(query_stream(url))
        added = 0
        for scale in scales:
            wanted = (scale - 1) * EXTRA_PER_SCALE
            if wanted > added:
                asyncio.run(add_lessons(url, wanted - added, start=added + 1, seed=scale))
                added = wanted
            lessons = asyncio.run(_lessons(url))
            # Each side takes its own part of the stream, so neither meets a query the other warmed.
            half = len(queries) // 2
            print(f"== ×{scale}: {lessons} lessons", flush=True)
            served = measure_app(app.base_url, queries[:half], seconds=duration, connections=connections)
            bare = asyncio.run(measure_bare(url, queries[half:], seconds=duration, connections=connections))
            rows.append((scale, lessons, served, bare))
            queries = queries[half:] + queries[:half]  # the next scale starts elsewhere in the stream
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_growth", description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10,100", help="comma-separated growth factors (default 1,10,100)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per side and scale")
    parser.add_argument("--connections", type=int, default=8, help="concurrent requests (wrk and asyncpg)")
    args = parser.parse_args(argv)
    scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    if not scales or scales[0] < 1:
        parser.error("scales are whole factors ≥ 1")

    rows = measure(scales, duration=args.duration, connections=args.connections)
    header = ("scale", "lessons", "app p50 ms", "app p99 ms", "app req/s", "bare p50 ms", "bare p99 ms",
              "bare req/s", "app/bare", "errors")  # fmt: skip
    table = [header] + [
        (f"×{scale}", str(lessons), fmt(a.p50_ms), fmt(a.p99_ms), fmt(a.requests_per_second), fmt(b.p50_ms),
         fmt(b.p99_ms), fmt(b.requests_per_second), f"{a.requests_per_second / b.requests_per_second:.2f}",
         str(a.errors + b.errors))
        for scale, lessons, a, b in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    return 1 if any(a.errors or b.errors for _, _, a, b in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
