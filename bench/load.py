"""Suite ``load``: a sustained mixed load on one app, its throughput, p99, errors and memory (issue 8's target).

One ``learning serve`` (granian, 1 worker, shipped content synced at start) and a few learners, each registered,
logged in and enrolled in a module. wrk (-t2 -c64) runs one Lua script that picks each request's kind by weight:

- feeds (30 %): the webinar series' RSS feed and a module's feed, ``Accept-Encoding: gzip`` as podcast apps send;
- catalog (30 %): ``/api/v1/modules``, each module, the webinar series;
- media ranges (25 %): ``GET /media/{id}/{name}`` of the assets found in the catalog and the feed, half
  ``Range: bytes=0-1`` probes, half a 64 KiB range at a random offset;
- progress (15 %): ``POST /api/v1/me/progress/events``, batches of fresh events (new UUIDs) for a video lesson,
  the learners' tokens in rotation.

Every request carries an ``X-Request-ID`` naming its template (the app echoes it), so the ``response()`` hook
checks each answer against what that request must get: the status (200, 206 for ranges), the body length
fetched before the load (the range's length for media), every event applied for progress. A checked warm-up,
then ``GET /api/v1/ping`` (the baseline: same connections, same hook) for 10 s, then the mix for 60 s, while
the RSS of the server's process tree is sampled every second. Targets: no error; memory bounded (the peak RSS
of the last third of the run at most 1.1× the peak of the first third). The req/s and p99 ratios to ping are
informational.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from bench.progress import EVENTS_PATH, learners, video_lesson
from bench.progress import MODULE as ENROLLED_MODULE

PORT = 18800
SERIES = "innovation-territoriale-en-actions-2019"
SERIES_FEED = f"/feeds/webinars/{SERIES}.xml"
MODULE_FEED = f"/feeds/modules/{ENROLLED_MODULE}.xml"
PING_PATH = "/api/v1/ping"
GZIP = {"Accept-Encoding": "gzip"}
CHUNK = 64 * 1024  # the media ranges that are not probes
MIB = 1024 * 1024
WEIGHTS: dict[str, int] = {"feed": 30, "catalog": 30, "media": 25, "progress": 15}
RSS_BOUND = 1.1


# --- the request templates: what each request asks and what its answer must be -----------------------


@dataclass(frozen=True)
class Template:
    kind: str  # feed, catalog, media, progress, ping
    path: str
    status: int
    length: int  # expected body length (media: the range's length); progress: not checked
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0  # media: the file's size (the chunk's offset is drawn in it)
    method: str = "GET"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


def fetch(url: str, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> Answer:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 — our own http URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            items = response.headers.items()
            return Answer(int(response.status), {k.lower(): v for k, v in items}, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def _get_ok(app: App, path: str, headers: Mapping[str, str] | None = None) -> Answer:
    answer = fetch(app.url(path), headers)
    if answer.status != 200 or not answer.body:
        raise RuntimeError(f"{path} answered {answer.status} before the load: {answer.body[:300]!r}")
    return answer


def _media_path(url: str) -> str:
    found = re.match(r"^https?://[^/]+(/media/[0-9a-f-]{36}/[^/?#]+)$", url)
    if found is None:
        raise RuntimeError(f"unexpected media URL {url}")
    return found[1]


def templates(app: App) -> tuple[list[Template], str]:
    """Every GET the mix makes, each fetched once (its answer's length is then the expected one); a summary."""
    feeds = [Template("feed", path, 200, 0, GZIP) for path in (SERIES_FEED, MODULE_FEED)]
    modules = json.loads(_get_ok(app, "/api/v1/modules").body)
    catalog_paths = [
        "/api/v1/modules",
        *(f"/api/v1/modules/{item['slug']}" for item in modules["items"]),
        f"/api/v1/webinars/{SERIES}",
    ]
    catalog = [Template("catalog", path, 200, 0) for path in catalog_paths]
    checked: list[Template] = []
    for template in [*feeds, *catalog]:
        answer = _get_ok(app, template.path, template.headers)
        if template.kind == "feed" and answer.headers.get("content-encoding") != "gzip":
            raise RuntimeError(f"{template.path} is not gzip-encoded")
        checked.append(Template(template.kind, template.path, 200, len(answer.body), template.headers))

    media: dict[str, int] = {}  # path → size: lesson media of every module, replays, the feed's enclosures
    for path in catalog_paths[1:-1]:
        for lesson in json.loads(_get_ok(app, path).body)["lessons"]:
            if lesson.get("media"):
                media[_media_path(lesson["media"]["url"])] = int(lesson["media"]["size_bytes"])
    for session in json.loads(_get_ok(app, catalog_paths[-1]).body)["sessions"]["items"]:
        if session.get("replay"):
            media[_media_path(session["replay"]["url"])] = int(session["replay"]["size_bytes"])
    rss = _get_ok(app, SERIES_FEED).body.decode()
    for url, length in re.findall(r'<enclosure url="([^"]+)" length="(\d+)"', rss):
        media[_media_path(url)] = int(length)
    for path, size in media.items():
        if size < 2 * CHUNK:
            raise RuntimeError(f"{path} is {size} B, too small for a {CHUNK} B range")
        for start, end in ((0, 1), (size - CHUNK, size - 1)):
            answer = fetch(app.url(path), {"Range": f"bytes={start}-{end}"})
            if answer.status != 206 or len(answer.body) != end - start + 1:
                raise RuntimeError(f"{path} bytes={start}-{end} answered {answer.status}, {len(answer.body)} B")
        checked.append(Template("media", path, 206, 2, size=size))  # the probe
        checked.append(Template("media", path, 206, CHUNK, size=size))  # a 64 KiB range at a random offset
    checked.append(Template("progress", EVENTS_PATH, 200, 0, {"Content-Type": "application/json"}, method="POST"))
    counts = {kind: sum(1 for t in checked if t.kind == kind) for kind in WEIGHTS}
    described = (
        f"{counts['feed']} feeds ({', '.join(f'{t.path} {t.length:,} B gzip' for t in checked if t.kind == 'feed')}), "
        f"{counts['catalog']} catalog routes, {len(media)} media files "
        f"({min(media.values()):,}–{max(media.values()):,} B: lesson media, replays and the feed's enclosures)"
    )
    return checked, described


def ping_templates(app: App) -> list[Template]:
    return [Template("ping", PING_PATH, 200, len(_get_ok(app, PING_PATH).body))]


# --- the Lua script -----------------------------------------------------------------------------------


def _lua(value: str) -> str:
    """A Lua 5.1 string literal (quotes, backslashes and control bytes as decimal escapes)."""
    return '"' + "".join(f"\\{ord(c):03d}" if c in '"\\' or ord(c) < 32 or ord(c) == 127 else c for c in value) + '"'


def mix_script(
    chosen: Sequence[Template],
    weights: Mapping[str, int],
    *,
    tokens: Sequence[str] = (),
    lesson_id: str = "",
    duration: int = 0,
    threads: int = 2,
    batch: int = 4,
) -> str:
    """wrk Lua: each request's kind drawn by weight, then one of its templates; every answer checked."""
    kinds = [kind for kind in weights if any(t.kind == kind for t in chosen)]
    rows = []
    for t in chosen:
        headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in t.headers.items())
        rows.append(
            f"  {{k = {_lua(t.kind)}, m = {_lua(t.method)}, p = {_lua(t.path)}, s = {t.status}, n = {t.length}, "
            f"size = {t.size}, h = {{{headers}}}}},"
        )
    members = "\n".join(
        f"  {{{', '.join(str(i + 1) for i, t in enumerate(chosen) if t.kind == kind)}}}," for kind in kinds
    )
    cumulative, total = [], 0
    for kind in kinds:
        total += weights[kind]
        cumulative.append(str(total))
    quoted_tokens = ", ".join(_lua(t) for t in tokens)
    return f"""
local T = {{
{chr(10).join(rows)}
}}
local kinds = {{{", ".join(_lua(k) for k in kinds)}}}
local cumulative = {{{", ".join(cumulative)}}}
local total = {total}
local members = {{
{members}
}}
local tokens = {{{quoted_tokens}}}
local threads_n = {threads}
local lesson = {_lua(lesson_id)}
local duration = {duration}
local batch = {batch}
local chunk = {CHUNK}
local expected_applied = '"applied":' .. batch .. ','

local counter = 0
local thread_list = {{}}
local mine = {{}}
local seq = 0
answered = {{}}
bad = {{}}
statuses = {{}}
local reported = 0

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
end

{LUA_UUID4}

local function events()
  local list = {{}}
  local start = math.random(0, math.max(0, duration - 5 * batch - 5))
  for j = 0, batch - 1 do
    local at = start + 5 * math.floor(j / 2)
    local stamp = string.format("2024-01-01T00:%02d:%02dZ", math.floor(j / 60) % 60, j % 60)
    if j % 2 == 0 then
      list[#list + 1] = '{{"id":"' .. uuid4() .. '","type":"played","lesson_id":"' .. lesson ..
        '","from":' .. at .. ',"to":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}}'
    else
      list[#list + 1] = '{{"id":"' .. uuid4() .. '","type":"position","lesson_id":"' .. lesson ..
        '","position":' .. (at + 5) .. ',"client_time":"' .. stamp .. '"}}'
    end
  end
  return '{{"events":[' .. table.concat(list, ",") .. ']}}'
end

function request()
  seq = seq + 1
  local x = math.random() * total
  local which = #kinds
  for i = 1, #kinds do
    if x < cumulative[i] then which = i break end
  end
  local list = members[which]
  local index = list[math.random(1, #list)]
  local t = T[index]
  local headers = {{["X-Request-ID"] = index .. "-" .. tid .. "-" .. seq}}
  for name, value in pairs(t.h) do headers[name] = value end
  if t.k == "media" then
    if t.n == 2 then
      headers["Range"] = "bytes=0-1"
    else
      local first = math.random(0, t.size - chunk)
      headers["Range"] = "bytes=" .. first .. "-" .. (first + chunk - 1)
    end
  elseif t.k == "progress" then
    headers["Authorization"] = mine[(seq % #mine) + 1]
    return wrk.format("POST", t.p, headers, events())
  end
  return wrk.format(t.m, t.p, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local id = headers["x-request-id"] or headers["X-Request-ID"]
  local index = id and tonumber(string.match(id, "^(%d+)-"))
  local t = index and T[index]
  local kind = t and t.k or "unknown"
  local ok = t ~= nil and status == t.s
  if ok then
    if t.k == "progress" then
      ok = string.find(body, expected_applied, 1, true) ~= nil
    else
      ok = #body == t.n
    end
  end
  answered[kind] = (answered[kind] or 0) + 1
  if not ok then
    bad[kind] = (bad[kind] or 0) + 1
    if reported < 3 then
      reported = reported + 1
      io.stderr:write("unexpected " .. kind .. " " .. tostring(t and t.p) .. ": " .. status .. ", " .. #body ..
        " B: " .. string.gsub(string.sub(body, 1, 200), "[^%w%p ]", "?") .. "\\n")
    end
  end
end

function done(summary, latency, requests)
  local merged, wrong, codes = {{}}, {{}}, {{}}
  for _, thread in ipairs(thread_list) do
    for kind, n in pairs(thread:get("answered")) do merged[kind] = (merged[kind] or 0) + n end
    for kind, n in pairs(thread:get("bad")) do wrong[kind] = (wrong[kind] or 0) + n end
    for code, n in pairs(thread:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  for kind, n in pairs(merged) do io.write("CHECK " .. kind .. " " .. n .. " " .. (wrong[kind] or 0) .. "\\n") end
  for code, n in pairs(codes) do io.write("STATUS " .. code .. " " .. n .. "\\n") end
end
"""


