"""``bench/run growth``: the figures of issue 20 at 1×, 10× and 100× the data, per 10× step.

Three measurements, each on its own throwaway PostgreSQL, each growing its data in place:

- **search** (``bench.search_growth``): the shipped catalog grown to ×10 and ×100 lessons (497, 4,977),
  uncached queries through ``learning serve`` against the bare ranked ``SELECT … LIMIT 20`` on the same
  database;
- **admin analytics** (``bench.analytics_growth``): 1k, 10k, 100k learners with enrollments and progress,
  the figures as the admin's route reads them against the aggregate they were computed with before;
- **download counting and figures** (``bench.downloads_growth``): 10k, 100k, 1M request rows, the recorder's
  counting throughput and the admin's totals.

Start-up at 5,000 lessons has its own suite (``bench/run startup``), the cold render of a large feed too
(``bench/run feeds``). Absolute targets (milliseconds) are rows whose baseline column is the budget.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import analytics_growth, downloads_growth, search_growth
from bench.harness import Result, SuiteReport, publish

SEARCH = "bench/run growth (search: python -m bench.search_growth --scales 1,10,100)"
ANALYTICS = "bench/run growth (analytics: python -m bench.analytics_growth --sizes 1000,10000,100000)"
DOWNLOADS = "bench/run growth (downloads: python -m bench.downloads_growth --sizes 10000,100000,1000000)"


def _search(duration: int) -> tuple[list[Result], str]:
    rows = search_growth.measure([1, 10, 100], duration=duration)
    (_, small, a1, _), (_, middle, a10, _), (_, large, a100, b100) = rows
    results = [
        Result(f"uncached search at {large:,} lessons, req/s: the app ÷ the bare ranked query",
               a100.requests_per_second, b100.requests_per_second, "req/s", SEARCH, target=0.5),
        Result(f"uncached search p50 at {large:,} lessons (baseline column: the budget)", a100.p50_ms, 15.0, "ms",
               SEARCH, target=1.0, higher_is_better=False),
        Result(f"uncached search p99 at {large:,} lessons (baseline column: the budget)", a100.p99_ms, 50.0, "ms",
               SEARCH, target=1.0, higher_is_better=False),
        Result(f"uncached search req/s, {middle:,} ÷ {small:,} lessons", a10.requests_per_second,
               a1.requests_per_second, "req/s", SEARCH),
        Result(f"uncached search req/s, {large:,} ÷ {middle:,} lessons", a100.requests_per_second,
               a10.requests_per_second, "req/s", SEARCH),
    ]  # fmt: skip
    note = "Search per scale (app p50 / p99 ms, req/s; bare p50 / p99 ms, req/s): " + "; ".join(
        f"{lessons:,} lessons — app {a.p50_ms:.1f} / {a.p99_ms:.1f} ms, {a.requests_per_second:,.0f} req/s; bare "
        f"{b.p50_ms:.2f} / {b.p99_ms:.1f} ms, {b.requests_per_second:,.0f} req/s"
        for _, lessons, a, b in rows
    )
    return results, note + "."


def _analytics() -> tuple[list[Result], str]:
    rows = analytics_growth.measure([1_000, 10_000, 100_000])
    (small, _, p1, _), (middle, _, p10, _), (large, enrolled, p100, before) = rows
    results = [
        Result(f"admin analytics p50 at {large:,} learners (baseline column: the budget)", p100, 30.0, "ms",
               ANALYTICS, target=1.0, higher_is_better=False),
        Result(f"admin analytics p50 at {large:,} learners: the tally ÷ the aggregate before", p100, before, "ms",
               ANALYTICS, higher_is_better=False),
        Result(f"admin analytics p50, {middle:,} ÷ {small:,} learners", p10, p1, "ms", ANALYTICS,
               higher_is_better=False),
        Result(f"admin analytics p50, {large:,} ÷ {middle:,} learners", p100, p10, "ms", ANALYTICS,
               higher_is_better=False),
    ]  # fmt: skip
    note = "Admin analytics per size (figures p50 / the aggregate before): " + "; ".join(
        f"{learners:,} learners ({active:,} active enrollments) — {p:.1f} / {b:.1f} ms"
        for learners, active, p, b in rows
    )
    return results, note + f". At {large:,} learners: {enrolled:,} active enrollments."


def _downloads() -> tuple[list[Result], str]:
    rows = downloads_growth.measure([10_000, 100_000, 1_000_000])
    small, middle, large = rows
    results = [
        Result(f"download counting at {large['rows']:,.0f} request rows (baseline column: the floor), hits/s",
               large["hits_per_s"], 10_000.0, "hits/s", DOWNLOADS, target=1.0),
        Result(f"download counting, {middle['rows']:,.0f} ÷ {small['rows']:,.0f} request rows", middle["hits_per_s"],
               small["hits_per_s"], "hits/s", DOWNLOADS, target=0.8),
        Result(f"download counting, {large['rows']:,.0f} ÷ {middle['rows']:,.0f} request rows", large["hits_per_s"],
               middle["hits_per_s"], "hits/s", DOWNLOADS, target=0.8),
        Result(f"admin download totals p50 at {large['rows']:,.0f} request rows (baseline column: the budget)",
               large["totals_p50_ms"], 30.0, "ms", DOWNLOADS, target=1.0, higher_is_better=False),
    ]  # fmt: skip
    note = "Downloads per size (counting hits/s; totals p50, one asset's figures p50): " + "; ".join(
        f"{row['rows']:,.0f} rows — {row['hits_per_s']:,.0f} hits/s, {row['totals_p50_ms']:.1f} ms, "
        f"{row['asset_p50_ms']:.1f} ms"
        for row in rows
    )
    return results, note + "."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per side of each search step")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    results: list[Result] = []
    notes: list[str] = []
    for measured, note in (_search(args.duration), _analytics(), _downloads()):
        results += measured
        notes.append(note)
    notes.append(
        "Each part runs on its own embedded PostgreSQL grown in place: lessons recombined from the shipped "
        "paragraphs (bench/growth_lessons.py), learners with enrollments and progress made by SQL, request rows "
        "by COPY. The tally's changes are folded and vacuumed before the analytics are read, as the worker's "
        "maintenance and autovacuum do."
    )
    publish(
        SuiteReport(
            suite="growth",
            title="growth — the figures of issue 20 at 1×, 10× and 100× the data",
            project_label="the larger size (or the app, the tally)",
            baseline_label="a tenth of it, the budget, or the baseline named in the row",
            results=results,
            notes=notes,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
