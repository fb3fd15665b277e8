"""Suite ``progress``: progress event ingestion against raw asyncpg single-row upserts (issue 6's target).

Project: one ``learning serve`` (granian, 1 worker, shipped content synced at start) and 64 learners, each
registered, logged in and enrolled in the module; wrk (-c64) posts ``/api/v1/me/progress/events`` with
batches of ten fresh events (what a player flushing its queue sends: ``played`` segments and ``position``
heartbeats), then with batches of ONE ``played`` event, the learners' tokens in rotation. Baseline: 64
asyncio tasks, each on its own asyncpg connection, doing single-row upserts (each its own implicit
transaction, ``synchronous_commit`` as the server's default, like the app) into a scratch table shaped like
``lesson_progress`` in the same PostgreSQL. Target: app events/s (batches of ten) at least 0.5× the
baseline's ops/s; both p99s are reported. Each round runs both app scenarios then the baseline; the median
of the rounds is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness import (
    LUA_UUID4,
    App,
    Result,
    SuiteReport,
    WrkRun,
    bench_database,
    ensure_wrk,
    fmt,
    parse_wrk,
    publish,
    running_app,
    suite_command,
)

PORT = 18600
MODULE = "dix-ans-de-recherche"
PASSWORD = "bench-progress-Xq7!pass"  # noqa: S105 — a throwaway learner's password
EVENTS_PATH = "/api/v1/me/progress/events"
SCRATCH = "bench_progress_upsert"


# --- setup: learners and a lesson ------------------------------------------------------------------


def call(
    app: App, method: str, path: str, body: Any = None, token: str | None = None, authorization: str | None = None
) -> tuple[int, Any]:
    """One JSON request to the app (``token``: a bearer token; ``authorization``: any other header value)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if authorization:
        headers["Authorization"] = authorization
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(app.url(path), data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — our own http URL
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:500]


def video_lesson(app: App) -> tuple[str, int]:
    """A video lesson of the module: its id and duration (seconds)."""
    status, module = call(app, "GET", f"/api/v1/modules/{MODULE}")
    if status != 200:
        raise RuntimeError(f"module answered {status}: {module!r}")
    for lesson in module["lessons"]:
        if lesson["kind"] == "video" and lesson.get("duration_seconds"):
            return str(lesson["id"]), int(lesson["duration_seconds"])
    raise RuntimeError("the module has no video lesson with a duration")


def enrolled_learner(app: App, email: str, password: str) -> str:
    """The bearer token of a new learner (registered, logged in) enrolled in the module."""
    status, body = call(app, "POST", "/api/v1/auth/register", {"email": email, "password": password})
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body!r}")
    status, body = call(app, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"login answered {status}: {body!r}")
    token = str(body["access_token"])
    status, body = call(app, "POST", "/api/v1/me/enrollments", {"module": MODULE}, token)
    if status not in (200, 201):
        raise RuntimeError(f"enroll answered {status}: {body!r}")
    return token


def learners(app: App, count: int) -> list[str]:
    """Tokens of ``count`` new learners, each enrolled in the module."""
    run = uuid.uuid4().hex[:8]
    return [enrolled_learner(app, f"bench-progress-{run}-{i}@example.org", PASSWORD) for i in range(count)]


# --- the app under wrk -----------------------------------------------------------------------------


