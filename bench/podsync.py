"""Suite ``podsync``: podcast-app episode-action uploads against the web player's progress ingestion (issue 25).

Project: one ``learning serve`` (granian, 1 worker, shipped content synced at start) and 16 learners, each
registered, logged in, enrolled in the module, given an app password (``POST /api/v1/me/app-passwords``) and
their private feed (``GET /index.php/apps/gpoddersync/subscriptions?since=0``); ``user_account.created_at`` of
these learners is moved back a day in the bench database (an action's credit is capped by the wall-clock time
since the previous play action or the account's creation). wrk (-t16 -c16: one thread, one connection, one
learner each) posts ``/index.php/apps/gpoddersync/episode_action/create`` with HTTP Basic, bodies of 100 fresh
``play`` actions shaped like AntennaPod's, one second apart, each credited (a 3-second segment at most three
times real time) and so turned into a ``played`` progress event (and the upload's latest action of each lesson
into a ``position`` event). Baseline, in the same
run: the same learners post ``/api/v1/me/progress/events`` (bearer token) with batches of 100 fresh events
(``played`` segments and ``position`` heartbeats, as ``bench/progress.py`` builds them). Both rotate per request
over the module's audio and video lessons, one lesson a request. Target: actions/s at least 0.8× the web
player's events/s (items of a 100-item body per second). Each round runs both (alternating which goes first);
the median of the rounds is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from bench.harness import (
    LUA_UUID4,
    ROOT,
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
from bench.progress import EVENTS_PATH, MODULE, asyncpg_dsn, call, enrolled_learner

PORT = 18650
PASSWORD = "bench-podsync-Xq7!pass"  # noqa: S105 — a throwaway learner's password
ACTIONS_PATH = "/index.php/apps/gpoddersync/episode_action/create"
SUBSCRIPTIONS_PATH = "/index.php/apps/gpoddersync/subscriptions?since=0"
BACKDATE_DAYS = 1
# Each learner's actions go back in time from the start of the run, a block of ``batch`` seconds a request: a
# day holds this many blocks of 100 before the (backdated) account's creation, past which nothing is credited.
MAX_SECONDS_BACK = 86_400 - 3_600


# --- setup: learners, app passwords, lessons --------------------------------------------------------


@dataclass(frozen=True)
class Lesson:
    id: str
    media_id: str
    duration: int


def playable_lessons(app: App) -> list[Lesson]:
    """The module's audio and video lessons with a media file and a duration."""
    status, module = call(app, "GET", f"/api/v1/modules/{MODULE}")
    if status != 200:
        raise RuntimeError(f"module answered {status}: {module!r}")
    found = [
        Lesson(str(lesson["id"]), str(lesson["media"]["id"]), int(lesson["duration_seconds"]))
        for lesson in module["lessons"]
        if lesson["kind"] in ("audio", "video") and lesson.get("media") and int(lesson["duration_seconds"]) > 20
    ]
    if not found:
        raise RuntimeError("the module has no audio or video lesson with a media file and a duration")
    return found


@dataclass(frozen=True)
class Learner:
    email: str
    token: str  # bearer token of the web API
    basic: str  # "Basic …": the e-mail and an app password
    feed: str  # the app password's private feed of the module (subscriptions' add[0])


def learners(app: App, count: int) -> list[Learner]:
    """``count`` new learners, each enrolled in the module, with an app password and its private feed URL."""
    found = []
    run = uuid.uuid4().hex[:8]
    for i in range(count):
        email = f"bench-podsync-{run}-{i}@example.org"
        token = enrolled_learner(app, email, PASSWORD)
        status, body = call(app, "POST", "/api/v1/me/app-passwords", {"name": "bench"}, token)
        if status != 201:
            raise RuntimeError(f"app password answered {status}: {body!r}")
        basic = "Basic " + base64.b64encode(f"{email}:{body['password']}".encode()).decode()
        status, body = call(app, "GET", SUBSCRIPTIONS_PATH, authorization=basic)
        if status != 200 or not body.get("add"):
            raise RuntimeError(f"subscriptions answered {status}: {body!r}")
        found.append(Learner(email, token, basic, str(body["add"][0])))
    return found