# --- wrk and the memory sampler -----------------------------------------------------------------------


_CHECK = re.compile(r"^CHECK (\S+) (\d+) (\d+)$", re.MULTILINE)
_STATUS = re.compile(r"^STATUS (\d+) (\d+)$", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class Load:
    run: WrkRun
    answered: dict[str, int]  # answers by kind, as the hook counted them
    unexpected: dict[str, int]  # answers not as expected, by kind
    statuses: dict[int, int]
    socket_errors: int  # connect, read and write errors and timeouts
    stderr: str

    @property
    def checked(self) -> int:
        return sum(self.answered.values())

    @property
    def errors(self) -> int:
        return sum(self.unexpected.values()) + self.socket_errors


def load(app: App, script: str, *, path: str, seconds: int, connections: int, threads: int, timeout_s: int) -> Load:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        lua = Path(tmp) / "mix.lua"
        lua.write_text(script, encoding="utf-8")
        options = [f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout_s}s", "--latency"]
        argv = [wrk, *options, "-s", str(lua), app.url(path)]
        done = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", check=True, timeout=seconds + timeout_s + 60
        )
    run = parse_wrk(done.stdout, command=" ".join(["wrk", *options, "-s mix.lua", app.url(path)]))
    checks = _CHECK.findall(done.stdout)
    if not checks:
        raise RuntimeError(f"no CHECK line in wrk's output:\n{done.stdout}\n{done.stderr}")
    sockets = _SOCKET.search(done.stdout)
    return Load(
        run,
        {kind: int(n) for kind, n, _ in checks},
        {kind: int(n) for kind, _, n in checks if int(n)},
        {int(code): int(n) for code, n in _STATUS.findall(done.stdout)},
        sum(int(n) for n in sockets.groups()) if sockets else 0,
        done.stderr.strip(),
    )


