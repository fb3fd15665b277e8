"""Suite ``catalog``: the public catalog reads against a trivial JSON route, on one app (issue 3's target).

One ``learning serve`` (granian, 1 worker) with the shipped content synced at start. In each round, the
routes are loaded one after the other (ping, module, series, search…, conditional module), each for a
``--warmup`` that also checks every response, then ``--duration`` measured seconds. Targets, as ratios to
``GET /api/v1/ping`` in req/s: module and series at least 0.5, search at least 0.2; the 304 is informational.

The warm-up runs a Lua ``response()`` hook that counts each status and checks the ETag of every answer
against the one fetched beforehand (so a wrong body or a stale cache counts too); the measured runs have no
hook (it would slow wrk down) and count wrk's own errors (status ≥ 400, socket errors). Any of them fails the
"unexpected responses" row.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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

PORT = 18300
MODULE = "dix-ans-de-recherche"
SERIES = "innovation-territoriale-en-actions-2019"
SEARCH_WORD = "territoires"
SEARCH_PHRASE = "co-construction territoriale"
# The rotation: one common word, a phrase, an accented word, a rare word (from many hits to few).
SEARCH_MIX = (SEARCH_WORD, SEARCH_PHRASE, "évaluation", "gouvernance")
UNLOADED_SAMPLES = 20  # sequential requests per route for the unloaded latency note


def search_path(text: str) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": text}, quote_via=urllib.parse.quote)


@dataclass(frozen=True)
class Route:
    key: str
    name: str  # as shown in docs/benchmarks.md
    paths: tuple[str, ...]  # more than one: rotated by a Lua request() function
    target: float | None
    conditional: bool = False  # sends If-None-Match with the current ETag, expects 304

    @property
    def expected_status(self) -> int:
        return 304 if self.conditional else 200


PING = Route("ping", "`GET /api/v1/ping`", ("/api/v1/ping",), None)
ROUTES: tuple[Route, ...] = (
    PING,
    Route("module", f"`GET /api/v1/modules/{MODULE}`", (f"/api/v1/modules/{MODULE}",), 0.5),
    Route("series", f"`GET /api/v1/webinars/{SERIES}`", (f"/api/v1/webinars/{SERIES}",), 0.5),
    Route("search-word", f"`GET /api/v1/search?q={SEARCH_WORD}`", (search_path(SEARCH_WORD),), 0.2),
    Route("search-phrase", f"`GET {search_path(SEARCH_PHRASE)}`", (search_path(SEARCH_PHRASE),), 0.2),
    Route(
        "search-mix",
        f"`GET /api/v1/search`, {len(SEARCH_MIX)} queries rotated",
        tuple(search_path(q) for q in SEARCH_MIX),
        0.2,
    ),
    Route(
        "module-304",
        f"`GET /api/v1/modules/{MODULE}` with `If-None-Match` (304)",
        (f"/api/v1/modules/{MODULE}",),
        None,
        conditional=True,
    ),
)


@dataclass(frozen=True)
class Options:
    duration_s: int
    warmup_s: int
    connections: int
    rounds: int
    timeout_s: int


# --- answers fetched before the load: what every answer under load must match -----------------------


@dataclass(frozen=True)
class Answer:
    status: int
    etag: str | None
    body: bytes


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 — our own http URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(int(response.status), response.headers.get("ETag"), response.read())
    except urllib.error.HTTPError as exc:  # 304 and errors arrive here
        return Answer(exc.code, exc.headers.get("ETag"), exc.read())


@dataclass
class Expected:
    """Per route: the ETags its answers must carry (empty: no ETag checked) and a description of them."""

    etags: dict[str, set[str]] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _check_body(route: Route, path: str, answer: Answer) -> str:
    """What the answer holds, or raises when it is not a sound answer for the route."""
    data = json.loads(answer.body)
    if route.key == "ping":
        return f"{len(answer.body)} B"
    if route.key.startswith("module"):
        lessons = len(data["lessons"])
        if not lessons:
            raise ValueError(f"{path}: the module has no lessons")
        return f"{len(answer.body):,} B, {lessons} lessons"
    if route.key == "series":
        sessions = len(data["sessions"]["items"])
        if not sessions:
            raise ValueError(f"{path}: the series has no sessions")
        return f"{len(answer.body):,} B, {sessions} sessions"
    if not data["total"] or not data["items"]:
        raise ValueError(f"{path}: no hit")
    return f"{len(answer.body):,} B, {data['total']} hits ({len(data['items'])} on the page)"


def expected_answers(app: App) -> Expected:
    expected = Expected()
    for route in ROUTES:
        etags: set[str] = set()
        described = []
        for path in route.paths:
            answer = fetch(app.url(path))
            if answer.status != 200:
                raise RuntimeError(f"{path} answered {answer.status} before the load: {answer.body[:300]!r}")
            info = _check_body(route, path, answer)
            if route.key != "ping":
                if answer.etag is None:
                    raise RuntimeError(f"{path} has no ETag")
                etags.add(answer.etag)
            if route.conditional:
                assert answer.etag is not None
                again = fetch(app.url(path), {"If-None-Match": answer.etag})
                if again.status != 304 or again.body:
                    raise RuntimeError(f"{path} with If-None-Match answered {again.status}, {len(again.body)} B")
                info = f"304, empty body, ETag {answer.etag}"
            described.append(info if len(route.paths) == 1 else f"q={_query(path)}: {info}")
        expected.etags[route.key] = etags
        expected.described[route.key] = "; ".join(described)
    return expected


def _query(path: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["q"][0]


# --- wrk scripts ---------------------------------------------------------------------------------


def _lua_quote(value: str) -> str:
    """A Lua string literal (quotes, backslashes and control bytes as decimal escapes, as ``lua_script``)."""
    return '"' + "".join(f"\\{ord(c):03d}" if c in '"\\' or ord(c) < 32 else c for c in value) + '"'


def request_script(route: Route, etag: str | None) -> str | None:
    """The Lua of the measured run: If-None-Match for the conditional route, a rotation for several paths."""
    parts = []
    if route.conditional:
        assert etag is not None
        parts.append(lua_script(headers={"If-None-Match": etag}))
    if len(route.paths) > 1:
        paths = ", ".join(_lua_quote(p) for p in route.paths)
        parts.append(
            f"local paths = {{{paths}}}\n"
            "local turn = 0\n"
            "function request()\n"
            "  turn = turn + 1\n"
            "  return wrk.format(nil, paths[(turn % #paths) + 1])\n"
            "end\n"
        )
    return "".join(parts) or None


def check_script(route: Route, etag: str | None, etags: set[str]) -> str:
    """The measured run's Lua plus a response() hook counting statuses and answers not as expected."""
    allowed = ", ".join(f"[{_lua_quote(tag)}] = true" for tag in sorted(etags))
    hook = f"""
local expected_status = {route.expected_status}
local etags = {{{allowed}}}
local check_etag = {"true" if etags else "false"}
statuses = {{}}
unexpected = 0
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local ok = status == expected_status
  if ok and check_etag then
    local tag = nil
    for name, value in pairs(headers) do
      if string.lower(name) == "etag" then tag = value end
    end
    ok = tag ~= nil and etags[tag] == true
  end
  if ok and expected_status == 304 then ok = #body == 0 end
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
    return (request_script(route, etag) or "") + hook


_CHECK = re.compile(r"^CHECK statuses (?P<statuses>\S*) unexpected (?P<unexpected>\d+)$", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class Load:
    """One wrk run: its figures, its errors by kind and, for a checked run, what the Lua hook counted."""

    run: WrkRun
    status_errors: int  # answers with a status ≥ 400 (wrk's "Non-2xx or 3xx responses")
    socket_errors: int  # connect, read and write errors
    timeouts: int  # answers slower than --timeout: not in the percentiles, so counted as errors
    statuses: dict[int, int] | None = None  # checked runs: answers by status
    unexpected: int = 0  # checked runs: wrong status, wrong ETag, or a 304 with a body

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts + self.unexpected

    @property
    def checked(self) -> int:
        return sum(self.statuses.values()) if self.statuses else 0


def load(url: str, *, seconds: int, connections: int, timeout_s: int, script: str | None) -> Load:
    """``wrk -t2 -c<N> -d<S>s --timeout <T>s --latency [-s script] URL``, parsed with the harness's parse_wrk.

    Not ``harness.run_wrk``: it keeps wrk's 2 s default timeout, which would leave the slow search answers
    out of the percentiles (wrk only counts them as "timeout"), and it does not return the output, where the
    checking hook prints its counts.
    """
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        extra: list[str] = []
        if script is not None:
            path = Path(tmp) / "request.lua"
            path.write_text(script, encoding="utf-8")
            extra = ["-s", str(path)]
        options = ["-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout_s}s", "--latency"]
        argv = [wrk, *options, *extra, url]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + timeout_s + 60).stdout
    shown = " ".join(["wrk", *options, *(["-s request.lua"] if script is not None else []), url])
    run = parse_wrk(out, command=shown)
    sockets = _SOCKET.search(out)
    connect, read, write, timeouts = (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0)
    found = _CHECK.search(out)
    if found is None:
        return Load(run, run.non_2xx_3xx, connect + read + write, timeouts)
    statuses = {int(k): int(v) for k, v in (p.split("=") for p in found["statuses"].split(",") if p)}
    return Load(run, run.non_2xx_3xx, connect + read + write, timeouts, statuses, int(found["unexpected"]))


# --- the measurements ----------------------------------------------------------------------------


@dataclass
class Measured:
    runs: dict[str, list[Load]]  # the measured runs
    checks: dict[str, list[Load]]  # the checked warm-ups
    expected: Expected
    unloaded_ms: dict[str, float]
    after: list[str]  # problems found once the load is over


def unloaded_latency(app: App, route: Route, etag: str | None) -> float:
    """Median milliseconds of sequential requests on a new connection each (urllib), without load."""
    headers = {"If-None-Match": etag} if route.conditional and etag else None
    samples = []
    for i in range(UNLOADED_SAMPLES):
        start = time.perf_counter()
        fetch(app.url(route.paths[i % len(route.paths)]), headers)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(app: App, options: Options) -> Measured:
    expected = expected_answers(app)
    module_etag = next(iter(expected.etags["module"]))
    etag_of = {r.key: module_etag if r.conditional else None for r in ROUTES}
    unloaded = {r.key: unloaded_latency(app, r, etag_of[r.key]) for r in ROUTES}
    runs: dict[str, list[Load]] = {r.key: [] for r in ROUTES}
    checks: dict[str, list[Load]] = {r.key: [] for r in ROUTES}
    for round_ in range(options.rounds):
        for route in ROUTES:
            url = app.url(route.paths[0])
            etag = etag_of[route.key]
            common = {"connections": options.connections, "timeout_s": options.timeout_s}
            check = None
            if options.warmup_s > 0:
                script = check_script(route, etag, expected.etags[route.key])
                check = load(url, seconds=options.warmup_s, script=script, **common)
                checks[route.key].append(check)
            run = load(url, seconds=options.duration_s, script=request_script(route, etag), **common)
            runs[route.key].append(run)
            errors = run.errors + (check.errors if check else 0)
            print(
                f"  round {round_ + 1} {route.key:13} {fmt(run.run.requests_per_second):>7} req/s  "
                f"p50 {run.run.p50_ms:7.2f} ms  p99 {run.run.p99_ms:7.2f} ms  "
                f"checked {check.checked if check else 0:>6} ({_statuses(check)})  "
                f"{'ERRORS ' + _error_kinds([run, *([check] if check else [])]) if errors else 'ok'}",
                flush=True,
            )
    after = []
    for route in ROUTES:  # the same answers once the load is over (nothing changed, nothing broke)
        for path in route.paths:
            answer = fetch(app.url(path))
            if answer.status != 200 or (route.key != "ping" and answer.etag not in expected.etags[route.key]):
                after.append(f"{path} answered {answer.status} with ETag {answer.etag} after the load")
    return Measured(runs, checks, expected, unloaded, after)


def _statuses(check: Load | None) -> str:
    if check is None or not check.statuses:
        return "none"
    return ", ".join(f"{code}: {n}" for code, n in sorted(check.statuses.items()))


def _error_kinds(loads: Sequence[Load]) -> str:
    kinds = {
        "status ≥ 400": sum(x.status_errors for x in loads),
        "socket errors": sum(x.socket_errors for x in loads),
        "timeouts": sum(x.timeouts for x in loads),
        "wrong status/ETag (checked)": sum(x.unexpected for x in loads),
    }
    return ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n) or "none"


# --- the report ----------------------------------------------------------------------------------


def _rps(loads: Sequence[Load]) -> float:
    return statistics.median(x.run.requests_per_second for x in loads)


def _p99(loads: Sequence[Load]) -> float:
    return statistics.median(x.run.p99_ms for x in loads)


def build_results(measured: Measured, options: Options) -> tuple[list[Result], list[str]]:
    runs, checks = measured.runs, measured.checks
    ping = runs[PING.key]
    results: list[Result] = []
    for route in ROUTES[1:]:
        mine = runs[route.key]
        command = f"{mine[0].run.command} ; {ping[0].run.command}"
        results.append(Result(route.name, _rps(mine), _rps(ping), "req/s", command, target=route.target))
        results.append(Result(route.name, _p99(mine), _p99(ping), "p99 ms", command, higher_is_better=False))

    # Correctness under load: one row that fails on anything unexpected.
    every = [x for loads in (*runs.values(), *checks.values()) for x in loads]
    errors = sum(x.errors for x in every) + len(measured.after)
    answered = sum(x.run.requests for x in every)
    checked = sum(x.checked for x in every)
    results.append(
        Result(
            "errors under load, all routes (baseline column: responses)",
            errors,
            answered,
            "count",
            "status ≥ 400, socket errors and timeouts of every wrk run; wrong status or ETag in the checked warm-ups",
            target=0.0,
            higher_is_better=False,
        )
    )

    notes: list[str] = []
    missed = [r for r in results if r.unit == "req/s" and r.passed is False]
    verdict = "; ".join(f"{r.name} ×{r.ratio:.2f} (target {r.target_text})" for r in results if r.unit == "req/s")
    notes.append(f"Throughput relative to ping: {verdict}." + (" **Missed.**" if missed else " All targets met."))
    if errors:
        detail = "; ".join(
            f"{route.key}: measured runs {_error_kinds(runs[route.key])}, checked warm-ups "
            f"{_error_kinds(checks[route.key])}"
            for route in ROUTES
            if any(x.errors for x in (*runs[route.key], *checks[route.key]))
        )
        notes.append(f"**ERRORS under load: {errors}** — {detail or 'none during the load'}.")
        notes += [f"**ERROR after the load**: {problem}." for problem in measured.after]
    else:
        notes.append(
            f"No error under load: no status ≥ 400, socket error or timeout in {answered:,} responses; the "
            f"{checked:,} checked in the warm-ups all had the expected status (200; 304 for the conditional GET, "
            "with an empty body) and the ETag fetched before the load; the same answers after the load."
        )
    unchecked = [route.key for route in ROUTES if not sum(x.checked for x in checks[route.key])]
    if unchecked:
        notes.append(
            f"**Not checked**: no answer arrived during the warm-ups of {', '.join(unchecked)} (latency longer "
            "than the warm-up); only wrk's own counts cover them."
        )
    notes.append(
        "One `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`), the shipped content synced at "
        "start (`LEARNING_CONTENT_SYNC_ON_START` left true); wrk runs on the same machine, so the figures are "
        f"lower bounds. Each figure is the median of {options.rounds} rounds; in each round the routes run one "
        f"after the other ({' → '.join(r.key for r in ROUTES)}), each {options.warmup_s} s of checked warm-up "
        f"(Lua response() hook: status and ETag of every answer) then {options.duration_s} s measured without "
        f"the hook, wrk -t2 -c{options.connections} --timeout {options.timeout_s}s (wrk's 2 s default would "
        "drop the slowest answers from the percentiles). Ratios divide by ping's median req/s of the same run; "
        "the p99 rows are informational."
    )
    for route in ROUTES:
        mine = runs[route.key]
        per_round = " · ".join(fmt(x.run.requests_per_second) for x in mine)
        if route is not PING:
            ratios = " · ".join(
                f"{x.run.requests_per_second / p.run.requests_per_second:.2f}" for x, p in zip(mine, ping, strict=True)
            )
            per_round += f" (ratio to that round's ping {ratios})"
        notes.append(
            f"{route.key}: req/s per round {per_round}; unloaded latency (one request at a time, new connection "
            f"each, median of {UNLOADED_SAMPLES}) {measured.unloaded_ms[route.key]:.1f} ms; answer: "
            f"{measured.expected.described[route.key]}."
        )
    return results, notes


def app_notes(app: App) -> list[str]:
    levels = app.log_levels()
    raw = levels.pop("raw", 0)
    noisy = {k: v for k, v in levels.items() if k not in ("info", "debug")}
    logged = ", ".join(f"**{n} {k}**" for k, n in sorted(noisy.items())) or "no line at WARNING or above"
    return [
        f"App exit status {app.process.returncode} after SIGTERM; stderr: {logged} ({levels.get('info', 0)} info, "
        f"{raw} non-JSON lines)."
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="checked, unmeasured seconds before each run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all routes (the median is kept)")
    parser.add_argument("--timeout", type=int, default=10, help="wrk --timeout in seconds")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    options = Options(args.duration, args.warmup, args.connections, args.rounds, args.timeout)

    ensure_wrk()
    with bench_database() as database_url, running_app("catalog", database_url, port=PORT) as app:
        measured = measure(app, options)
    results, notes = build_results(measured, options)
    notes += app_notes(app)
    publish(
        SuiteReport(
            suite="catalog",
            title="catalog reads against a trivial JSON route",
            project_label="catalog route",
            baseline_label="`GET /api/v1/ping`",
            results=results,
            notes=notes,
            command=suite_command("catalog", argv),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