def events_script(tokens: Sequence[str], lesson_id: str, duration: int, threads: int, batch: int) -> str:
    """wrk Lua: each thread takes its slice of the tokens and rotates them; ``batch`` fresh events a request.

    A batch of one is a single ``played`` event (0→5 s). A larger batch is what a player sends when it flushes
    its queue: ``played`` 5-second segments that follow each other, each followed by a ``position`` heartbeat,
    all with fresh ids. The rotation is per request, not per connection (wrk's Lua sees threads, not
    connections): with as many tokens as connections, consecutive requests of a thread use distinct learners.
    """
    quoted = ", ".join(f'"{t}"' for t in tokens)
    return f"""
local tokens = {{{quoted}}}
local threads_n = {threads}
local lesson = "{lesson_id}"
local batch = {batch}
local duration = {duration}
local counter = 0
local thread_list = {{}}
local mine = {{}}
local turn = 0
ok = 0
bad = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(thread_list, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
  for i = 1, #tokens do
    if (i - 1) % threads_n == tid then table.insert(mine, "Bearer " .. tokens[i]) end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

{LUA_UUID4}

local expected = '"applied":' .. batch .. ','

function request()
  turn = turn + 1
  local events = {{}}
  local start = math.random(0, math.max(0, duration - 5 * batch - 5))
  for j = 0, batch - 1 do
    -- Segments follow each other, wrapped within the lesson (its real duration may be shorter than a batch).
    local at = (start + 5 * math.floor(j / 2)) % math.max(1, duration - 5)
    local stamp = string.format("2024-01-01T00:%02d:%02dZ", math.floor(j / 60) % 60, j % 60)
    if batch == 1 or j % 2 == 0 then
      events[#events + 1] = '{{"id":"' .. uuid4() .. '","type":"played","lesson_id":"' .. lesson ..
        '","from":' .. at .. ',"to":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}}'
    else
      events[#events + 1] = '{{"id":"' .. uuid4() .. '","type":"position","lesson_id":"' .. lesson ..
        '","position":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}}'
    end
  end
  local body = '{{"events":[' .. table.concat(events, ",") .. ']}}'
  local headers = {{["Content-Type"] = "application/json", ["Authorization"] = mine[(turn % #mine) + 1]}}
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, expected, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write("first unexpected: " .. status .. " " .. string.sub(body, 1, 300) .. "\\n") end
  end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(thread_list) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
  end
  io.write("CHECK applied " .. good .. " other " .. wrong .. "\\n")
end
"""


_CHECK = re.compile(r"^CHECK applied (\d+) other (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class AppRun:
    run: WrkRun
    applied: int
    other: int


def load_app(app: App, script: str, *, seconds: int, connections: int, threads: int) -> AppRun:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        path = Path(tmp) / "events.lua"
        path.write_text(script, encoding="utf-8")
        options = [f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
        argv = [wrk, *options, "-s", str(path), app.url(EVENTS_PATH)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    run = parse_wrk(out, command=" ".join(["wrk", *options, "-s events.lua", app.url(EVENTS_PATH)]))
    found = _CHECK.search(out)
    if found is None:
        raise RuntimeError(f"no CHECK line in wrk's output:\n{out}")
    return AppRun(run, int(found[1]), int(found[2]))


# --- the baseline: raw asyncpg upserts -------------------------------------------------------------


@dataclass(frozen=True)
class BaselineRun:
    ops_per_second: float
    p50_ms: float
    p99_ms: float
    ops: int
    synchronous_commit: str


UPSERT = (
    "INSERT INTO bench_progress_upsert (user_id, lesson_id, watched) VALUES ($1, $2, $3) "
    "ON CONFLICT (user_id, lesson_id) DO UPDATE SET watched = bench_progress_upsert.watched + excluded.watched, "
    "updated_at = now()"
)


def asyncpg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _baseline(dsn: str, connections: int, seconds: float) -> BaselineRun:
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        await admin.execute(
            f"CREATE TABLE {SCRATCH} (user_id uuid NOT NULL, lesson_id uuid NOT NULL, "
            "watched double precision NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(), "
            "PRIMARY KEY (user_id, lesson_id))"
        )
        sync = str(await admin.fetchval("SHOW synchronous_commit"))
        conns = [await asyncpg.connect(dsn) for _ in range(connections)]
        lesson = uuid.uuid4()
        timings: list[list[float]] = [[] for _ in range(connections)]
        start_gate = asyncio.Event()
        stop_at = 0.0

        async def worker(i: int) -> None:
            conn, user, mine = conns[i], uuid.uuid4(), timings[i]
            await conn.execute(UPSERT, user, lesson, 0.0)  # warm the prepared statement
            await start_gate.wait()
            while (now := time.perf_counter()) < stop_at:
                await conn.execute(UPSERT, user, lesson, 5.0)
                mine.append(time.perf_counter() - now)

        tasks = [asyncio.create_task(worker(i)) for i in range(connections)]
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        stop_at = began + seconds
        start_gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        for conn in conns:
            await conn.close()
    finally:
        await admin.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        await admin.close()
    samples = sorted(t for mine in timings for t in mine)
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))] * 1000
    return BaselineRun(len(samples) / elapsed, statistics.median(samples) * 1000, p99, len(samples), sync)


