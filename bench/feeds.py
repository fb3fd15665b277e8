"""Suite ``feeds``: the podcast feeds against a trivial JSON route and against feedgen alone (issue 7's targets).

One ``learning serve`` (granian, 1 worker, shipped content synced at start). Over HTTP, with wrk (-t2 -c64) on
the same server in the same run, each round loads ``GET /api/v1/ping``, the cached RSS feed of the shipped
webinar series (12 items) as podcast apps ask for it (``Accept-Encoding: gzip``: the server keeps a gzip copy
of every rendered feed), the same with ``If-None-Match`` set to its ETag (304), and the feed uncompressed
(informational), in a rotating order. Targets, as ratios to ping's req/s: cached feed at least 0.8, 304 at
least 0.9; the p99s are informational.
Every answer of every run (warm-ups and measured runs) goes through a Lua ``response()`` hook that checks its
status, its ETag and its body length against the answers fetched beforehand.

In-process, a webinar series of 1,000 sessions (texts, speakers and media of the 12 shipped ones, cycled; each
with a READY video replay and its audio rendition) is inserted into the same PostgreSQL. A cold render (project)
is the full path of an uncached request: ``FeedService.series_feed`` reading the rows in a new session, then
``render_rss_gzip`` (the document and its gzip copy, as the route makes them); the baseline is
``build_feed(channel).rss_str(...)`` on the same ``Channel``
already in memory (feedgen alone, the same bytes). Repeats alternate the two; medians are kept. Target:
project/baseline at most 1.5 (issue 20; issue 7 asked for 3).

Then, over HTTP, what follows an admin's edit of that feed (issue 20): one GET of the large feed while a thread
asks ping back to back (the longest ping answer, against a 50 ms budget: the render must leave the event loop
free), and, after another edit, 16 GETs sent together (until the last answer, at most 1.2× one GET: they share
one load and one render). These GETs ask as podcast apps do (``Accept-Encoding: gzip``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import http.client
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bench.harness import (
    App,
    Result,
    SuiteReport,
    WrkRun,
    bench_database,
    ensure_wrk,
    fmt,
    lua_script,
    parse_wrk,
    publish,
    running_app,
    suite_command,
)
from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker
from learning.feeds.model import Channel
from learning.feeds.render import build_feed, fingerprint, forget_texts, render_rss_gzip
from learning.feeds.repositories import FeedRepository
from learning.feeds.services import FeedService

PORT = 18700
SERIES = "innovation-territoriale-en-actions-2019"
FEED_PATH = f"/feeds/webinars/{SERIES}.xml"
PING_PATH = "/api/v1/ping"
BIG_SLUG = "bench-feeds-1000-episodes"  # the synthetic series (and its feed), removed at the end
T = TypeVar("T")
STORAGE_PREFIX = "bench-feeds/"  # storage keys of the synthetic media rows (no file behind them)


# --- answers fetched before the load: what every answer under load must match -----------------------


@dataclass(frozen=True)
class Answer:
    status: int
    etag: str | None
    body: bytes
    content_type: str | None = None


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 — our own http URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
            return Answer(int(response.status), response.headers.get("ETag"), body, response.headers["Content-Type"])
    except urllib.error.HTTPError as exc:  # 304 arrives here
        return Answer(exc.code, exc.headers.get("ETag"), exc.read(), exc.headers.get("Content-Type"))


@dataclass(frozen=True)
class Route:
    key: str
    name: str  # as shown in docs/benchmarks.md
    path: str
    status: int  # every answer must have it
    etag: str | None  # every answer must carry it (None: not checked)
    length: int  # every answer's body length
    headers: dict[str, str]  # sent with every request


GZIP = {"Accept-Encoding": "gzip"}  # what podcast apps send


def routes(app: App) -> tuple[Route, Route, Route, Route, str]:
    """Ping, the cached feed as apps fetch it (gzip), its 304, the same feed uncompressed; from the answers
    before the load; and a description of the feed."""
    ping = fetch(app.url(PING_PATH))
    if ping.status != 200 or not ping.body:
        raise RuntimeError(f"{PING_PATH} answered {ping.status}: {ping.body[:300]!r}")
    first = fetch(app.url(FEED_PATH), GZIP)  # renders the feed and hands it to the edge
    if first.status != 200 or first.etag is None:
        raise RuntimeError(f"{FEED_PATH} answered {first.status} (ETag {first.etag}): {first.body[:300]!r}")
    if not (first.content_type or "").startswith("application/rss+xml"):
        raise RuntimeError(f"{FEED_PATH} has Content-Type {first.content_type}")
    plain = fetch(app.url(FEED_PATH))
    if gzip.decompress(first.body) != plain.body or plain.etag == first.etag:
        raise RuntimeError(f"{FEED_PATH}: the gzip answer is not the plain one compressed, or shares its ETag")
    items = plain.body.count(b"<item>")
    if items != 12:
        raise RuntimeError(f"{FEED_PATH} has {items} items, expected the 12 shipped sessions")
    cached = fetch(app.url(FEED_PATH), GZIP)
    if cached.status != 200 or cached.etag != first.etag or cached.body != first.body:
        raise RuntimeError(f"{FEED_PATH} answered differently the second time ({cached.status}, ETag {cached.etag})")
    conditional = {**GZIP, "If-None-Match": first.etag}
    not_modified = fetch(app.url(FEED_PATH), conditional)
    if not_modified.status != 304 or not_modified.body or not_modified.etag != first.etag:
        raise RuntimeError(
            f"{FEED_PATH} with If-None-Match answered {not_modified.status}, ETag {not_modified.etag}, "
            f"{len(not_modified.body)} B"
        )
    described = f"{len(plain.body):,} B of RSS, {len(first.body):,} B gzip-encoded, {items} items"
    return (
        Route("ping", f"`GET {PING_PATH}`", PING_PATH, 200, None, len(ping.body), {}),
        Route("feed", f"cached feed `GET {FEED_PATH}`, `Accept-Encoding: gzip` as apps send", FEED_PATH, 200,
              first.etag, len(first.body), GZIP),
        Route("feed-304", "`If-None-Match` on that feed (304)", FEED_PATH, 304, first.etag, 0, conditional),
        Route("feed-plain", "the same feed without `Accept-Encoding` (informational)", FEED_PATH, 200, plain.etag,
              len(plain.body), {}),
        described,
    )  # fmt: skip


# --- wrk with a checking hook ---------------------------------------------------------------------


def _lua_quote(value: str) -> str:
    return '"' + "".join(f"\\{ord(c):03d}" if c in '"\\' or ord(c) < 32 else c for c in value) + '"'


def check_script(route: Route) -> str:
    """The request's headers plus a response() hook counting statuses and answers not as expected."""
    return (
        lua_script(headers=route.headers)
        + f"""
local expected_status = {route.status}
local expected_etag = {_lua_quote(route.etag) if route.etag else "nil"}
local expected_length = {route.length}
statuses = {{}}
unexpected = 0
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local ok = status == expected_status and #body == expected_length
  if ok and expected_etag ~= nil then
    local tag = nil
    for name, value in pairs(headers) do
      if string.lower(name) == "etag" then tag = value end
    end
    ok = tag == expected_etag
  end
  if not ok then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local merged, bad = {{}}, 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do merged[code] = (merged[code] or 0) + n end
    bad = bad + thread:get("unexpected")
  end
  local parts = {{}}
  for code, n in pairs(merged) do table.insert(parts, code .. "=" .. n) end
  table.sort(parts)
  io.write("CHECK statuses " .. table.concat(parts, ",") .. " unexpected " .. bad .. "\\n")
end
"""
    )


