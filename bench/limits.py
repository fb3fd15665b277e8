"""Suite ``limits``: what other clients see while ONE client drives a worst case (issue 17's "Done when").

One ``learning serve`` (granian, 1 worker, the shipped content synced at start, ``LEARNING_JOBS_IN_PROCESS=
false``, ``LEARNING_TRUSTED_PROXIES=127.0.0.1`` so that a registration can name its client in
``X-Forwarded-For``, every limit at its default). The "other clients": two wrk runs at once, ``-t1 -c4`` each,
one on ``GET /api/v1/ping`` and one on the edge-cached ``GET /api/v1/modules/dix-ans-de-recherche``. The
unloaded baseline is the same pair of wrk runs with nothing else going on, measured before every case and once
after the last (the median of these runs is the baseline of every ratio). The cases, one at a time, each
started a second before the observers' window and stopped after it:

0. ``cpu``, the control (informational): one process beside the app spinning on a CPU, no request at all. The
   machine has few cores, shared with other work: what the observers lose here is the machine's doing, so a
   case's ratio near the control's says little about the app, and one far above it does.

1. ``xapi``: a learner with 100,000 ``played`` events (10 posted through the API, the rest inserted into
   ``progress_event`` directly, 7 s apart) pages through ``GET /api/v1/me/xapi/statements?limit=500``
   following ``more``, one keep-alive connection, as fast as it can. It starts at the page of the 75,000th
   event (the cursor its ``more`` link would carry, made with the app's ``cursor_of``): the export's last and
   dearest quarter (each page unions the segments played before it), which a window of seconds would never
   reach from the first page; at the end it starts over from there. The app paces each caller's pages
   (``LEARNING_XAPI_PAGE_BURST`` at once, then ``LEARNING_XAPI_PAGES_PER_SECOND``, as shipped): the driver's
   pages wait their turn, and what the others see is what a client following ``more`` costs them.
2. ``stalled PATCHes``: an admin opens 20 tus uploads (8 MiB declared each) and sends on 20 raw sockets a PATCH
   whose headers announce 8 MiB, then 1 MiB of body, then nothing (the sockets stay open until the case ends).
3. ``registrations, 100 clients``: 100 threads keep 100 ``POST /api/v1/auth/register`` in flight, each
   request from a new client address (``X-Forwarded-For``), so no per-client limit applies: what 100 people
   signing up at once cost (argon2 hashing, bounded by ``LEARNING_PASSWORD_HASH_CONCURRENCY``).
4. ``registrations, 1 client``: the same 100 threads from one address: the per-client limit (10 an hour) lets
   10 through and answers 429 to the rest, which is the behaviour measured.
5. ``progress flood``: one learner, 4 keep-alive connections, batches of 100 fresh ``played`` events as fast as
   the answers come; past the quota (1200 events a minute) the answers are 429 with ``Retry-After``, which the
   flooder ignores.

Targets per case: the observers' p99 at most 3× the unloaded p99 (each URL), and the app's resident memory
(``App.rss()``, the process tree, sampled every 0.5 s from the case's start to its end) growing by less than
200 MB. Informational: the driving client's 5xx answers, the app's and the drivers' CPU. The observers are
closed-loop (each connection sends its next request when the last is answered) and neither touches the
database, so what the rows show is the event loop's and the CPUs' share, not the connection pool's.

And a resume after a half-open PATCH: a PATCH sends half of a 2 MiB upload and stalls (socket open,
like a phone losing its network); 1.5 s later a new client sends HEAD then a PATCH of the rest from the offset
HEAD gave; target: the new PATCH answered within 1 s of the HEAD's start (the server cuts the stalled PATCH,
keeping its bytes). Five resumes; the worst counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench.harness import (
    HOST,
    App,
    Result,
    SuiteReport,
    WrkRun,
    bench_database,
    ensure_wrk,
    publish,
    run_wrk,
    running_app,
    suite_command,
)
from bench.uploads import RssSampler, tree_cpu_seconds
from learning.config import Settings
from learning.progress.xapi import EVENTS as EVENTS_SECTION
from learning.progress.xapi import cursor_of

PORT = 18700
MODULE = "dix-ans-de-recherche"
PING = "/api/v1/ping"
MODULE_PATH = f"/api/v1/modules/{MODULE}"
UPLOADS = "/api/v1/admin/uploads/"
XAPI = "/api/v1/me/xapi/statements"
EVENTS = "/api/v1/me/progress/events"
ADMIN_EMAIL = "bench-limits@example.org"
ADMIN_PASSWORD = "bench-limits-passphrase"  # noqa: S105 — a throwaway account of the bench database
MB = 1_000_000
MIB = 1024 * 1024
P99_TARGET = 3.0
RSS_BUDGET_MB = 200.0
RESUME_TARGET_S = 1.0
XAPI_EVENTS = 100_000
XAPI_PAGE = 500
STALLED = 20
STALLED_LENGTH = 8 * MIB
STALLED_SENT = 1 * MIB
REGISTRATIONS = 100
FLOOD_CONNECTIONS = 4
FLOOD_BATCH = 100
RESUME_LENGTH = 2 * MIB
RESUMES = 5
WARM_S = 1.0  # the case runs this long before the observers start
SEED_START = datetime(2025, 1, 1, tzinfo=UTC)  # the seeded events' client times: from here, 7 s apart
SEED_STEP_S = 7


# --- HTTP from the bench process -----------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to the app (reopened after an error)."""

    def __init__(self, app: App, timeout: float = 30.0) -> None:
        self.port = app.port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, token: str | None = None, **extra: str) -> Any:
        headers = {"Content-Type": "application/json", **extra} if body is not None else dict(extra)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _, data = self.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def problem_title(data: bytes) -> str:
    """The ``title`` (and ``detail``) of a problem+json answer."""
    try:
        problem = json.loads(data)
        return f"“{problem.get('title', '?')}: {problem.get('detail', '')}”"
    except (ValueError, AttributeError):
        return repr(data[:80])