def load_baseline(database_url: str, connections: int, seconds: int) -> BaselineRun:
    return asyncio.run(_baseline(asyncpg_dsn(database_url), connections, seconds))


# --- the run and the report ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.progress", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds of app load before round 1")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10, help="events per request of the target scenario")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    ensure_wrk()
    batches = [args.batch, 1] if args.batch != 1 else [1]
    app_runs: dict[int, list[AppRun]] = {batch: [] for batch in batches}
    base_runs: list[BaselineRun] = []
    # The quotas stay on (the statement still computes them) but far above what wrk sends: this suite measures
    # ingestion, not refusals. The learners register and log in from 127.0.0.1: the per-client limits are raised
    # above their number.
    env = {
        "LEARNING_LOGIN_IP_LIMIT": str(max(100, 2 * args.connections)),
        "LEARNING_REGISTER_IP_LIMIT": str(max(100, 2 * args.connections)),
        "LEARNING_PROGRESS_EVENTS_PER_MINUTE": "1000000",
        "LEARNING_PROGRESS_EVENTS_PER_LESSON_PER_DAY": "10000000",
    }
    with bench_database() as database_url, running_app("progress", database_url, port=PORT, env=env) as app:
        lesson_id, duration = video_lesson(app)
        tokens = learners(app, args.connections)
        scripts = {batch: events_script(tokens, lesson_id, duration, args.threads, batch) for batch in batches}
        common = {"connections": args.connections, "threads": args.threads}
        if args.warmup > 0:
            warm = load_app(app, scripts[batches[0]], seconds=args.warmup, **common)
            print(f"  warm-up        {fmt(warm.run.requests_per_second):>7} req/s  other {warm.other}", flush=True)
        for round_ in range(args.rounds):
            for batch in batches:
                mine = load_app(app, scripts[batch], seconds=args.duration, **common)
                app_runs[batch].append(mine)
                print(
                    f"  round {round_ + 1} app ×{batch:<3} {fmt(mine.run.requests_per_second * batch):>7} events/s  "
                    f"p50 {mine.run.p50_ms:7.2f} ms  p99 {mine.run.p99_ms:7.2f} ms  requests ok {mine.applied} "
                    f"other {mine.other} errors {mine.run.errors}",
                    flush=True,
                )
            base = load_baseline(database_url, args.connections, args.duration)
            base_runs.append(base)
            print(
                f"  round {round_ + 1} asyncpg   {fmt(base.ops_per_second):>7} ops/s     "
                f"p50 {base.p50_ms:7.2f} ms  p99 {base.p99_ms:7.2f} ms  ops {base.ops}",
                flush=True,
            )

    def events_per_second(batch: int) -> float:
        return statistics.median(r.run.requests_per_second for r in app_runs[batch]) * batch

    def p99(batch: int) -> float:
        return statistics.median(r.run.p99_ms for r in app_runs[batch])

    base_ops = statistics.median(r.ops_per_second for r in base_runs)
    base_p99 = statistics.median(r.p99_ms for r in base_runs)
    baseline = f"asyncpg: {args.connections} tasks × 1 connection, {UPSERT}"
    results = []
    for batch in batches:
        command = f"{app_runs[batch][0].run.command} (batch {batch}) ; {baseline}"
        what = "1 `played` event" if batch == 1 else f"batches of {batch} events (`played` + `position`)"
        target = 0.5 if batch == args.batch else None
        results.append(
            Result(f"event ingestion, {what} per request, -c{args.connections}", events_per_second(batch),
                   base_ops, "events/s", command, target=target)
        )  # fmt: skip
        results.append(
            Result(f"request p99, {what} (informational)", p99(batch), base_p99, "p99 ms", command,
                   higher_is_better=False)
        )  # fmt: skip
    runs = [run for batch in batches for run in app_runs[batch]]
    results.append(
        Result(
            "responses not 200 with every event applied, socket errors (baseline column: responses)",
            sum(r.other + r.run.errors for r in runs), sum(r.run.requests for r in runs), "count",
            "wrk response() hook and wrk's error counts", target=0.0, higher_is_better=False,
        )
    )  # fmt: skip
    ratio = events_per_second(args.batch) / base_ops if base_ops else float("nan")
    notes = [
        f"Events/s relative to raw asyncpg upserts, batches of {args.batch}: ×{ratio:.2f} (target ≥ 0.50)"
        + (" — met." if ratio >= 0.5 else " — **missed**.")
        + f" Request p99 {p99(args.batch):.1f} ms (asyncpg p99 per upsert {base_p99:.1f} ms).",
        *(
            f"Per round, batches of {batch}: app events/s "
            + " · ".join(fmt(r.run.requests_per_second * batch) for r in app_runs[batch])
            for batch in batches
        ),
        f"Per round: asyncpg ops/s {' · '.join(fmt(r.ops_per_second) for r in base_runs)}; each round runs the "
        f"app scenarios then the baseline, {args.duration} s each, median kept (after {args.warmup} s of "
        "unmeasured app warm-up).",
        f"App: one `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`), content synced at start; "
        f"{len(tokens)} learners registered, logged in and enrolled in `{MODULE}` (from 127.0.0.1: the suite raises "
        "`LEARNING_REGISTER_IP_LIMIT` and `LEARNING_LOGIN_IP_LIMIT` above their number); "
        f"wrk -t{args.threads} "
        f"-c{args.connections} posts batches of fresh events (random UUID v4 ids from Lua's math.random) for one "
        f"video lesson. A batch of {args.batch} is what a player sends when it flushes its queue (every 30 s, "
        "say, or after a reconnection): 5-second `played` segments that follow each other, each with a "
        "`position` heartbeat. Each batch is one SQL statement in autocommit (checks, the event log insert, "
        "the union of segments under the row lock of an upsert, the progress update). wrk's Lua sees threads, not "
        "connections, so each thread rotates its slice of the tokens per request. Every response is checked "
        "(200 with every event applied). Events/s = requests/s × batch size.",
        f"Baseline: {args.connections} asyncio tasks in one Python process, one asyncpg connection each, "
        f"each a distinct user id upserting one row in its own implicit transaction (`{UPSERT}`) into a scratch "
        f"table shaped like `lesson_progress` (created and dropped by the suite) in the same PostgreSQL; "
        f"`synchronous_commit = {base_runs[0].synchronous_commit}` as for the app's progress writes. Its "
        "p50/p99 come from per-operation timings. Note the load generators differ: wrk (C) drives the app, "
        "Python drives the baseline — the baseline's figure may be bounded by the Python client.",
        "Progress quotas raised for this suite (`LEARNING_PROGRESS_EVENTS_PER_MINUTE=1000000`, "
        "`LEARNING_PROGRESS_EVENTS_PER_LESSON_PER_DAY=10000000`): at the defaults (1200 events a minute per "
        f"learner) each of the {len(tokens)} learners, sending about "
        f"{events_per_second(args.batch) * 60 / max(1, len(tokens)):,.0f} events a minute here, would be refused "
        "with 429 within seconds. The quota check still runs (the ingestion statement computes the counters).",
        "Both run on the same machine as PostgreSQL, so the figures are lower bounds; the app's ratio also pays "
        "for HTTP, JSON, auth, validation, the event log insert and the merge of segments.",
    ]
    notes.append(f"App exit status {app.process.returncode} after SIGTERM.")
    publish(
        SuiteReport(
            suite="progress",
            title="progress event ingestion against raw asyncpg upserts",
            project_label="`POST /api/v1/me/progress/events`",
            baseline_label="asyncpg single-row upserts",
            results=results,
            notes=notes,
            command=suite_command("progress", argv),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
