"""Suite ``startup``: ``learning serve``'s start-up as the catalog grows (issue 20, item 5).

For the shipped content and for it grown to ~500 and ~5,000 lessons (``bench/growth_content.py``: synthetic
text lessons in draft modules, made of the shipped paragraphs), on a fresh embedded PostgreSQL:

1. the first start: ``learning serve`` (granian, one worker) from launch to ``/health/ready`` 200, its
   start-up sync included (run in a child process);
2. the unchanged restart: the same, a second time (the content's fingerprint matches: no sync);
3. for comparison, what every restart cost before: ``learning content sync`` of the unchanged content (it
   reads, validates and compares every file);
4. the worker's resident memory after each start, against the shipped catalog's.

Targets: an unchanged restart at 5,000 lessons within 3 s (the baseline column is the budget); the worker's
RSS at 5,000 lessons within 1.2× the shipped catalog's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.growth_content import build_content
from bench.harness import WORK_DIR, Result, SuiteReport, bench_database, publish, running_app

RESTART_BUDGET_S = 3.0
RSS_TARGET = 1.2
MB = 1024 * 1024


@dataclass(frozen=True)
class Start:
    lessons: int
    first_s: float
    restart_s: float
    full_sync_s: float
    worker_rss: int  # after the first start (its sync ran in a child)
    restart_worker_rss: int


def start_once(database_url: str, env: dict[str, str]) -> tuple[float, int]:
    """Seconds from launch to ready, and the worker's RSS (the last process of the tree) once ready."""
    began = time.perf_counter()
    with running_app("startup", database_url, env=env, ready_timeout_s=900) as app:
        elapsed = time.perf_counter() - began
        return elapsed, app.rss()[-1]


def measure(extra_lessons: int) -> Start:
    content = WORK_DIR / "startup-content"
    lessons = build_content(content, extra_lessons)
    with bench_database() as database_url:
        env = {
            "LEARNING_CONTENT_DIR": str(content),
            "LEARNING_CONTENT_SYNC_ON_START": "true",
            "LEARNING_JOBS_IN_PROCESS": "false",
            # Outside the app's working folder, which each start empties: the media persist as in production.
            "LEARNING_LOCAL_STORAGE_ROOT": str(WORK_DIR / "startup-media" / str(extra_lessons)),
            "LEARNING_PUBLIC_BASE_URL": "http://127.0.0.1:18990",
        }
        first, rss = start_once(database_url, env)
        restart, restart_rss = start_once(database_url, env)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "learning.cli", "content", "sync"],
            env={**os.environ, "LEARNING_DATABASE_URL": database_url, **env},
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        full = time.perf_counter() - began
    return Start(lessons, first, restart, full, rss, restart_rss)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--scales", nargs="+", type=int, default=[0, 473, 4973], help="synthetic lessons added")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    starts = []
    for extra in args.scales:
        done = measure(extra)
        starts.append(done)
        print(
            f"  {done.lessons:>6} lessons: first start {done.first_s:5.1f} s, unchanged restart "
            f"{done.restart_s:5.1f} s, full sync of unchanged content {done.full_sync_s:5.1f} s, worker RSS "
            f"{done.worker_rss / MB:.0f} MB (after the restart {done.restart_worker_rss / MB:.0f} MB)",
            flush=True,
        )
    shipped, largest = starts[0], starts[-1]
    command = "bench/run startup (learning serve, granian 1 worker, launch to /health/ready 200)"
    results = [
        Result(
            f"unchanged restart at {largest.lessons:,} lessons (baseline column: the budget)",
            largest.restart_s, RESTART_BUDGET_S, "s", command, target=1.0, higher_is_better=False,
        ),
        Result(
            f"worker RSS at {largest.lessons:,} lessons after a first start (baseline: the shipped catalog's)",
            largest.worker_rss / MB, shipped.worker_rss / MB, "MB", command, target=RSS_TARGET,
            higher_is_better=False,
        ),
        Result(
            f"unchanged restart at {largest.lessons:,} lessons (baseline: a full sync of the unchanged content, "
            "what every restart did before; informational)",
            largest.restart_s, largest.full_sync_s, "s", command, higher_is_better=False,
        ),
    ]  # fmt: skip
    notes = [
        "Per scale: "
        + "; ".join(
            f"{s.lessons:,} lessons — first start {s.first_s:.1f} s, unchanged restart {s.restart_s:.1f} s, full "
            f"sync of unchanged content {s.full_sync_s:.1f} s, worker RSS {s.worker_rss / MB:.0f} MB after the "
            f"first start and {s.restart_worker_rss / MB:.0f} MB after the restart"
            for s in starts
        )
        + ".",
        "The grown content is the shipped content plus synthetic text lessons in draft modules, made of the "
        "shipped lessons' paragraphs (bench/growth_content.py), written under bench/.work/ only.",
    ]
    publish(
        SuiteReport(
            suite="startup",
            title="start-up as the catalog grows",
            project_label="now",
            baseline_label="budget or reference",
            results=results,
            notes=notes,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