DRIVER_ADDRESS = "203.0.113.66"  # the one driving client's own address (the observers come from 127.0.0.1)


def fake_client(n: int) -> str:
    """A distinct client address for ``X-Forwarded-For`` (10.0.0.0/8, never 127.0.0.1)."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 1}"


def learner(app: App, n: int, run: str) -> tuple[str, str]:
    """A new learner enrolled in the module: (token, user id)."""
    client = Client(app)
    email = f"bench-limits-{run}-{n}@example.org"
    password = f"bench-limits-{secrets.token_urlsafe(12)}"
    forwarded = {"X-Forwarded-For": fake_client(60_000 + n)}
    client.json("POST", "/api/v1/auth/register", {"email": email, "password": password}, **forwarded)
    token = client.json("POST", "/api/v1/auth/login", {"email": email, "password": password}, **forwarded)[
        "access_token"
    ]
    client.json("POST", "/api/v1/me/enrollments", {"module": MODULE}, token)
    user_id = client.json("GET", "/api/v1/me/", token=token)["id"]
    client.close()
    return token, str(user_id)


def admin_token(app: App) -> str:
    subprocess.run(
        [sys.executable, "-m", "learning.cli", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        input=ADMIN_PASSWORD + "\n", env=app.env, cwd=app.log_path.parent, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    client = Client(app)
    body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = str(
        client.json("POST", "/api/v1/auth/login", body, **{"X-Forwarded-For": fake_client(70_000)})["access_token"]
    )
    client.close()
    return token


def video_lessons(app: App) -> list[tuple[str, int]]:
    module = Client(app).json("GET", MODULE_PATH)
    found = [
        (str(x["id"]), int(x["duration_seconds"]))
        for x in module["lessons"]
        if x["kind"] == "video" and x.get("duration_seconds")
    ]
    if not found:
        raise RuntimeError("the module has no video lesson with a duration")
    return found


def played(lesson: tuple[str, int], at: int, stamp: str) -> dict[str, Any]:
    start = at % max(1, lesson[1] - 5)
    return {"id": str(uuid.uuid4()), "type": "played", "lesson_id": lesson[0], "from": start, "to": start + 5,
            "client_time": stamp}  # fmt: skip


# --- the observers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    ping: WrkRun
    module: WrkRun


def observe(app: App, seconds: int) -> Observed:
    """The other clients: wrk on the ping and on the cached module, at the same time."""
    runs: dict[str, WrkRun] = {}

    def one(name: str, path: str) -> None:
        runs[name] = run_wrk(app.url(path), connections=4, threads=1, duration_s=seconds, launcher=observer_launcher())

    threads = [threading.Thread(target=one, args=(n, p)) for n, p in (("ping", PING), ("module", MODULE_PATH))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if set(runs) != {"ping", "module"}:
        raise RuntimeError("an observer's wrk failed")
    return Observed(runs["ping"], runs["module"])


# --- the cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """A worst case: ``start`` begins it (returns at once, driving it in threads), ``stop`` ends it and
    returns what the driver saw, as lines for the notes."""

    key: str
    title: str
    start: Callable[[], None]
    stop: Callable[[], list[str]]
    statuses: Counter[int] | None = None  # the driving client's answers by status, when it counts them


@dataclass
class CaseRun:
    case: Case
    observed: Observed
    rss_before: int
    rss_peak: int
    facts: list[str] = field(default_factory=list)
    app_cpu_s: float = 0.0  # the server's process tree, from the case's start to its end
    bench_cpu_s: float = 0.0  # this process (the drivers), same span
    seconds: float = 0.0

    @property
    def growth_mb(self) -> float:
        return max(0, self.rss_peak - self.rss_before) / MB


class Drivers:
    """The threads of a case and its stop flag."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def spawn(self, target: Callable[[], None], count: int = 1) -> None:
        def driver() -> None:
            lowest_priority()
            target()

        for _ in range(count):
            thread = threading.Thread(target=driver, daemon=True)
            self.threads.append(thread)
            thread.start()

    def join(self, timeout: float = 60.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.threads = [t for t in self.threads if t.is_alive()]
        if self.threads:
            raise RuntimeError(f"{len(self.threads)} driver threads still running after {timeout:.0f} s")
        self.stop = threading.Event()


# --- where each side runs ------------------------------------------------------------------------------
# The clients of a real service run on other machines: a flooding client's own CPU is not the server's. On
# one machine the drivers (Python threads building requests as fast as they can) would otherwise take CPU from
# the server and from the observers, and the ratios would measure the machine. With two CPUs or more: the
# server (the app's process tree, every thread, and PostgreSQL's) on the first CPU, the clients on the others;
# there the drivers run at the lowest priority, so the observers (wrk) get a CPU when they need one.
DRIVER_NICENESS = 19


@functools.cache
def observer_launcher() -> tuple[str, ...]:
    """The observers are probes: on the clients' CPU they run first (real-time FIFO, when the system allows
    it: ``chrt -f 10``), and the drivers only when nothing else wants that CPU (SCHED_IDLE)."""
    try:
        subprocess.run(["chrt", "-f", "10", "true"], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ()
    return ("chrt", "-f", "10")


@dataclass(frozen=True)
class Placement:
    server: frozenset[int]
    clients: frozenset[int]

    @classmethod
    def of_this_machine(cls) -> Placement | None:
        cpus = sorted(os.sched_getaffinity(0))
        return cls(frozenset(cpus[:1]), frozenset(cpus[1:])) if len(cpus) >= 2 else None

    def describe(self) -> str:
        return f"server on CPU {sorted(self.server)}, clients on CPU {sorted(self.clients)}"


def place_tree(root: int, cpus: frozenset[int]) -> int:
    """Pin every thread of ``root`` and its descendants to ``cpus`` (threads they start later inherit it)."""
    placed = 0
    parent = psutil.Process(root)
    for process in [parent, *parent.children(recursive=True)]:
        with contextlib.suppress(psutil.Error, OSError):
            for thread in process.threads():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(thread.id, cpus)
                    placed += 1
    return placed


async def postmaster_pid(database_url: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        data_directory = await connection.fetchval("SHOW data_directory")
    finally:
        await connection.close()
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def lowest_priority() -> None:
    """Run the calling thread (a driver) after everything else on its CPUs."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DRIVER_NICENESS)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))


def ms_p99(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000 if ordered else float("nan")


def xapi_case(app: App, token: str, start: str) -> Case:
    """Pages from ``start`` to the end of the export, following ``more``, then again from ``start``."""
    drivers = Drivers()
    pages: list[float] = []
    ends: list[float] = []  # seconds from ``start`` to the last page, per pass
    statuses: Counter[int] = Counter()
    statements = [0]

    def export() -> None:
        client = Client(app)
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": DRIVER_ADDRESS}
        while not drivers.stop.is_set():
            began = time.perf_counter()
            path: str | None = start
            while path and not drivers.stop.is_set():
                t0 = time.perf_counter()
                status, _, data = client.request("GET", path, headers=headers)
                pages.append(time.perf_counter() - t0)
                statuses[status] += 1
                if status != 200:
                    break
                body = json.loads(data)
                statements[0] += len(body["statements"])
                more = body.get("more") or ""
                path = urllib.parse.urlsplit(more)._replace(scheme="", netloc="").geturl() if more else None
                if path is None:
                    ends.append(time.perf_counter() - began)
        client.close()

    def stop() -> list[str]:
        drivers.join()
        passes = f"reached the end {len(ends)} times ({' · '.join(f'{s:.1f} s' for s in ends)})" if ends else ""
        return [
            f"{len(pages)} pages of ≤ {XAPI_PAGE} statements ({statements[0]:,} statements), answers "
            f"{dict(sorted(statuses.items()))}, page time median {statistics.median(pages) * 1000:.0f} ms, "
            f"p99 {ms_p99(pages):.0f} ms{'; ' + passes if passes else ''}"
        ]

    title = f"xAPI export of {XAPI_EVENTS:,} events (its last quarter)"
    return Case("xapi", title, lambda: drivers.spawn(export), stop, statuses)


def tus_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", "X-Forwarded-For": DRIVER_ADDRESS, **extra}


def create_upload(app: App, token: str, length: int) -> str:
    """A new upload's path (the Location's)."""
    metadata = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"filename": "stall.mp4", "target": "session:2019-03"}.items()
    )
    status, headers, data = Client(app).request(
        "POST", UPLOADS, headers=tus_headers(token, **{"Upload-Length": str(length), "Upload-Metadata": metadata})
    )
    if status != 201:
        raise RuntimeError(f"creating an upload answered {status}: {data[:300]!r}")
    return urllib.parse.urlsplit(headers["location"]).path


def stalled_patch(app: App, token: str, path: str, offset: int, length: int, sent: int) -> socket.socket:
    """A raw socket that sent a PATCH's headers (``length`` bytes announced) and ``sent`` bytes of its body."""
    sock = socket.create_connection((HOST, app.port), timeout=30)
    head = [f"PATCH {path} HTTP/1.1", f"Host: {HOST}:{app.port}", f"Authorization: Bearer {token}",
            "Tus-Resumable: 1.0.0", f"Upload-Offset: {offset}", "Content-Type: application/offset+octet-stream",
            f"Content-Length: {length}"]  # fmt: skip
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"\0" * sent)
    return sock


def answer_of(sock: socket.socket, timeout: float) -> str:
    """The status line the server sent on a stalled socket (or what happened instead)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return "no answer"
    except OSError as exc:
        return type(exc).__name__
    return data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed"


def stalls_case(app: App, token: str) -> Case:
    sockets: list[socket.socket] = []
    paths: list[str] = []

    def start() -> None:
        for _ in range(STALLED):
            path = create_upload(app, token, STALLED_LENGTH)
            paths.append(path)
            sockets.append(stalled_patch(app, token, path, 0, STALLED_LENGTH, STALLED_SENT))

    def stop() -> list[str]:
        client = Client(app)
        offsets = Counter(
            client.request("HEAD", p, headers=tus_headers(token))[1].get("upload-offset", "?") for p in paths
        )
        for sock in sockets:
            sock.shutdown(socket.SHUT_WR)  # the client gives up: the body ends short
        answers = Counter(answer_of(sock, 10.0) for sock in sockets)
        for sock in sockets:
            sock.close()
        gone = Counter(client.request("DELETE", p, headers=tus_headers(token))[0] for p in paths)
        client.close()
        facts = [
            f"{STALLED} PATCHes stalled after {STALLED_SENT // MIB} MiB of {STALLED_LENGTH // MIB} MiB: HEAD "
            f"during the stall reported Upload-Offset {dict(offsets)}; after the sockets were half-closed the "
            f"PATCHes answered {dict(answers)}; DELETE answered {dict(gone)}"
        ]
        sockets.clear()
        paths.clear()
        return facts

    return Case("stalls", f"{STALLED} stalled tus PATCHes", start, stop)


def registrations_case(app: App, *, distinct: bool) -> Case:
    drivers = Drivers()
    statuses: Counter[int] = Counter()
    times: dict[int, list[float]] = {}
    titles: Counter[str] = Counter()
    counter = iter(range(1, 10_000_000))
    lock = threading.Lock()
    run = uuid.uuid4().hex[:8]

    def register() -> None:
        client = Client(app)
        while not drivers.stop.is_set():
            with lock:
                n = next(counter)
            # Each of 100 people from their own address, or one client from its own: never the observers'.
            headers = {
                "Content-Type": "application/json",
                "X-Forwarded-For": fake_client(n) if distinct else DRIVER_ADDRESS,
            }
            body = {"email": f"bench-{run}-{n}@example.org", "password": f"bench-{secrets.token_urlsafe(12)}"}
            t0 = time.perf_counter()
            try:
                status, _, data = client.request("POST", "/api/v1/auth/register", json.dumps(body).encode(), headers)
            except OSError:
                status, data = 0, b"{}"
            with lock:
                statuses[status] += 1
                if status != 201:
                    titles[f"{status} {problem_title(data)}"] += 1
                times.setdefault(status, []).append(time.perf_counter() - t0)
        client.close()

    def stop() -> list[str]:
        drivers.join()
        per_status = "; ".join(
            f"{status}: {statuses[status]} (median {statistics.median(times[status]) * 1000:.0f} ms, p99 "
            f"{ms_p99(times[status]):.0f} ms)"
            for status in sorted(statuses)
        )
        shown = ", ".join(f"{title} ×{n}" for title, n in titles.most_common())
        return [f"{sum(statuses.values())} registrations answered — {per_status}; refusals: {shown or 'none'}"]

    who = f"{REGISTRATIONS} clients" if distinct else "1 client"
    return Case(
        "register" if distinct else "register-1",
        f"{REGISTRATIONS} concurrent registrations, {who}",
        lambda: drivers.spawn(register, REGISTRATIONS),
        stop,
        statuses,
    )


def flood_case(app: App, token: str, lessons: list[tuple[str, int]]) -> Case:
    drivers = Drivers()
    statuses: Counter[int] = Counter()
    retry_after: Counter[str] = Counter()
    times: list[float] = []
    lock = threading.Lock()

    def flood() -> None:
        client = Client(app)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-Forwarded-For": DRIVER_ADDRESS,
        }
        n = 0
        while not drivers.stop.is_set():
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            events = [played(lessons[(n + i) % len(lessons)], 5 * (n + i), stamp) for i in range(FLOOD_BATCH)]
            n += FLOOD_BATCH
            t0 = time.perf_counter()
            status, answer, _ = client.request("POST", EVENTS, json.dumps({"events": events}).encode(), headers)
            with lock:
                times.append(time.perf_counter() - t0)
                statuses[status] += 1
                if status == 429:
                    retry_after[answer.get("retry-after", "none")] += 1
        client.close()

    def stop() -> list[str]:
        drivers.join()
        shown = ", ".join(f"{k} s ×{v}" for k, v in sorted(retry_after.items(), key=lambda kv: -kv[1])[:3])
        return [
            f"{sum(statuses.values())} batches of {FLOOD_BATCH} on {FLOOD_CONNECTIONS} connections: answers "
            f"{dict(sorted(statuses.items()))}, median {statistics.median(times) * 1000:.1f} ms, p99 "
            f"{ms_p99(times):.1f} ms; Retry-After on the 429s: {shown or '—'}"
        ]

    title = "a learner flooding progress events"
    return Case("flood", title, lambda: drivers.spawn(flood, FLOOD_CONNECTIONS), stop, statuses)


def unloaded(app: App, seconds: int, cores: list[float]) -> Observed:
    """The observers alone; the app's CPU use meanwhile (in cores) is appended to ``cores``."""
    cpu, began = tree_cpu_seconds(app.process.pid), time.perf_counter()
    observed = observe(app, seconds)
    cores.append((tree_cpu_seconds(app.process.pid) - cpu) / (time.perf_counter() - began))
    return observed


def cpu_case() -> Case:
    """The control: one process beside the app spinning on a CPU, no request at all. What the observers lose
    here is the machine's, not the app's: a case's ratio near this one says little about the app."""
    spinners: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        # A client-side process like the drivers (same CPUs, same priority): the control shows how much the
        # clients' own CPU use still reaches the observers' figures.
        spinners.append(
            subprocess.Popen(["nice", "-n", str(DRIVER_NICENESS), sys.executable, "-c", "while True: pass"])
        )

    def stop() -> list[str]:
        for spinner in spinners:
            spinner.kill()
            spinner.wait(timeout=10)
        spinners.clear()
        return ["one `python -c 'while True: pass'` process"]

    return Case("cpu", "control: one CPU-bound process beside the app, no request", start, stop)


def run_case(app: App, case: Case, seconds: int) -> CaseRun:
    cpu, mine, began = tree_cpu_seconds(app.process.pid), time.process_time(), time.perf_counter()
    with RssSampler(app.process.pid) as sampler:
        case.start()
        try:
            time.sleep(WARM_S)
            observed = observe(app, seconds)
        finally:
            facts = case.stop()
    return CaseRun(
        case, observed, sampler.before, sampler.peak, facts, tree_cpu_seconds(app.process.pid) - cpu,
        time.process_time() - mine, time.perf_counter() - began,
    )  # fmt: skip


# --- the resume after a half-open PATCH -------------------------------------------------------------


@dataclass(frozen=True)
class Resume:
    seconds: float  # HEAD's start to the new PATCH's answer
    head_offset: int
    status: int
    final_offset: int
    stalled_answer: str


def resume_once(app: App, token: str) -> Resume:
    path = create_upload(app, token, RESUME_LENGTH)
    half = RESUME_LENGTH // 2
    stalled = stalled_patch(app, token, path, 0, RESUME_LENGTH, half)
    try:
        time.sleep(1.5)  # the phone lost its network; it comes back on another connection
        client = Client(app)
        began = time.perf_counter()
        _, head, _ = client.request("HEAD", path, headers=tus_headers(token))
        offset = int(head.get("upload-offset", "0"))
        rest = b"\0" * (RESUME_LENGTH - offset)
        patch_headers = tus_headers(
            token, **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        )
        status, answer, _ = client.request("PATCH", path, rest, patch_headers)
        seconds = time.perf_counter() - began
        client.close()
        stalled_answer = answer_of(stalled, 5.0)
    finally:
        stalled.close()
    return Resume(seconds, offset, status, int(answer.get("upload-offset", "-1")), stalled_answer)


# --- seeding the xAPI learner ------------------------------------------------------------------------


async def _seed(dsn: str, user_id: str, lessons: list[tuple[str, int]], count: int) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        ids = [uuid.UUID(lesson) for lesson, _ in lessons]
        durations = [max(10, duration) for _, duration in lessons]
        await conn.execute(
            """
            INSERT INTO progress_event (id, user_id, lesson_id, kind, client_time, start_seconds, end_seconds)
            SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + g % cardinality($2::uuid[])], 'played',
                   $5::timestamptz + g * make_interval(secs => $6),
                   (g * 5) % (($3::int[])[1 + g % cardinality($2::uuid[])] - 5),
                   (g * 5) % (($3::int[])[1 + g % cardinality($2::uuid[])] - 5) + 5
            FROM generate_series(1, $4) AS g
            """,
            uuid.UUID(user_id), ids, durations, count, SEED_START, SEED_STEP_S,
        )  # fmt: skip
        await conn.execute("ANALYZE progress_event")
        return int(await conn.fetchval("SELECT count(*) FROM progress_event WHERE user_id = $1", uuid.UUID(user_id)))
    finally:
        await conn.close()


def seed_xapi_learner(app: App, database_url: str, lessons: list[tuple[str, int]]) -> tuple[str, int, str]:
    """A learner with XAPI_EVENTS played events: 10 through the API (its progress rows), the rest by SQL."""
    token, user_id = learner(app, 1, uuid.uuid4().hex[:8])
    client = Client(app)
    events = [played(lessons[i % len(lessons)], 5 * i, "2024-12-31T23:59:00Z") for i in range(10)]
    client.json("POST", EVENTS, {"events": events}, token)
    client.close()
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    stored = asyncio.run(_seed(dsn, user_id, lessons, XAPI_EVENTS - 10))
    # The page that starts at the 75,000th event: what the export's `more` link names there.
    moment = SEED_START + timedelta(seconds=SEED_STEP_S * (XAPI_EVENTS * 3 // 4))
    cursor = cursor_of((EVENTS_SECTION, moment, uuid.UUID(int=0), 0))
    start = f"{XAPI}?{urllib.parse.urlencode({'limit': XAPI_PAGE, 'cursor': cursor})}"
    return token, stored, start


# --- the run and the report --------------------------------------------------------------------------


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - began:.1f} s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds of each observers' window")
    known = ["cpu", "xapi", "stalls", "register", "register-1", "flood"]
    parser.add_argument("--cases", nargs="+", choices=known, default=known, help="each at most once")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if len(set(args.cases)) != len(args.cases):
        parser.error("a case counts its answers from the start of the run: name each case at most once")
    ensure_wrk()
    env = {
        "LEARNING_CONTENT_SYNC_ON_START": "true",
        "LEARNING_JOBS_IN_PROCESS": "false",
        "LEARNING_STORAGE_BACKEND": "local",
        "LEARNING_TRUSTED_PROXIES": "127.0.0.1",
        # One client's share of the loop as shipped (the harness lifts it for the throughput suites).
        "LEARNING_CLIENT_CONCURRENCY": str(Settings.model_fields["client_concurrency"].default),
        "LEARNING_CLIENT_WAITING_LIMIT": str(Settings.model_fields["client_waiting_limit"].default),
    }
    baselines: list[Observed] = []
    base_cores: list[float] = []  # the app's CPU (cores) during each unloaded run
    runs: list[CaseRun] = []
    resumes: list[Resume] = []
    with (
        bench_database() as database_url,
        running_app("limits", database_url, port=PORT, env=env, ready_timeout_s=240) as app,
    ):
        placement = Placement.of_this_machine()
        if placement is not None:
            os.sched_setaffinity(0, placement.clients)  # this thread: the drivers and wrk start from it
            placed = place_tree(app.process.pid, placement.server)
            placed += place_tree(asyncio.run(postmaster_pid(database_url)), placement.server)
            print(f"  placement       {placement.describe()} ({placed} server threads pinned)", flush=True)
        lessons = video_lessons(app)
        admin = admin_token(app)
        with timed(f"seeding {XAPI_EVENTS:,} events"):
            xapi_token, stored, xapi_start = seed_xapi_learner(app, database_url, lessons)
        flood_token, _ = learner(app, 2, uuid.uuid4().hex[:8])
        cases = {
            "cpu": cpu_case(),
            "xapi": xapi_case(app, xapi_token, xapi_start),
            "stalls": stalls_case(app, admin),
            "register": registrations_case(app, distinct=True),
            "register-1": registrations_case(app, distinct=False),
            "flood": flood_case(app, flood_token, lessons),
        }
        observe(app, 2)  # warm-up, unmeasured
        rss_start = sum(app.rss())
        for key in args.cases:
            baselines.append(base := unloaded(app, args.duration, base_cores))
            print(
                f"  unloaded        ping p99 {base.ping.p99_ms:7.2f} ms  module p99 {base.module.p99_ms:7.2f} ms",
                flush=True,
            )
            done = run_case(app, cases[key], args.duration)
            runs.append(done)
            print(
                f"  {key:<14}  ping p99 {done.observed.ping.p99_ms:7.2f} ms  module p99 "
                f"{done.observed.module.p99_ms:7.2f} ms  RSS +{done.growth_mb:.0f} MB  {'; '.join(done.facts)}",
                flush=True,
            )
        baselines.append(base := unloaded(app, args.duration, base_cores))
        print(
            f"  unloaded        ping p99 {base.ping.p99_ms:7.2f} ms  module p99 {base.module.p99_ms:7.2f} ms",
            flush=True,
        )
        for _ in range(RESUMES):
            resumes.append(done_resume := resume_once(app, admin))
            print(f"  resume          {done_resume}", flush=True)
        rss_end = sum(app.rss())
        levels = app.log_levels()

    base_ping = statistics.median(b.ping.p99_ms for b in baselines)
    base_module = statistics.median(b.module.p99_ms for b in baselines)
    ping_cmd = baselines[0].ping.command + " (and the same on the module, at once)"
    module_cmd = baselines[0].module.command + " (and the same on the ping, at once)"
    results: list[Result] = []
    for done in runs:
        title = done.case.title
        control = done.case.key == "cpu"  # informational: the machine's share, not the app's
        target = None if control else P99_TARGET
        results += [
            Result(f"{title}: ping p99 of other clients", done.observed.ping.p99_ms, base_ping, "p99 ms", ping_cmd,
                   target=target, higher_is_better=False),
            Result(f"{title}: cached module p99 of other clients", done.observed.module.p99_ms, base_module,
                   "p99 ms", module_cmd, target=target, higher_is_better=False),
        ]  # fmt: skip
        if not control:
            results.append(
                Result(f"{title}: app RSS growth (baseline column: the budget)", done.growth_mb, RSS_BUDGET_MB, "MB",
                       "psutil RSS of the server's process tree every 0.5 s from the case's start to its end",
                       target=1.0, higher_is_better=False)
            )  # fmt: skip
        if done.case.statuses is not None:
            answers = done.case.statuses
            results.append(
                Result(f"{title}: the driving client's answers 5xx or no answer (informational; baseline column: "
                       "its answers)", sum(n for status, n in answers.items() if status >= 500 or status == 0),
                       sum(answers.values()), "count", "the driver's count of statuses", higher_is_better=False)
            )  # fmt: skip
    if resumes:
        worst = max(resumes, key=lambda r: r.seconds)
        results.append(
            Result(
                f"resume after a half-open PATCH: HEAD + PATCH answered, worst of {len(resumes)} (baseline column: "
                "the 1 s target)",
                worst.seconds, RESUME_TARGET_S, "s",
                "raw socket PATCH of 2 MiB stalled after 1 MiB; 1.5 s later http.client HEAD then PATCH of the rest",
                target=1.0, higher_is_better=False,
            )
        )  # fmt: skip
    errors = sum(r.observed.ping.errors + r.observed.module.errors for r in runs)
    errors += sum(b.ping.errors + b.module.errors for b in baselines)
    total = sum(r.observed.ping.requests + r.observed.module.requests for r in runs)
    total += sum(b.ping.requests + b.module.requests for b in baselines)
    results.append(
        Result("observers' answers not 2xx/3xx and socket errors (baseline column: requests)", errors, total,
               "count", "wrk's error counts", target=0.0, higher_is_better=False)
    )  # fmt: skip

    notes = [
        "Unloaded p99 (the baseline of every ratio, median of the runs before each case and after the last): "
        f"ping {base_ping:.2f} ms, module {base_module:.2f} ms; per run: ping "
        f"{' · '.join(f'{b.ping.p99_ms:.2f}' for b in baselines)} ms, module "
        f"{' · '.join(f'{b.module.p99_ms:.2f}' for b in baselines)} ms; requests/s unloaded (median) ping "
        f"{statistics.median(b.ping.requests_per_second for b in baselines):,.0f}, module "
        f"{statistics.median(b.module.requests_per_second for b in baselines):,.0f}.",
    ]
    for done in runs:
        ping_ratio = done.observed.ping.p99_ms / base_ping
        module_ratio = done.observed.module.p99_ms / base_module
        verdict = (
            "met" if max(ping_ratio, module_ratio) <= P99_TARGET and done.growth_mb < RSS_BUDGET_MB else "**missed**"
        )
        verdict = "informational" if done.case.key == "cpu" else verdict
        notes.append(
            f"{done.case.title}: ping p99 ×{ping_ratio:.2f}, module p99 ×{module_ratio:.2f} (target ≤ "
            f"{P99_TARGET:g}), RSS +{done.growth_mb:.0f} MB from {done.rss_before / MB:.0f} MB (budget "
            f"{RSS_BUDGET_MB:.0f}) — {verdict}. "
            f"Observers' requests/s: ping {done.observed.ping.requests_per_second:,.0f}, module "
            f"{done.observed.module.requests_per_second:,.0f}. App CPU {done.app_cpu_s / done.seconds:.2f} cores "
            f"(unloaded: {statistics.median(base_cores):.2f}), the drivers' {done.bench_cpu_s / done.seconds:.2f}. "
            f"The driver saw: {'; '.join(done.facts)}."
        )
    if resumes:
        notes.append(
            "Resume after a half-open PATCH: seconds per resume "
            f"{' · '.join(f'{r.seconds:.3f}' for r in resumes)}; HEAD offsets "
            f"{sorted({r.head_offset for r in resumes})} (the stalled PATCH sent {RESUME_LENGTH // 2:,} bytes); the "
            f"new PATCH answered {dict(Counter(r.status for r in resumes))} with Upload-Offset "
            f"{sorted({r.final_offset for r in resumes})}; "
            f"the stalled PATCH's socket then got {dict(Counter(r.stalled_answer for r in resumes))}."
        )
    notes += [
        f"Setup: xAPI learner's events stored: {stored:,} (`played`, spread over the module's {len(lessons)} video "
        "lessons, 7 s apart); the flooding learner, the xAPI learner and the admin log in from distinct "
        "`X-Forwarded-For` addresses, so their registrations and logins do not count against 127.0.0.1. Every "
        "limit is at its default (registrations 10 per client per hour, progress 1200 events a minute per "
        "learner, password hashing one at a time — argon2id 19 MiB, 2 passes, one lane — with a 10 s wait, tus "
        "body timeout 60 s, one client's share of the loop 8 requests at once); the drivers send from "
        f"{DRIVER_ADDRESS} (`X-Forwarded-For`), the observers from 127.0.0.1.",
        (
            f"Placement: {placement.describe()} — the clients of a real service run on other machines, so the "
            "server (the app's every thread and PostgreSQL) gets a CPU of its own and the drivers run at nice "
            f"{DRIVER_NICENESS} under SCHED_IDLE beside the observers (wrk, "
            f"{' '.join(observer_launcher()) or 'nice 0'}). The control case is a client-side CPU hog "
            "placed like a driver: its ratio shows how much the clients' own CPU use still reaches the figures."
            if placement is not None
            else "Placement: one CPU — the app, PostgreSQL, wrk and the drivers share it, so the ratios are upper "
            "bounds on what the app lets one client cost the others."
        ),
        f"App tree RSS {rss_start / MB:.0f} MB before the first case, {rss_end / MB:.0f} MB at the end; exit "
        f"status {app.process.returncode} after SIGTERM; stderr lines by level {dict(sorted(levels.items()))}.",
    ]
    publish(
        SuiteReport(
            suite="limits",
            title="what other clients see while one client drives a worst case",
            project_label="during the case",
            baseline_label="unloaded, or the budget",
            results=results,
            notes=notes,
            command=suite_command("limits", argv),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