@dataclass
class Sampler:
    """The RSS of the server's process tree (bytes), sampled every ``interval_s`` in a thread."""

    app: App
    interval_s: float = 1.0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (seconds, total RSS, processes)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        began = time.monotonic()

        def run() -> None:
            tick = 0
            while True:
                sizes = self.app.rss()
                self.samples.append((time.monotonic() - began, sum(sizes), len(sizes)))
                tick += 1
                if self._stop.wait(max(0.0, began + tick * self.interval_s - time.monotonic())):
                    break

        self._thread = threading.Thread(target=run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        sizes = self.app.rss()  # the end, once the load is over
        self.samples.append((self.samples[-1][0] if self.samples else 0.0, sum(sizes), len(sizes)))


@dataclass(frozen=True)
class Memory:
    before_mb: float  # RSS right after start-up, before any load
    start_mb: float
    peak_mb: float
    end_mb: float
    first_third_peak_mb: float
    last_third_peak_mb: float
    samples: int
    processes: int
    trace: list[float]  # MiB, one per sample


def memory(samples: Sequence[tuple[float, int, int]], duration_s: int, before: int) -> Memory:
    during = samples[:-1] or samples
    first = [rss for t, rss, _ in during if t < duration_s / 3]
    last = [rss for t, rss, _ in during if t >= 2 * duration_s / 3]
    if not first or not last:
        raise RuntimeError(f"too few RSS samples ({len(samples)}) to compare the thirds of the run")
    return Memory(
        before / MIB,
        during[0][1] / MIB,
        max(rss for _, rss, _ in samples) / MIB,
        samples[-1][1] / MIB,
        max(first) / MIB,
        max(last) / MIB,
        len(samples),
        max(n for _, _, n in samples),
        [rss / MIB for _, rss, _ in samples],
    )


# --- the run and the report ---------------------------------------------------------------------------


def _show(name: str, done: Load) -> None:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(done.answered.items()))
    print(
        f"  {name:8} {fmt(done.run.requests_per_second):>7} req/s  p50 {done.run.p50_ms:7.2f} ms  "
        f"p99 {done.run.p99_ms:7.2f} ms  checked {done.checked} ({kinds})  "
        f"{'ERRORS ' + str(done.errors) if done.errors else 'ok'}",
        flush=True,
    )
    if done.stderr:
        print("    " + done.stderr.replace("\n", "\n    "), flush=True)


