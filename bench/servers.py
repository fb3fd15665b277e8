"""Suite ``servers``: which ASGI server is faster here for this app — granian (project) or uvicorn (baseline).

Both serve the same database, one after the other per round (A B A B A B), each measured for ``--duration``
seconds after a ``--warmup``, on ``GET /api/v1/ping`` (trivial JSON) and ``GET /health/ready`` (PostgreSQL
and the local store). Informational: no target.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import (
    App,
    Result,
    SuiteReport,
    WrkRun,
    bench_database,
    ensure_wrk,
    fmt,
    publish,
    run_wrk,
    running_app,
    suite_command,
)

PROJECT, BASELINE = "granian", "uvicorn"
SERVERS = (PROJECT, BASELINE)
ROUTES = {"ping": "/api/v1/ping", "ready": "/health/ready"}
PREFERRED_PORTS = {PROJECT: 18101, BASELINE: 18102}
MIB = 1024 * 1024
# Neither route reads the catalog: skip the content import at start-up (faster, and not under test here).
SERVER_ENV = {"LEARNING_CONTENT_SYNC_ON_START": "false"}


@dataclass(frozen=True)
class Options:
    duration_s: int
    warmup_s: int
    connections: int
    rounds: int


def compare(database_url: str, workers: int, routes: Sequence[str], options: Options) -> tuple[list[Result], list[str]]:
    """Run both servers with ``workers`` workers; measure ``routes`` alternately; return rows and notes."""
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    runs: dict[tuple[str, str], list[WrkRun]] = {(r, s): [] for r in routes for s in SERVERS}
    with contextlib.ExitStack() as stack:
        apps: dict[str, App] = {}
        for server in SERVERS:  # one at a time: the first one applies the migrations
            apps[server] = stack.enter_context(
                running_app(
                    f"servers-{server}-w{workers}",
                    database_url,
                    server=server,
                    workers=workers,
                    port=PREFERRED_PORTS[server] + 10 * (workers - 1),
                    env=SERVER_ENV,
                )
            )
        idle = {s: app.rss() for s, app in apps.items()}
        for route in routes:
            for round_ in range(options.rounds):
                for server in SERVERS:
                    run = run_wrk(
                        apps[server].url(ROUTES[route]),
                        connections=options.connections,
                        duration_s=options.duration_s,
                        warmup_s=options.warmup_s,
                    )
                    runs[route, server].append(run)
                    print(
                        f"  {route:5} {label} round {round_ + 1} {server:8} "
                        f"{fmt(run.requests_per_second):>7} req/s  p50 {run.p50_ms:.2f} ms  "
                        f"p99 {run.p99_ms:.2f} ms  errors {run.errors}",
                        flush=True,
                    )
        loaded = {s: app.rss() for s, app in apps.items()}

    results: list[Result] = []
    notes: list[str] = []
    for route in routes:
        name = f"`GET {ROUTES[route]}`, {label}"
        mine, theirs = runs[route, PROJECT], runs[route, BASELINE]
        command = f"{mine[0].command} ; {theirs[0].command}"
        results.append(Result(name, _median_rps(mine), _median_rps(theirs), "req/s", command))
        results.append(Result(name, _median_p99(mine), _median_p99(theirs), "p99 ms", command, higher_is_better=False))
        per_round = "; ".join(f"{s} " + " · ".join(fmt(r.requests_per_second) for r in runs[route, s]) for s in SERVERS)
        notes.append(f"{name}, req/s per round: {per_round}.")
        errors = {s: sum(r.errors for r in runs[route, s]) for s in SERVERS}
        if any(errors.values()):
            counts = ", ".join(f"{s} {n}" for s, n in errors.items())
            notes.append(f"{name}: **errors** (non-2xx/3xx or socket) under load: {counts}.")
    rss_command = "psutil RSS summed over the process tree of learning serve (main process and workers)"
    for when, sizes in (("idle", idle), ("after load", loaded)):
        results.append(
            Result(
                f"memory {when}, {label}",
                sum(sizes[PROJECT]) / MIB,
                sum(sizes[BASELINE]) / MIB,
                "MiB",
                rss_command,
                higher_is_better=False,
            )
        )
    for server, app in apps.items():
        levels = app.log_levels()
        raw = levels.pop("raw", 0)
        noisy = {k: v for k, v in levels.items() if k not in ("info", "debug")}
        logged = ", ".join(f"{n} {k}" for k, n in sorted(noisy.items())) or "no line at WARNING or above"
        processes = " + ".join(f"{size / MIB:.0f}" for size in loaded[server])
        notes.append(
            f"{server}, {label}: exit status {app.process.returncode} after SIGTERM; stderr: {logged} "
            f"({levels.get('info', 0)} info, {raw} non-JSON lines); RSS per process after load "
            f"(main first): {processes} MiB."
        )
    return results, notes


def _median_rps(runs: Sequence[WrkRun]) -> float:
    return statistics.median(r.requests_per_second for r in runs)


def _median_p99(runs: Sequence[WrkRun]) -> float:
    return statistics.median(r.p99_ms for r in runs)


def _verdict(results: Sequence[Result]) -> str:
    parts = [f"{r.name} ×{r.ratio:.2f}" for r in results if r.unit == "req/s"]
    return "Throughput ratio granian/uvicorn (above 1: granian faster): " + "; ".join(parts) + "."


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="A B rounds per route (the median is kept)")
    parser.add_argument("--no-two-workers", action="store_true", help="skip the 2-worker ping comparison")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    options = Options(args.duration, args.warmup, args.connections, args.rounds)

    ensure_wrk()
    with bench_database() as database_url:
        results, notes = compare(database_url, 1, ["ping", "ready"], options)
        if not args.no_two_workers:
            more, more_notes = compare(database_url, 2, ["ping"], options)
            results += more
            notes += more_notes
    notes.insert(0, _verdict(results))
    notes.insert(
        1,
        "Both servers run the app as `learning serve` with `LEARNING_SERVER=granian|uvicorn`, "
        "`LEARNING_WORKERS=N`, `LEARNING_LOG_LEVEL=WARNING`, alive side by side on one database; wrk runs on "
        "the same 2 cores, so the figures are lower bounds. Ratios are granian/uvicorn: above 1 is better "
        "for granian on req/s, below 1 on p99 and memory. Each figure is the median of "
        f"{options.rounds} runs per server, alternated ({' '.join(['A B'] * options.rounds)}), "
        f"each of {options.duration_s} s after a {options.warmup_s} s warm-up.",
    )
    publish(
        SuiteReport(
            suite="servers",
            title="granian against uvicorn",
            project_label=PROJECT,
            baseline_label=BASELINE,
            results=results,
            notes=notes,
            command=suite_command("servers", argv),
        )
    )


if __name__ == "__main__":
    main()