_CHECK = re.compile(r"^CHECK statuses (?P<statuses>\S*) unexpected (?P<unexpected>\d+)$", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class Load:
    run: WrkRun
    statuses: dict[int, int]  # answers by status, as the hook counted them
    unexpected: int  # wrong status, ETag or body length
    socket_errors: int  # connect, read, write errors and timeouts

    @property
    def checked(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.unexpected + self.socket_errors


def load(url: str, route: Route, *, seconds: int, connections: int, timeout_s: int) -> Load:
    """``wrk -t2 -c<N> -d<S>s --timeout <T>s --latency -s check.lua URL``; the hook's counts with the figures."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        path = Path(tmp) / "check.lua"
        path.write_text(check_script(route), encoding="utf-8")
        options = ["-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout_s}s", "--latency"]
        argv = [wrk, *options, "-s", str(path), url]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + timeout_s + 60).stdout
    run = parse_wrk(out, command=" ".join(["wrk", *options, "-s check.lua", url]))
    found = _CHECK.search(out)
    if found is None:
        raise RuntimeError(f"no CHECK line in wrk's output:\n{out}")
    statuses = {int(k): int(v) for k, v in (p.split("=") for p in found["statuses"].split(",") if p)}
    sockets = _SOCKET.search(out)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    return Load(run, statuses, int(found["unexpected"]), socket_errors)


@dataclass
class Http:
    routes: tuple[Route, ...]
    runs: dict[str, list[Load]]
    warmups: list[Load]
    orders: list[str]
    described: str


def measure_http(app: App, args: argparse.Namespace) -> Http:
    ping, feed, not_modified, plain, described = routes(app)
    every = (ping, feed, not_modified, plain)
    common = {"connections": args.connections, "timeout_s": args.timeout}
    warmups = []
    if args.warmup > 0:
        for route in every:
            warm = load(app.url(route.path), route, seconds=args.warmup, **common)
            warmups.append(warm)
            print(f"  warm-up {route.key:8} {fmt(warm.run.requests_per_second):>7} req/s  errors {warm.errors}")
    runs: dict[str, list[Load]] = {route.key: [] for route in every}
    orders = []
    for round_ in range(args.rounds):
        order = every[round_ % len(every) :] + every[: round_ % len(every)]  # rotating which route goes first
        orders.append(" → ".join(route.key for route in order))
        for route in order:
            done = load(app.url(route.path), route, seconds=args.duration, **common)
            runs[route.key].append(done)
            print(
                f"  round {round_ + 1} {route.key:8} {fmt(done.run.requests_per_second):>7} req/s  "
                f"p50 {done.run.p50_ms:6.2f} ms  p99 {done.run.p99_ms:6.2f} ms  checked {done.checked:>7} "
                f"({', '.join(f'{code}: {n}' for code, n in sorted(done.statuses.items()))})  "
                f"{'ERRORS ' + str(done.errors) if done.errors else 'ok'}",
                flush=True,
            )
    return Http(every, runs, warmups, orders, described)


# --- the 1,000-item series --------------------------------------------------------------------------


def _clone(asset: m.MediaAsset, **changes: object) -> m.MediaAsset:
    """A new READY row describing the same kind of file (no file behind it: the feed only reads the row)."""
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "ref": None,
        "parent_id": None,
        "rendition": asset.rendition,
        "kind": asset.kind,
        "status": m.MediaStatus.READY,
        "name": asset.name,
        "extension": asset.extension,
        "mime_type": asset.mime_type,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
    }
    fields.update(changes)
    fields["storage_key"] = f"{STORAGE_PREFIX}{uuid.uuid4().hex}.{asset.extension}"
    return m.MediaAsset(**fields)


async def remove_big_series(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Remove the synthetic series, its sessions (ON DELETE CASCADE), its feed and its media rows."""
    async with sessions() as session, session.begin():
        await session.execute(delete(m.WebinarSeries).where(m.WebinarSeries.slug == BIG_SLUG))
        await session.execute(delete(m.PodcastFeed).where(m.PodcastFeed.slug == BIG_SLUG))
        await session.execute(delete(m.MediaAsset).where(m.MediaAsset.storage_key.startswith(STORAGE_PREFIX)))


async def insert_big_series(sessions: async_sessionmaker[AsyncSession], count: int) -> str:
    """A visible series of ``count`` sessions cycling the shipped ones (texts, speakers, the kinds of media they
    have: video replay and its audio rendition, transcript, chapters); its feed with the shipped feed's settings."""
    await remove_big_series(sessions)  # leftovers of an interrupted run on a persistent database
    async with sessions() as session, session.begin():
        shipped = (
            await session.execute(
                select(m.WebinarSeries)
                .where(m.WebinarSeries.slug == SERIES)
                .options(
                    selectinload(m.WebinarSeries.sessions).selectinload(m.WebinarSession.replay),
                    selectinload(m.WebinarSeries.sessions).selectinload(m.WebinarSession.transcript),
                    selectinload(m.WebinarSeries.sessions).selectinload(m.WebinarSession.chapters),
                )
            )
        ).scalar_one()
        feed = (
            await session.execute(
                select(m.PodcastFeed).where(
                    m.PodcastFeed.kind == m.FeedKind.WEBINAR_SERIES, m.PodcastFeed.source_slug == SERIES
                )
            )
        ).scalar_one()
        templates = [s for s in shipped.sessions if s.replay is not None]
        renditions = {
            asset.parent_id: asset
            for asset in (
                await session.execute(
                    select(m.MediaAsset).where(
                        m.MediaAsset.parent_id.in_([s.replay_id for s in templates]),
                        m.MediaAsset.rendition == m.Rendition.AUDIO,
                    )
                )
            ).scalars()
        }
        series = m.WebinarSeries(
            slug=BIG_SLUG, title=f"{shipped.title} — {count} épisodes", summary=shipped.summary,
            description_md=shipped.description_md, organiser=shipped.organiser, timezone=shipped.timezone,
            year=shipped.year, tags=list(shipped.tags), publication=m.Publication.PUBLISHED, origin=m.Origin.ADMIN,
        )  # fmt: skip
        session.add(series)
        session.add(
            m.PodcastFeed(
                slug=BIG_SLUG, kind=m.FeedKind.WEBINAR_SERIES, source_slug=BIG_SLUG, title=series.title,
                description=feed.description, author=feed.author, owner_name=feed.owner_name,
                owner_email=feed.owner_email, language=feed.language, category=feed.category,
                subcategory=feed.subcategory, explicit=feed.explicit, artwork_id=feed.artwork_id,
                podcast_type=feed.podcast_type, medium=feed.medium, locked=feed.locked, complete=feed.complete,
                copyright=feed.copyright, podcast_guid=uuid.uuid4(), origin=m.Origin.ADMIN,
            )
        )  # fmt: skip
        originals: list[m.MediaAsset] = []
        audio: list[m.MediaAsset] = []
        rows: list[m.WebinarSession] = []
        start = datetime(2019, 1, 3, 11, tzinfo=UTC)
        for i in range(count):
            template = templates[i % len(templates)]
            assert template.replay is not None
            replay = _clone(template.replay)
            originals.append(replay)
            if (rendition := renditions.get(template.replay.id)) is not None:
                audio.append(_clone(rendition, parent_id=replay.id))
            transcript = _clone(template.transcript) if template.transcript is not None else None
            chapters = _clone(template.chapters) if template.chapters is not None else None
            originals += [asset for asset in (transcript, chapters) if asset is not None]
            rows.append(
                m.WebinarSession(
                    slug=f"{i + 1:04d}-{template.slug}"[:120], title=f"{template.title} (n° {i + 1})",
                    summary=template.summary, body_md=template.body_md, body_html=template.body_html,
                    scheduled_at=start + timedelta(days=i), duration_minutes=template.duration_minutes,
                    status=m.SessionStatus.REPLAY_AVAILABLE, speakers=list(template.speakers),
                    replay_id=replay.id, transcript_id=transcript.id if transcript else None,
                    chapters_id=chapters.id if chapters else None, tags=list(template.tags),
                    publication=m.Publication.PUBLISHED, origin=m.Origin.ADMIN,
                )
            )  # fmt: skip
        session.add_all(originals)
        await session.flush()  # the originals before the renditions and sessions that point at them
        session.add_all(audio)
        await session.flush()
        for row in rows:
            row.series_id = series.id
        session.add_all(rows)
    return f"{count} sessions, {len(originals) + len(audio)} media rows ({len(audio)} audio renditions)"


async def with_database(database_url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """``work`` with a session factory on its own engine, disposed of before the event loop closes."""
    engine = create_engine(database_url, pool_size=2)
    try:
        return await work(create_sessionmaker(engine))
    finally:
        await engine.dispose()


# --- cold render against feedgen alone ---------------------------------------------------------------


@dataclass
class Render:
    project_s: list[float]  # full cold path: database → Channel → RSS, after an edit (the texts made are kept)
    read_s: list[float]  # of which: series_feed (queries, ORM rows, Channel, digest)
    baseline_s: list[float]  # build_feed(channel).rss_str(...) on the Channel in memory
    size: int
    items: int
    identical: bool  # the baseline's bytes are the project's
    reference: bytes  # the render itself
    first_s: list[float] = field(default_factory=list)  # the same with no text kept: the first render after a restart
    http_cold_ms: float | None = None
    http_cached_ms: float | None = None
    http_identical: bool | None = None


async def cold_render(
    sessions: async_sessionmaker[AsyncSession], base_url: str, now: datetime
) -> tuple[float, float, bytes, Channel]:
    """What an uncached request does (without HTTP): read the rows in a new session, build the Channel, render."""
    began = time.perf_counter()
    # As the route does: the server's renderer fingerprint (part of the digest) and a commit (the feed's version
    # is recorded once, so this render's dates, and bytes, are the server's).
    async with sessions() as session, session.begin():
        view = await FeedService(FeedRepository(session), base_url, fingerprint()).series_feed(BIG_SLUG, now)
        read = time.perf_counter()
        body, _ = render_rss_gzip(view.channel)  # as the route renders: the document and its gzip copy
    return time.perf_counter() - began, read - began, body, view.channel


def feedgen_alone(channel: Channel) -> tuple[float, bytes]:
    began = time.perf_counter()
    body: bytes = build_feed(channel).rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return time.perf_counter() - began, body


async def measure_render(sessions: async_sessionmaker[AsyncSession], base_url: str, repeats: int) -> Render:
    now = datetime.now(UTC)
    _, _, reference, channel = await cold_render(sessions, base_url, now)  # warm-up: compiled statements, imports
    feedgen_alone(channel)
    project: list[float] = []
    read: list[float] = []
    baseline: list[float] = []
    identical = True
    for i in range(repeats):
        for side in ("project", "baseline") if i % 2 == 0 else ("baseline", "project"):
            gc.collect()  # neither side pays for the other's garbage
            if side == "project":
                total, reading, body, _ = await cold_render(sessions, base_url, now)
                project.append(total)
                read.append(reading)
            else:
                seconds, body = feedgen_alone(channel)
                baseline.append(seconds)
            identical = identical and body == reference
        print(
            f"  repeat {i + 1} cold render {project[-1] * 1000:7.1f} ms (read {read[-1] * 1000:6.1f} ms)  "
            f"feedgen alone {baseline[-1] * 1000:7.1f} ms",
            flush=True,
        )
    result = Render(project, read, baseline, len(reference), reference.count(b"<item>"), identical, reference)
    for _ in range(3):
        forget_texts()
        gc.collect()
        total, _, body, _ = await cold_render(sessions, base_url, now)
        result.first_s.append(total)
        result.identical = result.identical and body == reference
    return result


# --- a change to a large feed: the loop during its render, and concurrent requests right after ---------------


@dataclass
class Contention:
    render_ms: list[float]  # one GET right after a change (the server renders), per repeat
    stall_ms: list[float]  # the longest ping answer while that GET was in the air, per repeat
    pings: list[int]  # pings answered meanwhile, per repeat
    concurrent_ms: list[float]  # CLIENTS GETs sent together right after a change: until the last answer
    stored_one_ms: list[float]  # one GET of the unchanged feed (answered from the store): delivery alone
    stored_many_ms: list[float]  # CLIENTS GETs of the unchanged feed together: delivering CLIENTS copies
    clients: int
    fresh: bool  # every measured GET answered a new version (a render happened), all of a round alike


_edits = itertools.count(1)


async def touch_big_series(sessions: async_sessionmaker[AsyncSession]) -> None:
    """An admin's edit of the feed (its description ends with the edit's number): its bytes change even when two
    edits fall in the same second (``lastBuildDate`` has seconds), and every process forgets its stored answer."""
    edit = next(_edits)
    async with sessions() as session, session.begin():
        await session.execute(
            update(m.PodcastFeed)
            .where(m.PodcastFeed.slug == BIG_SLUG)
            .values(description=func.regexp_replace(m.PodcastFeed.description, r" \(\d+\)$", "") + f" ({edit})")
        )


class PingProbe:
    """``GET /api/v1/ping`` back to back on one kept-alive connection, in a thread: the longest answer."""

    def __init__(self, app: App) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
        self.longest = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            self.connection.request("GET", PING_PATH)
            response = self.connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{PING_PATH} answered {response.status}")
            self.longest = max(self.longest, time.perf_counter() - began)
            self.count += 1

    def __enter__(self) -> PingProbe:
        self._thread.start()
        while self.count < 20:  # connected and warm
            time.sleep(0.01)
        self.longest, self.count = 0.0, 0
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.connection.close()


def after_change(database_url: str) -> None:
    asyncio.run(with_database(database_url, touch_big_series))
    time.sleep(0.5)  # the NOTIFY reaches the server's hub in milliseconds: its stored answer is forgotten


def _together(barrier: threading.Barrier, url: str) -> Answer:
    barrier.wait(timeout=30)
    return fetch(url, GZIP, timeout=120)


def measure_contention(app: App, database_url: str, repeats: int, clients: int) -> Contention:
    path = f"/feeds/webinars/{BIG_SLUG}.xml"
    result = Contention([], [], [], [], [], [], clients, True)
    # Every GET asks as podcast apps do (``Accept-Encoding: gzip``): the server sends its gzip copy.
    etag = fetch(app.url(path), GZIP).etag
    for _ in range(repeats):
        after_change(database_url)
        began = time.perf_counter()
        one = fetch(app.url(path), GZIP)  # alone: the baseline of the concurrent GETs
        result.render_ms.append((time.perf_counter() - began) * 1000)
        result.fresh = result.fresh and one.status == 200 and one.etag != etag
        etag = one.etag
        after_change(database_url)
        with PingProbe(app) as probe:
            probed = fetch(app.url(path), GZIP)
            longest, count = probe.longest, probe.count
        result.stall_ms.append(longest * 1000)
        result.pings.append(count)
        result.fresh = result.fresh and probed.status == 200 and probed.etag != etag
        etag = probed.etag
        after_change(database_url)
        barrier = threading.Barrier(clients)
        with ThreadPoolExecutor(clients) as pool:
            began = time.perf_counter()
            answers = list(pool.map(_together, [barrier] * clients, [app.url(path)] * clients))
            result.concurrent_ms.append((time.perf_counter() - began) * 1000)
        tags = {answer.etag for answer in answers}
        result.fresh = result.fresh and all(a.status == 200 for a in answers) and len(tags) == 1 and etag not in tags
        etag = answers[0].etag
        # The same, with nothing changed (every answer from the store): what delivering the copies costs alone.
        began = time.perf_counter()
        fetch(app.url(path), GZIP)
        result.stored_one_ms.append((time.perf_counter() - began) * 1000)
        barrier = threading.Barrier(clients)
        with ThreadPoolExecutor(clients) as pool:
            began = time.perf_counter()
            list(pool.map(_together, [barrier] * clients, [app.url(path)] * clients))
            result.stored_many_ms.append((time.perf_counter() - began) * 1000)
        print(
            f"  after a change: one GET {result.render_ms[-1]:.0f} ms (longest ping {result.stall_ms[-1]:.1f} ms of "
            f"{count}), {clients} GETs together {result.concurrent_ms[-1]:.0f} ms; unchanged: one "
            f"{result.stored_one_ms[-1]:.0f} ms, {clients} together {result.stored_many_ms[-1]:.0f} ms",
            flush=True,
        )
    return result


def http_cold(app: App, render_body: bytes) -> tuple[float, float, bool]:
    """One uncached GET of the 1,000-item feed over HTTP, then a cached one: their milliseconds, and whether the
    server's bytes are the in-process render's."""
    path = f"/feeds/webinars/{BIG_SLUG}.xml"
    began = time.perf_counter()
    cold = fetch(app.url(path))
    cold_ms = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    cached = fetch(app.url(path))
    cached_ms = (time.perf_counter() - began) * 1000
    if cold.status != 200 or cached.status != 200:
        raise RuntimeError(f"{path} answered {cold.status} then {cached.status}: {cold.body[:300]!r}")
    return cold_ms, cached_ms, cold.body == render_body == cached.body


# --- the run and the report ------------------------------------------------------------------------


def _rps(loads: Sequence[Load]) -> float:
    return statistics.median(x.run.requests_per_second for x in loads)


def _p99(loads: Sequence[Load]) -> float:
    return statistics.median(x.run.p99_ms for x in loads)


def build_report(
    http: Http, render: Render, contention: Contention, details: str, args: argparse.Namespace, argv: Sequence[str]
) -> SuiteReport:
    ping, feed, not_modified, plain = http.routes
    runs = http.runs
    targets = {feed.key: 0.8, not_modified.key: 0.9}
    results: list[Result] = []
    for route in (feed, not_modified, plain):
        command = f"{runs[route.key][0].run.command} ; {runs[ping.key][0].run.command}"
        results.append(Result(route.name, _rps(runs[route.key]), _rps(runs[ping.key]), "req/s", command,
                              target=targets.get(route.key)))  # fmt: skip
        results.append(Result(f"{route.name} (informational)", _p99(runs[route.key]), _p99(runs[ping.key]),
                              "p99 ms", command, higher_is_better=False))  # fmt: skip
    project_ms = statistics.median(render.project_s) * 1000
    baseline_ms = statistics.median(render.baseline_s) * 1000
    read_ms = statistics.median(render.read_s) * 1000
    results.append(
        Result(
            f"cold render of a {render.items:,}-item feed: PostgreSQL → `Channel` → RSS (baseline: feedgen alone)",
            project_ms, baseline_ms, "ms",
            "in-process: FeedService(FeedRepository(session), base_url).series_feed(slug, now) + "
            "render_rss_gzip(channel) (the document and its gzip copy) ; "
            "build_feed(channel).rss_str(pretty=False, encoding='UTF-8', xml_declaration=True)",
            target=1.5, higher_is_better=False,
        )
    )  # fmt: skip
    big = f"/feeds/webinars/{BIG_SLUG}.xml"
    one_ms = statistics.median(contention.render_ms)
    results.append(
        Result(
            f"longest `GET {PING_PATH}` while the {render.items:,}-item feed renders after a change "
            "(baseline: the 50 ms budget)",
            statistics.median(contention.stall_ms), 50.0, "ms",
            f"after an edit of the feed: GET {big} ; GET {PING_PATH} back to back on one connection meanwhile",
            target=1.0, higher_is_better=False,
        )
    )  # fmt: skip
    results.append(
        Result(
            f"{contention.clients} GETs of the {render.items:,}-item feed sent together after a change, until the "
            "last answer (baseline: one GET after a change)",
            statistics.median(contention.concurrent_ms), one_ms, "ms",
            f"after an edit of the feed: {contention.clients} × GET {big} at once ; one GET {big}",
            target=1.2, higher_is_better=False,
        )
    )  # fmt: skip
    results.append(
        Result(
            f"{contention.clients} GETs of the unchanged {render.items:,}-item feed sent together (answered from the "
            "store), until the last answer (baseline: one such GET) (informational: delivering the copies alone)",
            statistics.median(contention.stored_many_ms), statistics.median(contention.stored_one_ms), "ms",
            f"no change: {contention.clients} × GET {big} at once ; one GET {big}",
        )
    )  # fmt: skip
    loads = [*http.warmups, *(x for each in runs.values() for x in each)]
    errors = sum(x.errors for x in loads) + (0 if render.identical else 1) + (0 if render.http_identical else 1)
    errors += 0 if contention.fresh else 1
    answered = sum(x.run.requests for x in loads)
    results.append(
        Result(
            "unexpected answers: wrong status, ETag or length, socket errors, timeouts; differing renders "
            "(baseline column: responses)",
            errors, answered, "count",
            "wrk response() hook on every answer; byte comparison of the renders", target=0.0, higher_is_better=False,
        )
    )  # fmt: skip

    verdict = "; ".join(f"{r.name} ×{r.ratio:.2f} (target {r.target_text})" for r in results if r.target)
    missed = [r for r in results if r.passed is False]
    notes = [f"{verdict}." + (" **Missed.**" if missed else " All targets met.")]
    checked = sum(x.checked for x in loads)
    notes.append(
        f"Every answer checked: {checked:,} answers seen by the Lua hook in {len(loads)} wrk runs, "
        + ("all with the expected status (200; 304 for the conditional GET), ETag and body length; no socket "
           "error or timeout." if not sum(x.errors for x in loads) else
           f"**{sum(x.unexpected for x in loads)} unexpected, {sum(x.socket_errors for x in loads)} socket errors "
           "or timeouts**.")
    )  # fmt: skip
    for route in http.routes:
        mine = runs[route.key]
        line = f"{route.key}: req/s per round " + " · ".join(fmt(x.run.requests_per_second) for x in mine)
        if route is not ping:
            ratios = " · ".join(
                f"{x.run.requests_per_second / p.run.requests_per_second:.2f}"
                for x, p in zip(mine, runs[ping.key], strict=True)
            )
            line += f" (ratio to that round's ping {ratios})"
        notes.append(line + "; p99 ms per round " + " · ".join(f"{x.run.p99_ms:.1f}" for x in mine) + ".")
    notes.append(
        f"HTTP: one `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`), the shipped content synced "
        f"at start; the feed ({http.described}) was fetched twice (rendered by the route, then answered by the "
        f"edge) and its 304 checked before the load. {args.rounds} rounds, orders {' / '.join(http.orders)}, "
        f"each route {args.duration} s measured with wrk -t2 -c{args.connections} --timeout {args.timeout}s after one "
        f"{args.warmup} s checked warm-up per route; the same Lua hook runs in every run of every route (ping "
        "included), so its cost is on both sides of the ratio. Medians of the rounds; wrk shares the machine, so "
        "the figures are lower bounds."
    )
    notes.append(
        f"Cold render: a series of {details} (texts, speakers and media of the 12 shipped sessions, cycled, "
        "scheduled a day apart, all published with a READY replay), and its feed with the shipped feed's "
        f"settings, inserted with SQLAlchemy into the same PostgreSQL and removed at the end. {args.repeats} "
        "repeats alternating project and baseline (the order swapped each repeat, `gc.collect()` before each), "
        "after one unmeasured warm-up of each; medians. Project: a new `AsyncSession` (pooled connection), "
        "`FeedService.series_feed` (the feed row, the series with its sessions and their media by selectinload, "
        "the audio renditions, the `Channel` and its digest) then `render_rss_gzip`: the document and the gzip copy "
        "the server keeps, made in one pass from the items kept rendered and compressed. "
        "Baseline: `build_feed(channel)."
        "rss_str(...)` on that `Channel` already in memory — the project's feedgen setup, extensions and "
        f"sanitising included. Output {render.size:,} B, {render.items:,} items; the baseline's bytes "
        + ("are" if render.identical else "**are not**")
        + " the project's."
    )
    first_ms = statistics.median(render.first_s) * 1000 if render.first_s else float("nan")
    notes.append(
        f"The renderer keeps the texts it made (typography, sanitising; `feeds/render.py`): both sides above run "
        "after a warm-up, so they measure the render after an edit, where only changed texts are made again, and the "
        "baseline is feedgen with the texts ready. The first render after a restart (texts forgotten, 3 repeats, "
        f"median): {first_ms:.0f} ms, ×{first_ms / baseline_ms:.2f} of the baseline (informational; the synthetic "
        "series repeats the 12 shipped descriptions, so even that render makes each of them once only: a real "
        "series of distinct texts pays the typography of every item then)."
    )
    render_ms = project_ms - read_ms
    notes.append(
        f"Cold render split (medians): reading the rows and building the `Channel` {read_ms:.0f} ms, rendering "
        f"{render_ms:.0f} ms (feedgen alone {baseline_ms:.0f} ms). Per repeat, ms: project "
        + " · ".join(f"{x * 1000:.0f}" for x in render.project_s)
        + "; baseline "
        + " · ".join(f"{x * 1000:.0f}" for x in render.baseline_s)
        + "."
    )
    if render.http_cold_ms is not None and render.http_cached_ms is not None:
        notes.append(
            f"Over HTTP (one request each, informational): the 1,000-item feed's first GET took "
            f"{render.http_cold_ms:.0f} ms (cold render in the server), the next {render.http_cached_ms:.1f} ms "
            "(the edge); the server's bytes "
            + ("are" if render.http_identical else "**are not**")
            + " the in-process render's."
        )
    notes.append(
        f"After a change ({args.contention_repeats} repeats; an edit of the feed's description through SQLAlchemy, "
        "whose NOTIFY makes the server forget its stored answer, then 0.5 s for it to arrive): one GET of the "
        "large feed, per repeat "
        + " · ".join(f"{x:.0f}" for x in contention.render_ms)
        + " ms; after another change, one more while a thread asked ping back to back on one kept-alive connection "
        "(longest answer per repeat "
        + " · ".join(f"{x:.1f}" for x in contention.stall_ms)
        + " ms, of "
        + " · ".join(str(x) for x in contention.pings)
        + f" pings); then, after another change, {contention.clients} GETs released together by a barrier from "
        f"{contention.clients} threads (new connections), until the last answer: "
        + " · ".join(f"{x:.0f}" for x in contention.concurrent_ms)
        + " ms. Every one of those answers was a 200 of the new version (one ETag per round, never the previous "
        "one): " + ("yes." if contention.fresh else "**no**.")
    )
    extra = statistics.median(contention.concurrent_ms) - one_ms
    floor = statistics.median(contention.stored_many_ms) - statistics.median(contention.stored_one_ms)
    notes.append(
        f"What the {contention.clients} GETs after a change add to one: {extra:.0f} ms (medians); what the same "
        f"{contention.clients} GETs add to one when nothing changed and the store answers all of them: {floor:.0f} ms "
        "(per repeat, together: "
        + " · ".join(f"{x:.0f}" for x in contention.stored_many_ms)
        + " ms; alone: "
        + " · ".join(f"{x:.0f}" for x in contention.stored_one_ms)
        + " ms). The render is shared (single flight); "
        "the rest is delivering the copies: new connections, and each copy of the gzip document sent and read "
        "by the threads of this process, on the same two cores."
    )
    return SuiteReport(
        suite="feeds",
        title="podcast feeds against a trivial JSON route and against feedgen alone",
        project_label="feed route; full cold render",
        baseline_label="`GET /api/v1/ping`; feedgen alone",
        results=results,
        notes=notes,
        command=suite_command("feeds", argv),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="checked, unmeasured seconds per route before round 1")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the four routes (the median is kept)")
    parser.add_argument("--timeout", type=int, default=10, help="wrk --timeout in seconds")
    parser.add_argument("--items", type=int, default=1000, help="sessions of the synthetic series")
    parser.add_argument("--repeats", type=int, default=7, help="cold renders (and as many baselines)")
    parser.add_argument("--contention-repeats", type=int, default=9, help="changes of the large feed measured")
    parser.add_argument("--clients", type=int, default=16, help="GETs sent together right after a change")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    ensure_wrk()
    with bench_database() as database_url:
        inserted = False
        try:
            with running_app("feeds", database_url, port=PORT) as app:  # its start applies the migrations
                http = measure_http(app, args)
                details = asyncio.run(with_database(database_url, lambda s: insert_big_series(s, args.items)))
                inserted = True
                print(f"  inserted {details}", flush=True)
                render = asyncio.run(
                    with_database(database_url, lambda s: measure_render(s, app.base_url, args.repeats))
                )
                render.http_cold_ms, render.http_cached_ms, render.http_identical = http_cold(app, render.reference)
                contention = measure_contention(app, database_url, args.contention_repeats, args.clients)
        finally:
            if inserted:
                asyncio.run(with_database(database_url, remove_big_series))
    report = build_report(http, render, contention, details, args, argv)
    report.notes.append(f"App exit status {app.process.returncode} after SIGTERM.")
    publish(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