def build_report(
    mix: Load, ping: Load, warm: Load | None, mem: Memory, described: str, args: argparse.Namespace, argv: list[str]
) -> SuiteReport:
    mix_name = ", ".join(f"{w} % {k}" for k, w in WEIGHTS.items())
    command = f"{mix.run.command} ; {ping.run.command}"
    loads = [x for x in (warm, ping, mix) if x is not None]
    errors = sum(x.errors for x in loads)
    results = [
        Result(f"mixed load ({mix_name}), -c{args.connections}, {args.duration} s (informational)",
               mix.run.requests_per_second, ping.run.requests_per_second, "req/s", command),
        Result("mixed load p99 (informational)", mix.run.p99_ms, ping.run.p99_ms, "p99 ms", command,
               higher_is_better=False),
        Result("unexpected answers (status, length, events applied), socket errors, timeouts "
               "(baseline column: responses)", errors, sum(x.run.requests for x in loads), "count",
               "wrk response() hook on every answer of every run; wrk's socket error counts", target=0.0,
               higher_is_better=False),
        Result("memory bounded: peak RSS of the last third of the run (baseline column: of the first third)",
               mem.last_third_peak_mb, mem.first_third_peak_mb, "MiB",
               "psutil RSS of the learning serve process tree, sampled every second during the mixed load",
               target=RSS_BOUND, higher_is_better=False),
        Result("RSS peak during the mixed load (baseline column: at its start; informational)", mem.peak_mb,
               mem.start_mb, "MiB", "psutil, as above", higher_is_better=False),
        Result("RSS at the end of the mixed load (baseline column: at its start; informational)", mem.end_mb,
               mem.start_mb, "MiB", "psutil, as above", higher_is_better=False),
    ]  # fmt: skip
    bounded = mem.last_third_peak_mb <= RSS_BOUND * mem.first_third_peak_mb
    share = {k: n / mix.checked * 100 for k, n in mix.answered.items()} if mix.checked else {}
    notes = [
        f"Errors: {errors} in {sum(x.run.requests for x in loads):,} responses"
        + (" — met (target 0)." if not errors else " — **missed**.")
        + f" Memory {'bounded' if bounded else '**not bounded**'}: the last third's peak RSS is "
        f"×{mem.last_third_peak_mb / mem.first_third_peak_mb:.3f} the first third's (target ≤ {RSS_BOUND:.2f}).",
        f"Mixed load: {fmt(mix.run.requests_per_second)} req/s, p50 {mix.run.p50_ms:.1f} ms, p99 "
        f"{mix.run.p99_ms:.1f} ms; ping alone {fmt(ping.run.requests_per_second)} req/s, p99 {ping.run.p99_ms:.1f} ms "
        f"(×{mix.run.requests_per_second / ping.run.requests_per_second:.2f} the req/s, informational).",
        "Answers of the mixed load by kind: "
        + ", ".join(f"{k} {mix.answered.get(k, 0):,} ({share.get(k, 0.0):.1f} %)" for k in WEIGHTS)
        + "; by status: "
        + ", ".join(f"{code}: {n:,}" for code, n in sorted(mix.statuses.items()))
        + f". Progress: {mix.answered.get('progress', 0) * args.batch:,} events applied "
        f"({fmt(mix.answered.get('progress', 0) * args.batch / args.duration)} events/s).",
        f"Memory (RSS of the `learning serve` tree, {mem.processes} processes, MiB): {mem.before_mb:.0f} after "
        f"start-up, {mem.start_mb:.0f} at the start of the mixed load (after the warm-up and ping), peak "
        f"{mem.peak_mb:.0f}, {mem.end_mb:.0f} at the end; peak of the first third {mem.first_third_peak_mb:.1f}, "
        f"of the last third {mem.last_third_peak_mb:.1f}. Per 5 s: "
        + " · ".join(f"{x:.0f}" for x in mem.trace[::5])
        + ".",
        f"Setup: one `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`), the shipped content synced "
        f"at start; {args.learners} learners registered, logged in and enrolled in `{ENROLLED_MODULE}`. Requests: "
        f"{described}; the progress batches are {args.batch} fresh events (`played` 5-second segments and "
        "`position` heartbeats, random UUID v4 ids) for one video lesson, the learners' tokens in rotation. Each "
        "request's kind is drawn by weight, then one of the kind's routes (media: half `bytes=0-1` probes, half a "
        f"{CHUNK // 1024} KiB range at a random offset) uniformly.",
        f"Runs: {args.warmup} s of checked warm-up (the mix), then ping for {args.ping_duration} s, then the mix "
        f"for {args.duration} s, all wrk -t{args.threads} -c{args.connections} --timeout {args.timeout}s with the "
        "same Lua script (ping is a mix of one route, so the Lua cost is on both sides). Each request's "
        "`X-Request-ID` names its route (the app echoes it), so the response() hook checks every answer against "
        "its own request: status 200 (206 for ranges), the body length fetched before the load (the range's "
        "length), every event applied. wrk shares the machine's CPUs with the server and PostgreSQL: figures "
        "are lower bounds.",
    ]
    for name, x in (("warm-up", warm), ("ping", ping), ("mix", mix)):
        if x is not None and x.errors:
            detail = ", ".join(f"{k} {n}" for k, n in x.unexpected.items())
            notes.append(f"**Errors in the {name} run**: {detail or 'none unexpected'}; socket {x.socket_errors}.")
    return SuiteReport(
        suite="load",
        title="sustained mixed load: throughput, errors and memory",
        project_label="mix of feeds, catalog, media ranges, progress",
        baseline_label="`GET /api/v1/ping`",
        results=results,
        notes=notes,
        command=suite_command("load", argv),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--duration", type=int, default=60, help="seconds of mixed load (measured)")
    parser.add_argument("--ping-duration", type=int, default=10, help="seconds of the ping baseline")
    parser.add_argument("--warmup", type=int, default=3, help="checked, unmeasured seconds of the mix first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=10, help="wrk --timeout in seconds")
    parser.add_argument("--learners", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4, help="events per progress request")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.duration < 3:
        parser.error("--duration must be at least 3 s (the thirds of the run are compared)")

    ensure_wrk()
    # The learners all come from loopback, and the mix sends far more events than a player: the per-client sign-up
    # and sign-in limits and the progress quotas are raised so that the mix measures serving, not refusing.
    env = {
        "LEARNING_LOGIN_IP_LIMIT": str(max(100, 2 * args.learners)),
        "LEARNING_REGISTER_IP_LIMIT": str(max(100, 2 * args.learners)),
        "LEARNING_PROGRESS_EVENTS_PER_MINUTE": "1000000",
        "LEARNING_PROGRESS_EVENTS_PER_LESSON_PER_DAY": "10000000",
    }
    common = {"connections": args.connections, "threads": args.threads, "timeout_s": args.timeout}
    with bench_database() as database_url, running_app("load", database_url, port=PORT, env=env) as app:
        before = sum(app.rss())
        chosen, described = templates(app)
        lesson_id, lesson_duration = video_lesson(app)
        tokens = learners(app, args.learners)
        script = mix_script(
            chosen, WEIGHTS, tokens=tokens, lesson_id=lesson_id, duration=lesson_duration,
            threads=args.threads, batch=args.batch,
        )  # fmt: skip
        warm = None
        if args.warmup > 0:
            warm = load(app, script, path="/", seconds=args.warmup, **common)
            _show("warm-up", warm)
        ping = load(app, mix_script(ping_templates(app), {"ping": 1}), path=PING_PATH, seconds=args.ping_duration,
                    **common)  # fmt: skip
        _show("ping", ping)
        with Sampler(app) as sampler:
            mix = load(app, script, path="/", seconds=args.duration, **common)
        _show("mix", mix)
        mem = memory(sampler.samples, args.duration, before)
        print(
            f"  RSS MiB: after start-up {mem.before_mb:.0f}, start {mem.start_mb:.0f}, peak {mem.peak_mb:.0f}, "
            f"end {mem.end_mb:.0f}; peak first third {mem.first_third_peak_mb:.1f}, last third "
            f"{mem.last_third_peak_mb:.1f}",
            flush=True,
        )
    report = build_report(mix, ping, warm, mem, described, args, argv)
    report.notes.append(f"App exit status {app.process.returncode} after SIGTERM.")
    publish(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