async def _backdate(dsn: str, emails: Sequence[str]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        status = await conn.execute(
            "UPDATE user_account SET created_at = created_at - make_interval(days => $2) WHERE email = ANY($1::text[])",
            list(emails),
            BACKDATE_DAYS,
        )
    finally:
        await conn.close()
    return int(status.split()[-1])


def backdate(database_url: str, emails: Sequence[str]) -> None:
    changed = asyncio.run(_backdate(asyncpg_dsn(database_url), emails))
    if changed != len(emails):
        raise RuntimeError(f"backdated {changed} accounts of {len(emails)}")


# --- the load: wrk, one thread and one connection per learner ----------------------------------------


def _lua_list(values: Sequence[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


_COMMON = """
local auths = {auths}
local lesson_ids = {lesson_ids}
local media_ids = {media_ids}
local durations = {durations}
local feeds = {feeds}
local batch = {batch}
local base_url = {base_url}
local anchor = {anchor}
local first_block = {first_block}
local counter = 0
local thread_list = {{}}
ok = 0
bad = 0
blocks = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(thread_list, thread)
end

local auth
local feed
local turn = 0
function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
  -- One thread, one connection, one learner: a learner's requests never overlap.
  auth = auths[tid + 1]
  feed = feeds[tid + 1]
  turn = tid
end

{LUA_UUID4}

function done(summary, latency, requests)
  local good, wrong, most = 0, 0, 0
  for _, thread in ipairs(thread_list) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
    most = math.max(most, thread:get("blocks"))
  end
  io.write("CHECK ok " .. good .. " other " .. wrong .. " blocks " .. most .. "\\n")
end
"""

_EVENTS = """
local expected = '"applied":' .. batch .. ','

function request()
  turn = turn + 1
  local k = (turn % #lesson_ids) + 1
  local lesson, duration = lesson_ids[k], durations[k]
  local events = {}
  local start = math.random(0, math.max(0, duration - 5 * batch - 5))
  for j = 0, batch - 1 do
    local at = (start + 5 * math.floor(j / 2)) % math.max(1, duration - 5)
    local stamp = string.format("2024-01-01T00:%02d:%02dZ", math.floor(j / 60) % 60, j % 60)
    if j % 2 == 0 then
      events[#events + 1] = '{"id":"' .. uuid4() .. '","type":"played","lesson_id":"' .. lesson ..
        '","from":' .. at .. ',"to":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}'
    else
      events[#events + 1] = '{"id":"' .. uuid4() .. '","type":"position","lesson_id":"' .. lesson ..
        '","position":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}'
    end
  end
  local body = '{"events":[' .. table.concat(events, ",") .. ']}'
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = auth}
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
"""

_ACTIONS = """
function request()
  turn = turn + 1
  local k = (turn % #lesson_ids) + 1
  local lesson, media, duration = lesson_ids[k], media_ids[k], durations[k]
  -- Block b of this learner: the seconds anchor - (b + 1) * batch … anchor - b * batch - 1, one action each, so
  -- every action is new (its own timestamp) and the learner's later requests go further back in time.
  local b = first_block + blocks
  blocks = blocks + 1
  local first = anchor - (b + 1) * batch
  local actions = {}
  for j = 0, batch - 1 do
    local n = b * batch + j
    -- The learner's thread id shifts the position: two learners' identical actions would share a digest.
    local position = 3 + (n * 3 + tid) % (duration - 3)
    actions[#actions + 1] = '{"podcast":"' .. feed .. '","episode":"' .. base_url .. '/media/' .. media ..
      '/x.m4a","guid":"' .. lesson .. '","action":"play","timestamp":"' .. os.date("!%Y-%m-%dT%H:%M:%S", first + j) ..
      '","started":' .. (position - 3) .. ',"position":' .. position .. ',"total":' .. duration .. '}'
  end
  local body = '[' .. table.concat(actions, ",") .. ']'
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = auth}
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 and string.find(body, '"timestamp":', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write("first unexpected: " .. status .. " " .. string.sub(body, 1, 300) .. "\\n") end
  end
end
"""


def script(kind: str, app: App, people: Sequence[Learner], lessons: Sequence[Lesson], *, batch: int,
           anchor: int, first_block: int) -> str:  # fmt: skip
    """The wrk Lua of one scenario: ``events`` (the web player) or ``actions`` (the podcast app)."""
    common = _COMMON.format(
        auths=_lua_list([f"Bearer {p.token}" if kind == "events" else p.basic for p in people]),
        lesson_ids=_lua_list([lesson.id for lesson in lessons]),
        media_ids=_lua_list([lesson.media_id for lesson in lessons]),
        durations="{" + ", ".join(str(lesson.duration) for lesson in lessons) + "}",
        feeds=_lua_list([p.feed for p in people]),
        batch=batch,
        base_url=json.dumps(app.base_url),
        anchor=anchor,
        first_block=first_block,
        LUA_UUID4=LUA_UUID4,
    )
    return common + (_EVENTS if kind == "events" else _ACTIONS)


_CHECK = re.compile(r"^CHECK ok (\d+) other (\d+) blocks (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class LoadRun:
    run: WrkRun
    ok: int
    other: int
    blocks: int  # requests of the busiest learner (the action scenario's blocks of seconds used)
    app_cpu: float = 0.0  # CPU seconds the app's processes used during the run
    database_cpu: float = 0.0  # CPU seconds PostgreSQL's processes used during the run

    @property
    def ok_per_second(self) -> float:
        """2xx answers (checked) per second: wrk's requests/s scaled by the share that were."""
        return self.run.requests_per_second * self.ok / self.run.requests if self.run.requests else 0.0


def _cpu_seconds(root: psutil.Process) -> float:
    """User and system CPU seconds of a process and its live descendants."""
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended in between
            continue
        total += times.user + times.system
    return total


async def _postmaster(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:  # asked while the backend lives
        return int(psutil.Process(int(await conn.fetchval("SELECT pg_backend_pid()"))).ppid())
    finally:
        await conn.close()


def postmaster(database_url: str) -> psutil.Process:
    """The bench database's server process (its backends are its children)."""
    return psutil.Process(asyncio.run(_postmaster(asyncpg_dsn(database_url))))


def load(app: App, lua: str, path: str, *, seconds: int, connections: int, database: psutil.Process) -> LoadRun:
    wrk = ensure_wrk()
    server = psutil.Process(app.process.pid)
    cpu_before = _cpu_seconds(server), _cpu_seconds(database)
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        file = Path(tmp) / "load.lua"
        file.write_text(lua, encoding="utf-8")
        options = [f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
        argv = [wrk, *options, "-s", str(file), app.url(path)]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    app_cpu, database_cpu = _cpu_seconds(server) - cpu_before[0], _cpu_seconds(database) - cpu_before[1]
    out = done.stdout
    if done.stderr.strip():
        print(f"  wrk: {done.stderr.strip()[:400]}", flush=True)
    run = parse_wrk(out, command=" ".join(["wrk", *options, "-s load.lua", app.url(path)]))
    found = _CHECK.search(out)
    if found is None:
        raise RuntimeError(f"no CHECK line in wrk's output:\n{out}")
    return LoadRun(run, int(found[1]), int(found[2]), int(found[3]), app_cpu, database_cpu)


# --- the check: every action became a played progress event ----------------------------------------------


@dataclass(frozen=True)
class Credited:
    actions: int
    played: int
    positions: int


async def _credited(dsn: str, emails: Sequence[str]) -> Credited:
    conn = await asyncpg.connect(dsn)
    try:
        users = [row[0] for row in await conn.fetch("SELECT id FROM user_account WHERE email = ANY($1::text[])",
                                                    list(emails))]  # fmt: skip
        actions = await conn.fetchval("SELECT count(*) FROM sync_episode_action WHERE user_id = ANY($1::uuid[])", users)
        # The web player's events of the baseline are dated 2024-01-01; the apps' carry their actions' timestamps.
        rows = await conn.fetch(
            "SELECT kind::text, count(*) FROM progress_event WHERE user_id = ANY($1::uuid[]) "
            "AND client_time > '2025-01-01' GROUP BY kind",
            users,
        )
    finally:
        await conn.close()
    kinds = {str(row[0]).lower(): int(row[1]) for row in rows}
    return Credited(int(actions), kinds.get("played", 0), kinds.get("position", 0))


def credited(database_url: str, emails: Sequence[str]) -> Credited:
    return asyncio.run(_credited(asyncpg_dsn(database_url), emails))


# --- the run and the report ------------------------------------------------------------------------


def tree_state() -> str:
    """The commit measured, and whether the application's code had uncommitted changes during the run."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "migrations"], cwd=ROOT, capture_output=True, text=True
    )
    if head.returncode != 0:
        return "not a git checkout"
    files = len(changed.stdout.splitlines())
    return f"commit {head.stdout.strip()}" + (
        f" with {files} uncommitted file(s) under src/ or migrations/" if files else ""
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.podsync", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds of each scenario before round 1")
    parser.add_argument("--clients", type=int, default=16, help="wrk threads = connections = learners")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="actions (events) per request")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    ensure_wrk()
    before = tree_state()
    runs: dict[str, list[LoadRun]] = {"actions": [], "events": []}
    paths = {"actions": ACTIONS_PATH, "events": EVENTS_PATH}
    # Both scenarios go through the same per-learner quotas; they stay on (the ingestion statement still computes
    # them) but far above what 16 learners send here. The learners register and log in from 127.0.0.1.
    env = {
        "LEARNING_LOGIN_IP_LIMIT": str(max(100, 4 * args.clients)),
        "LEARNING_REGISTER_IP_LIMIT": str(max(100, 4 * args.clients)),
        "LEARNING_PROGRESS_EVENTS_PER_MINUTE": "1000000",
        "LEARNING_PROGRESS_EVENTS_PER_LESSON_PER_DAY": "10000000",
    }
    with bench_database() as database_url, running_app("podsync", database_url, port=PORT, env=env) as app:
        lessons = playable_lessons(app)
        people = learners(app, args.clients)
        backdate(database_url, [p.email for p in people])
        database = postmaster(database_url)
        anchor = int(time.time()) - 120
        used = 0  # blocks of seconds (one request of the action scenario) used by the busiest learner so far

        def once(kind: str, seconds: int) -> LoadRun:
            nonlocal used
            if (used + 1) * args.batch > MAX_SECONDS_BACK:
                raise RuntimeError("the learners' day of timestamps is used up: fewer rounds or shorter runs")
            lua = script(kind, app, people, lessons, batch=args.batch, anchor=anchor, first_block=used)
            found = load(app, lua, paths[kind], seconds=seconds, connections=args.clients, database=database)
            used += found.blocks
            return found

        if args.warmup > 0:
            for kind in ("actions", "events"):
                warm = once(kind, args.warmup)
                print(f"  warm-up {kind:<8} {fmt(warm.ok_per_second):>7} req/s  other {warm.other}", flush=True)
        for round_ in range(args.rounds):
            order = ("actions", "events") if round_ % 2 == 0 else ("events", "actions")
            for kind in order:
                mine = once(kind, args.duration)
                runs[kind].append(mine)
                print(
                    f"  round {round_ + 1} {kind:<8} {fmt(mine.ok_per_second):>7} req/s "
                    f"{fmt(mine.ok_per_second * args.batch):>7} {kind}/s  p50 {mine.run.p50_ms:7.2f} ms  "
                    f"p99 {mine.run.p99_ms:7.2f} ms  ok {mine.ok} other {mine.other} errors {mine.run.errors}",
                    flush=True,
                )
        check = credited(database_url, [p.email for p in people])
        print(f"  kept actions {check.actions}, their events: played {check.played}, position {check.positions}")

    def per_second(kind: str) -> float:
        return statistics.median(r.ok_per_second for r in runs[kind])

    def p99(kind: str) -> float:
        return statistics.median(r.run.p99_ms for r in runs[kind])

    def cpu_ms(kind: str, side: str) -> float:
        """CPU milliseconds per 2xx request (median of the rounds) of the app or of PostgreSQL."""
        return float(statistics.median(1000 * getattr(r, side) / r.ok for r in runs[kind] if r.ok))

    actions_rps, events_rps = per_second("actions"), per_second("events")
    ratio = actions_rps / events_rps if events_rps else float("nan")
    # Each action is a ``played`` event; an upload adds one ``position`` event per lesson (its latest action).
    per_action = (check.played + check.positions) / check.actions if check.actions else 0.0
    command = f"{runs['actions'][0].run.command} ; {runs['events'][0].run.command}"
    app_actions, app_events = cpu_ms("actions", "app_cpu"), cpu_ms("events", "app_cpu")
    db_actions, db_events = cpu_ms("actions", "database_cpu"), cpu_ms("events", "database_cpu")
    results = [
        Result(f"items of {args.batch}-item bodies per second (actions vs events), -c{args.clients}",
               actions_rps * args.batch, events_rps * args.batch, "items/s", command, target=0.8),
        Result("requests per second (2xx, checked) (informational)", actions_rps, events_rps, "req/s", command),
        Result("request p99 (informational)", p99("actions"), p99("events"), "p99 ms", command,
               higher_is_better=False),
        Result("progress events recorded per second (informational)",
               per_action * actions_rps * args.batch, events_rps * args.batch, "events/s", command),
        Result("app CPU per request (informational)", app_actions, app_events, "CPU ms",
               "psutil: the app's process tree", higher_is_better=False),
        Result("PostgreSQL CPU per request (informational)", db_actions, db_events, "CPU ms",
               "psutil: the server's processes", higher_is_better=False),
    ]  # fmt: skip
    every = [run for kind in runs for run in runs[kind]]
    results.append(
        Result(
            "answers not 2xx-and-checked, socket errors (baseline column: responses)",
            sum(r.other + r.run.errors for r in every), sum(r.run.requests for r in every), "count",
            "wrk response() hook and wrk's error counts", target=0.0, higher_is_better=False,
        )
    )  # fmt: skip
    notes = [
        f"Episode actions/s against the web player's events/s, {args.batch} items a request body: ×{ratio:.2f} "
        f"(target ≥ 0.80)"
        + (" — met." if ratio >= 0.8 else " — **missed**.")
        + f" Request p99 {p99('actions'):.0f} ms against {p99('events'):.0f} ms.",
        "Unit: an item is one element of a request body — an episode action for the app, a progress event for the "
        "web player — so the ratio compares the same request shape (100 items, one learner, one lesson) at the same "
        "concurrency. An action does more: it is kept (its own table, deduplicated by a digest), its lesson found, "
        "its credit computed from the learner's earlier play actions, then it becomes a `played` progress event "
        "(and the upload's latest action of each lesson a `position` event) through the web player's path; the "
        "informational row 'progress events recorded' counts those (measured per action after the run).",
        f"Where the time goes (CPU per 2xx request, median of the rounds, measured with psutil on the app's process "
        f"tree and on PostgreSQL's server processes): the app {app_actions:.1f} ms per upload against "
        f"{app_events:.1f} ms per web batch, PostgreSQL {db_actions:.1f} ms against {db_events:.1f} ms. The two "
        "sides share the machine's cores with wrk, so the ratio follows the whole cost of a request: "
        f"{app_events + db_events:.1f} / {app_actions + db_actions:.1f} = "
        f"{(app_events + db_events) / (app_actions + db_actions):.2f}. "
        f"The target needs an upload to cost at most {(app_events + db_events) / 0.8:.1f} ms in all; PostgreSQL "
        f"alone spends {db_actions:.1f} ms on one (the 100 actions kept in their own table, with their unique digest "
        "and the indexes the sync reads and the clock budget use, then their 101 events through the web player's "
        f"ingestion), so an app that cost nothing would reach at most ×{(app_events + db_events) / db_actions:.2f}, "
        f"and one that cost what the web path costs ×{(app_events + db_events) / (app_events + db_actions):.2f}.",
        *(
            f"Per round, {kind}: 2xx req/s "
            + " · ".join(fmt(r.ok_per_second) for r in runs[kind])
            + "; p99 ms "
            + " · ".join(f"{r.run.p99_ms:.0f}" for r in runs[kind])
            for kind in runs
        ),
        f"Each round runs both scenarios {args.duration} s each (which goes first alternates), median kept, after "
        f"{args.warmup} s of unmeasured warm-up of each. Only 2xx answers that were checked (the web player's: 200 "
        f"with all {args.batch} events applied; the app's: 2xx with a timestamp) are counted.",
        f"Credit check after the run: {check.actions:,} actions kept, {check.played:,} `played` and "
        f"{check.positions:,} `position` events from them ({per_action:.2f} events an action; expected "
        f"{check.actions:,} `played`, one `position` per lesson and upload)"
        + (
            " — every action credited."
            if check.played == check.actions and 0 < check.positions <= check.actions
            else " — **not every action was credited**."
        ),
        f"App: one `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`), content synced at start; "
        f"{len(people)} learners registered, logged in, enrolled in `{MODULE}`, each with an app password "
        "(`POST /api/v1/me/app-passwords`) and its private feed URL (`GET …/subscriptions?since=0` → add[0]); "
        f"their `user_account.created_at` moved back {BACKDATE_DAYS} day in the bench database. wrk -t{args.clients} "
        f"-c{args.clients}: each thread has one connection and one learner, so a learner's requests never overlap. "
        f"Requests rotate over the module's {len(lessons)} audio and video lessons, one lesson a request, on both "
        "sides.",
        f"App bodies: {args.batch} `play` actions as AntennaPod sends them (podcast = the private feed, episode = "
        "`<base>/media/<asset id>/x.m4a`, guid = the lesson id, timestamp `YYYY-MM-DDTHH:MM:SS` UTC, started, "
        "position, total), one second apart, each a 3-second segment (the most three-times speed allows in one "
        "second). Each learner's requests go back in time from the start of the run, a block of "
        f"{args.batch} seconds each (the busiest learner used {used * args.batch / 3600:.1f} h of the past day): "
        "every action has its own timestamp, so none is deduplicated, and the play actions kept before a request "
        "are all later than its own, so the credit of each is bounded by the previous action in its own body.",
        f"Web player bodies: {args.batch} fresh events (random UUID v4 ids), 5-second `played` segments that follow "
        "each other, each followed by a `position` heartbeat, as `bench/progress.py` builds them.",
        "Quotas raised for this suite (both sides go through the same per-learner quotas): "
        "`LEARNING_PROGRESS_EVENTS_PER_MINUTE=1000000`, `LEARNING_PROGRESS_EVENTS_PER_LESSON_PER_DAY=10000000` "
        "(the defaults, 1,200 events a minute per learner, would answer 429 within a second here); "
        "`LEARNING_REGISTER_IP_LIMIT` and `LEARNING_LOGIN_IP_LIMIT` raised above the number of learners.",
        "The app server, PostgreSQL and wrk share the machine: absolute figures are lower bounds; compare ratios.",
        f"Code measured: {before} at the start, {tree_state()} at the end. App exit status "
        f"{app.process.returncode} after SIGTERM.",
    ]
    publish(
        SuiteReport(
            suite="podsync",
            title="podcast-app episode-action uploads against the web player's progress ingestion",
            project_label="`POST …/gpoddersync/episode_action/create`",
            baseline_label="`POST /api/v1/me/progress/events`",
            results=results,
            notes=notes,
            command=suite_command("podsync", argv),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
