"""Suite ``media``: the media endpoint ``GET|HEAD /media/{asset_id}/{name}.{ext}`` (issue 4's targets).

Phase 1, local store: one ``learning serve`` (granian, 1 worker) syncs at start a content folder whose module
``bench`` has two video lessons, a 256 MiB file (random bytes) and a 1 GiB one (mostly zeros): each is a
shipped sample MP4 followed by one ``free`` box, so the import's probe accepts it.

- 1 MiB ranges: wrk with a Lua script asking for a random 1 MiB-aligned ``Range`` per request (fixed seed),
  against the app and against nginx (Debian's ``nginx-light``, sendfile on, 1 worker process like the app's
  1 worker) serving the very file of the app's store. Compared in MiB/s; target at least 0.7 (issue 20). For reference,
  the same load against stock Litestar ``File`` (granian, 1 worker): ``File`` has no Range support, so it
  serves 1 MiB files cut from the same file, the same bytes per answer.
- ``Range: bytes=0-1`` probes against ``GET /api/v1/ping`` on the same app, req/s; target at least 0.6.
- memory: 16 curl clients download the 1 GiB file at once, with a plain GET and then with
  ``Range: bytes=0-`` (what browsers send for ``<video>``); the RSS of the server's process tree is sampled
  every 0.5 s; target: it grows by less than 50 MB (the row's ratio is growth / 50 MB, at most 1).

Phase 2, S3 in redirect mode: moto's S3 server and a second app (``LEARNING_STORAGE_BACKEND=s3``,
``LEARNING_MEDIA_DELIVERY=redirect``); GET of the media URL (302 to a presigned URL, which wrk does not follow:
the 302s are the measured answers) against ping on that app, req/s; target at least 0.6.

Every comparison alternates its servers round by round and keeps the median. The big files live under
``bench/.work/media/`` and in the apps' data folders, and are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from litestar import Litestar, get
from litestar.response import File

from bench.harness import (
    HOST,
    ROOT,
    WORK_DIR,
    App,
    Result,
    SuiteReport,
    WrkRun,
    bench_database,
    ensure_wrk,
    fmt,
    free_port,
    parse_wrk,
    publish,
    running_app,
    stop_process,
    suite_command,
)

MIB = 1024 * 1024
MB = 1_000_000
RANGE_FILE_MIB = 256
BIG_FILE_MIB = 1024
REDIRECT_FILE_MIB = 1
SLICES = 64  # 1 MiB files cut for the stock Litestar File reference
SEED = 4
RSS_BUDGET_MB = 50.0
PORTS = {"app": 18400, "nginx": 18401, "file": 18402, "moto": 18403, "s3-app": 18404}
SUITE_DIR = WORK_DIR / "media"
SAMPLE_MP4 = ROOT / "media" / "mooc-video-01.mp4"
NGINX_TEMPLATE = ROOT / "bench" / "nginx" / "media.conf.template"
PING = "/api/v1/ping"
BUCKET = "learning-bench"


@dataclass(frozen=True)
class Options:
    duration_s: int
    warmup_s: int
    rounds: int
    stream_connections: tuple[int, ...]
    probe_connections: int
    rss_clients: int
    rss_seconds: int
    file_baseline: bool


# --- tools ------------------------------------------------------------------------------------------


def ensure_tool(binary: str, package: str) -> str:
    """The path of ``binary``; its Debian ``package`` installed with apt-get (after an update if needed)."""
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if not found:
        raise RuntimeError(f"{binary} is not installed and apt-get could not install {package}")
    return found


# --- the files and the content folder -----------------------------------------------------------------


def write_media_file(path: Path, size: int, *, random_fill: bool) -> None:
    """A playable MP4 (a shipped sample) followed by one ``free`` box up to ``size`` bytes.

    ``random_fill``: the box holds random bytes; else zeros (a sparse file) with a few random 1 MiB blocks.
    """
    head = SAMPLE_MP4.read_bytes()
    box = size - len(head)
    if not 8 <= box < 2**32:
        raise ValueError(f"cannot pad {SAMPLE_MP4.name} to {size} bytes with one box")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I4s", box, b"free"))
        if random_fill:
            remaining = box - 8
            while remaining > 0:
                block = os.urandom(min(4 * MIB, remaining))
                out.write(block)
                remaining -= len(block)
        else:
            out.truncate(size)
            for eighth in range(1, 8):
                out.seek(size * eighth // 8)
                out.write(os.urandom(MIB))


def write_content(folder: Path, module: str, lessons: Mapping[str, tuple[str, int, bool]]) -> None:
    """A content folder: ``modules/<module>/`` with one video lesson per ``(media file, size, random)``."""
    shutil.rmtree(folder, ignore_errors=True)
    module_dir = folder / "modules" / module
    module_dir.mkdir(parents=True)
    (module_dir / "module.yaml").write_text(
        f'title: "Benchmark {module}"\nposition: 1\nstatus: published\n', encoding="utf-8"
    )
    for index, (slug, (media, size, random_fill)) in enumerate(lessons.items(), start=1):
        (module_dir / f"{index:02d}-{slug}.md").write_text(
            f'---\ntitle: "Benchmark {slug}"\nkind: video\ncompletion: coverage\n'
            f"media: {media}\n---\nA file for bench/media.py.\n",
            encoding="utf-8",
        )
        write_media_file(folder / "media" / media, size, random_fill=random_fill)


# --- HTTP without following redirects ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: Mapping[str, str] | None = None, *, method: str = "GET", timeout: float = 30) -> Answer:
    request = urllib.request.Request(url, headers=dict(headers or {}), method=method)  # noqa: S310 — ours
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(int(response.status), _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:  # 3xx (not followed) and errors arrive here
        return Answer(exc.code, _lower(exc.headers.items()), exc.read())


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def status_of(url: str) -> int | None:
    try:
        return fetch(url, timeout=2).status
    except (urllib.error.URLError, OSError):
        return None


def module_media_urls(app: App, module: str) -> list[str]:
    """The media URLs of the module's lessons, in lesson order."""
    answer = fetch(app.url(f"/api/v1/modules/{module}"))
    if answer.status != 200:
        raise RuntimeError(f"GET /api/v1/modules/{module} answered {answer.status}: {answer.body[:300]!r}")
    lessons = sorted(json.loads(answer.body)["lessons"], key=lambda lesson: lesson["position"])
    return [str(lesson["media"]["url"]) for lesson in lessons]


def stored_file(app: App, size: int) -> Path:
    """The object of the app's local store that holds ``size`` bytes (keys are generated: found by size)."""
    root = Path(app.env["LEARNING_DATA_DIR"]) / "media"
    found = [p for p in root.rglob("*") if p.is_file() and p.stat().st_size == size]
    if len(found) != 1:
        raise RuntimeError(f"expected one stored object of {size} bytes under {root}, found {found}")
    return found[0]


def check_range(url: str, expected: bytes, start: int, size: int) -> None:
    """``url`` answers ``Range: bytes=start-…`` with 206 and exactly ``expected``."""
    end = start + len(expected) - 1
    answer = fetch(url, {"Range": f"bytes={start}-{end}"})
    if answer.status != 206 or answer.body != expected:
        raise RuntimeError(f"{url} bytes={start}-{end}: {answer.status}, {len(answer.body)} B (wrong bytes?)")
    content_range = answer.headers.get("content-range")
    if content_range != f"bytes {start}-{end}/{size}":
        raise RuntimeError(f"{url} bytes={start}-{end}: Content-Range {content_range!r}")


# --- background servers -----------------------------------------------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


@contextlib.contextmanager
def background(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    ready_url: str | None = None,
    env: Mapping[str, str] | None = None,
    stop: signal.Signals = signal.SIGTERM,
    ready_timeout_s: float = 60,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in its own process group, logging to ``bench/.work/media/<name>.log``, ready on entry."""
    if _port_open(port):
        raise RuntimeError(f"port {port} is already taken (for {name})")
    SUITE_DIR.mkdir(parents=True, exist_ok=True)
    log_path = SUITE_DIR / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
            if (status_of(ready_url) == 200) if ready_url else _port_open(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {ready_timeout_s:.0f} s (log: {log_path})")
            time.sleep(0.2)
        yield process
    finally:
        stop_process(process, 15, stop)


@contextlib.contextmanager
def nginx_serving(root: Path, preferred_port: int) -> Iterator[str]:
    """nginx (foreground, 1 worker, sendfile on) serving the files of ``root``; yields its base URL."""
    binary = ensure_tool("nginx", "nginx-light")
    port = free_port(preferred_port)
    with tempfile.TemporaryDirectory(prefix="learning-bench-nginx-") as tmp:
        work = Path(tmp)
        fields = {
            "@USER@": pwd.getpwuid(os.geteuid()).pw_name,  # root: workers read the 0600 files of the store
            "@WORK@": str(work),
            "@HOST@": HOST,
            "@PORT@": str(port),
            "@ROOT@": str(root),
        }
        config = NGINX_TEMPLATE.read_text(encoding="utf-8")
        for key, value in fields.items():
            config = config.replace(key, value)
        (work / "nginx.conf").write_text(config, encoding="utf-8")
        argv = [binary, "-p", str(work), "-e", str(work / "error.log"), "-c", str(work / "nginx.conf")]
        with background("nginx", argv, port=port, stop=signal.SIGQUIT):
            yield f"http://{HOST}:{port}"


def file_baseline_app() -> Litestar:
    """Stock Litestar ``File`` serving ``$BENCH_MEDIA_SLICES/<index>.bin`` (a granian factory)."""
    folder = Path(os.environ["BENCH_MEDIA_SLICES"])

    @get("/slice/{index:int}")
    async def slice_file(index: int) -> File:
        return File(folder / f"{index}.bin", media_type="video/mp4", content_disposition_type="inline")

    return Litestar([slice_file], openapi_config=None)


@contextlib.contextmanager
def file_baseline_serving(slices: Path, preferred_port: int) -> Iterator[str]:
    port = free_port(preferred_port)
    argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)]
    argv += ["--workers", "1", "--no-access-log", "--factory", "bench.media:file_baseline_app"]
    env = {"BENCH_MEDIA_SLICES": str(slices), "PYTHONPATH": str(ROOT)}
    with background("litestar-file", argv, port=port, ready_url=f"http://{HOST}:{port}/slice/0", env=env):
        yield f"http://{HOST}:{port}"


@contextlib.contextmanager
def moto_s3(preferred_port: int) -> Iterator[str]:
    port = free_port(preferred_port)
    argv = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with background("moto", argv, port=port):
        yield f"{HOST}:{port}"


# --- load ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    run: WrkRun
    bytes_per_second: float

    @property
    def mib_per_second(self) -> float:
        return self.bytes_per_second / MIB


_TRANSFER = re.compile(r"^Transfer/sec:\s+([\d.]+)([KMGT]?B)\s*$", re.MULTILINE)
_BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}  # wrk's units are binary


def load(url: str, *, connections: int, options: Options, script: str | None = None, script_name: str = "") -> Load:
    """``wrk -t2 -c<connections>`` on ``url`` for ``--duration`` s after an unmeasured ``--warmup``."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        extra: list[str] = []
        if script is not None:
            path = Path(tmp) / (script_name or "request.lua")
            path.write_text(script, encoding="utf-8")
            extra = ["-s", str(path)]

        def run(seconds: int) -> str:
            argv = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", *extra, url]
            return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout

        if options.warmup_s > 0:
            run(options.warmup_s)
        output = run(options.duration_s)
    shown = f"wrk -t2 -c{connections} -d{options.duration_s}s --timeout 10s --latency"
    shown += f" -s {script_name or 'request.lua'}" if script is not None else ""
    transfer = _TRANSFER.search(output)
    if transfer is None:
        raise ValueError(f"no Transfer/sec in wrk output:\n{output}")
    return Load(
        run=parse_wrk(output, command=f"{shown} {url}"),
        bytes_per_second=float(transfer.group(1)) * _BYTE_UNITS[transfer.group(2)],
    )


def ranges_script(slots: int, *, path_prefix: str | None = None) -> str:
    """Lua: each request asks for a random 1 MiB-aligned MiB among ``slots`` (seeded per wrk thread).

    With ``path_prefix``, the MiB is a file ``<prefix><index>`` instead of a ``Range`` of the URL's file.
    """
    if path_prefix is None:
        ask = (
            "  local first = index * 1048576\n"
            '  return wrk.format(nil, nil, {["Range"] = "bytes=" .. first .. "-" .. (first + 1048575)})\n'
        )
    else:
        ask = f'  return wrk.format(nil, "{path_prefix}" .. index)\n'
    return (
        "local threads = 0\n"
        "function setup(thread)\n"
        '  thread:set("thread_number", threads)\n'
        "  threads = threads + 1\n"
        "end\n"
        "function init(args)\n"
        f"  math.randomseed({SEED} + thread_number)\n"
        "end\n"
        "function request()\n"
        f"  local index = math.random(0, {slots - 1})\n" + ask + "end\n"
    )


def probe_script() -> str:
    return 'wrk.headers["Range"] = "bytes=0-1"\n'


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _per_round(values: Sequence[float]) -> str:
    return " · ".join(fmt(v) for v in values)


# --- phase 1: the local store -----------------------------------------------------------------------


@dataclass
class Tally:
    """Every answer under load: the requests, and those that were not 2xx/3xx or failed on the socket."""

    requests: int = 0
    unexpected: int = 0
    where: list[str] = field(default_factory=list)

    def add(self, label: str, run: WrkRun) -> None:
        self.requests += run.requests
        self.unexpected += run.errors
        if run.errors:
            self.where.append(f"{label}: {run.non_2xx_3xx} non-2xx/3xx, {run.socket_errors} socket errors")


@dataclass(frozen=True)
class Streamed:
    """16 clients downloading the big file: RSS of the app's process tree before, at its peak, after."""

    before: int
    peak: int
    after: int
    samples: int
    seconds: float
    statuses: Counter[str]
    downloaded: int

    @property
    def growth_mb(self) -> float:
        return max(0, self.peak - self.before) / MB


def stream_rss(app: App, url: str, *, clients: int, seconds: int, headers: Mapping[str, str]) -> Streamed:
    """``clients`` curl downloads of ``url`` at once (each cut at ``seconds``), RSS sampled every 0.5 s."""
    curl = ensure_tool("curl", "curl")
    time.sleep(1.0)
    before = sum(app.rss())
    argv = [curl, "-s", "-o", "/dev/null", "--max-time", str(seconds), "-w", "%{http_code} %{size_download}"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    started = time.monotonic()
    clients_ = [
        subprocess.Popen([*argv, url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(clients)
    ]
    samples = [before]
    while any(c.poll() is None for c in clients_):
        samples.append(sum(app.rss()))
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    samples.append(sum(app.rss()))
    statuses: Counter[str] = Counter()
    downloaded = 0
    for client in clients_:
        out = (client.communicate()[0] or "").split()
        code = out[0] if out else "?"
        downloaded += int(out[1]) if len(out) > 1 else 0
        # curl exit 28: cut by --max-time while streaming, which is the point; anything else is a failure
        statuses[code if client.returncode in (0, 28) else f"{code} (curl exit {client.returncode})"] += 1
    time.sleep(2.0)
    return Streamed(before, max(samples), sum(app.rss()), len(samples), elapsed, statuses, downloaded)


def phase_local(database_url: str, options: Options) -> tuple[list[Result], list[str], Tally]:
    content = SUITE_DIR / "content-local"
    range_size, big_size = RANGE_FILE_MIB * MIB, BIG_FILE_MIB * MIB
    print(f"  writing {RANGE_FILE_MIB} MiB and {BIG_FILE_MIB} MiB files under {content}", flush=True)
    write_content(
        content,
        "bench",
        {"video": ("bench.mp4", range_size, True), "big": ("bench-big.mp4", big_size, False)},
    )
    env = {"LEARNING_CONTENT_DIR": str(content), "LEARNING_CONTENT_SYNC_ON_START": "true"}
    results: list[Result] = []
    notes: list[str] = []
    tally = Tally()
    app_name = "media-local"
    try:
        with running_app(app_name, database_url, port=PORTS["app"], env=env, ready_timeout_s=240) as app:
            shutil.rmtree(content)  # imported: the store holds copies
            range_url, big_url = module_media_urls(app, "bench")
            stored = stored_file(app, range_size)
            data = stored.read_bytes()
            slices = SUITE_DIR / "slices"
            shutil.rmtree(slices, ignore_errors=True)
            slices.mkdir(parents=True)
            for index in range(SLICES):
                (slices / f"{index}.bin").write_bytes(data[index * MIB : (index + 1) * MIB])
            for start in (0, 7 * MIB, range_size - MIB):
                check_range(range_url, data[start : start + MIB], start, range_size)
            check_range(range_url, data[:2], 0, range_size)
            with contextlib.ExitStack() as stack:
                nginx_base = stack.enter_context(nginx_serving(stored.parent, PORTS["nginx"]))
                nginx_url = f"{nginx_base}/{stored.name}"
                check_range(nginx_url, data[5 * MIB : 6 * MIB], 5 * MIB, range_size)
                targets = {
                    "nginx": (nginx_url, ranges_script(RANGE_FILE_MIB)),
                    "app": (range_url, ranges_script(RANGE_FILE_MIB)),
                }
                if options.file_baseline:
                    file_base = stack.enter_context(file_baseline_serving(slices, PORTS["file"]))
                    answer = fetch(f"{file_base}/slice/3")
                    if answer.status != 200 or answer.body != data[3 * MIB : 4 * MIB]:
                        raise RuntimeError(f"stock File answered {answer.status}, {len(answer.body)} B")
                    targets["Litestar File"] = (
                        f"{file_base}/slice/0",
                        ranges_script(SLICES, path_prefix="/slice/"),
                    )
                for connections in options.stream_connections:
                    more, more_notes = compare_streaming(targets, connections, options, tally)
                    results += more
                    notes += more_notes
            more, more_notes = compare_probe(app, range_url, options, tally)
            results += more
            notes += more_notes
            for label, headers in (("plain GET", {}), ("`Range: bytes=0-`", {"Range": "bytes=0-"})):
                streamed = stream_rss(
                    app, big_url, clients=options.rss_clients, seconds=options.rss_seconds, headers=headers
                )
                name = f"RSS growth, {options.rss_clients} clients streaming 1 GiB ({label})"
                command = (
                    f"{options.rss_clients} × curl -s -o /dev/null --max-time {options.rss_seconds}"
                    + "".join(f" -H '{k}: {v}'" for k, v in headers.items())
                    + f" {big_url}; psutil RSS of the server's process tree every 0.5 s"
                )
                results.append(
                    Result(name, streamed.growth_mb, RSS_BUDGET_MB, "MB", command, 1.0, higher_is_better=False)
                )
                expected = "200" if not headers else "206"
                unexpected = sum(n for code, n in streamed.statuses.items() if code != expected)
                tally.requests += options.rss_clients
                tally.unexpected += unexpected
                if unexpected:
                    tally.where.append(f"{name}: statuses {dict(streamed.statuses)}")
                statuses = ", ".join(f"{n} × {code}" for code, n in sorted(streamed.statuses.items()))
                notes.append(
                    f"{name}: RSS {streamed.before / MB:.0f} MB before, peak {streamed.peak / MB:.0f} MB, "
                    f"{streamed.after / MB:.0f} MB 2 s after ({streamed.samples} samples over "
                    f"{streamed.seconds:.1f} s); {streamed.downloaded / MIB:,.0f} MiB downloaded in all "
                    f"({streamed.downloaded / MIB / streamed.seconds:,.0f} MiB/s); answers: {statuses}."
                )
                print(f"  {notes[-1]}", flush=True)
            notes.append(app_log_note(app))
    finally:
        shutil.rmtree(content, ignore_errors=True)
        shutil.rmtree(SUITE_DIR / "slices", ignore_errors=True)
        shutil.rmtree(WORK_DIR / app_name / "data", ignore_errors=True)  # the store's copies
    return results, notes, tally


def compare_streaming(
    targets: Mapping[str, tuple[str, str | None]], connections: int, options: Options, tally: Tally
) -> tuple[list[Result], list[str]]:
    loads: dict[str, list[Load]] = {name: [] for name in targets}
    for round_ in range(options.rounds):
        for name, (url, script) in targets.items():
            done = load(url, connections=connections, options=options, script=script, script_name="ranges.lua")
            loads[name].append(done)
            tally.add(f"1 MiB ranges, {name}, -c{connections}", done.run)
            print(
                f"  1 MiB ranges -c{connections} round {round_ + 1} {name:13} {done.mib_per_second:8,.0f} MiB/s "
                f"{fmt(done.run.requests_per_second):>7} req/s  p99 {done.run.p99_ms:.1f} ms  "
                f"errors {done.run.errors}",
                flush=True,
            )
    mib = {name: median([x.mib_per_second for x in runs]) for name, runs in loads.items()}
    p99 = {name: median([x.run.p99_ms for x in runs]) for name, runs in loads.items()}
    label = f"random 1 MiB ranges of {RANGE_FILE_MIB} MiB, -c{connections}"
    command = f"{loads['app'][0].run.command} ; {loads['nginx'][0].run.command}"
    results = [
        Result(f"{label}: app / nginx", mib["app"], mib["nginx"], "MiB/s", command, 0.7),
        Result(f"{label}: app / nginx", p99["app"], p99["nginx"], "p99 ms", command, higher_is_better=False),
    ]
    if "Litestar File" in loads:
        results.append(
            Result(
                f"{label}: stock Litestar `File` (1 MiB files) / nginx (reference)",
                mib["Litestar File"],
                mib["nginx"],
                "MiB/s",
                f"{loads['Litestar File'][0].run.command} ; {loads['nginx'][0].run.command}",
            )
        )
    rounds = "; ".join(f"{name} {_per_round([x.mib_per_second for x in runs])}" for name, runs in loads.items())
    return results, [f"{label}, MiB/s per round: {rounds}."]


def compare_probe(app: App, media_url: str, options: Options, tally: Tally) -> tuple[list[Result], list[str]]:
    rps: dict[str, list[float]] = {"probe": [], "ping": []}
    commands: dict[str, str] = {}
    c = options.probe_connections
    for round_ in range(options.rounds):
        for name, url, script in (("probe", media_url, probe_script()), ("ping", app.url(PING), None)):
            done = load(url, connections=c, options=options, script=script, script_name="probe.lua")
            rps[name].append(done.run.requests_per_second)
            commands[name] = done.run.command
            tally.add(f"{name}, local app", done.run)
            print(
                f"  {name:8} -c{c} round {round_ + 1} {fmt(done.run.requests_per_second):>7} req/s  "
                f"p99 {done.run.p99_ms:.1f} ms  errors {done.run.errors}",
                flush=True,
            )
    name = f"`Range: bytes=0-1` probe / `GET {PING}`, same app, -c{c}"
    command = f"{commands['probe']} (probe.lua: Range: bytes=0-1) ; {commands['ping']}"
    result = Result(name, median(rps["probe"]), median(rps["ping"]), "req/s", command, 0.6)
    rounds = f"probe {_per_round(rps['probe'])}; ping {_per_round(rps['ping'])}"
    return [result], [f"{name}, req/s per round: {rounds}."]


def app_log_note(app: App) -> str:
    levels = app.log_levels()
    raw = levels.pop("raw", 0)
    noisy = {k: v for k, v in levels.items() if k not in ("info", "debug")}
    logged = ", ".join(f"{n} {k}" for k, n in sorted(noisy.items())) or "no line at WARNING or above"
    return f"{app.name}: stderr {logged} ({levels.get('info', 0)} info, {raw} non-JSON lines); log {app.log_path}."


# --- phase 2: S3 in redirect mode -------------------------------------------------------------------


def phase_redirect(database_url: str, options: Options) -> tuple[list[Result], list[str], Tally]:
    content = SUITE_DIR / "content-s3"
    size = REDIRECT_FILE_MIB * MIB
    write_content(content, "bench-redirect", {"video": ("bench-redirect.mp4", size, True)})
    expected = (content / "media" / "bench-redirect.mp4").read_bytes()
    tally = Tally()
    c = options.probe_connections
    rps: dict[str, list[float]] = {"redirect": [], "ping": []}
    commands: dict[str, str] = {}
    try:
        with moto_s3(PORTS["moto"]) as endpoint:
            env = {
                "LEARNING_CONTENT_DIR": str(content),
                "LEARNING_CONTENT_SYNC_ON_START": "true",
                "LEARNING_STORAGE_BACKEND": "s3",
                "LEARNING_S3_ENDPOINT": endpoint,
                "LEARNING_S3_ACCESS_KEY": "testing",
                "LEARNING_S3_SECRET_KEY": "testing",
                "LEARNING_S3_BUCKET": BUCKET,
                "LEARNING_MEDIA_DELIVERY": "redirect",
            }
            with running_app("media-s3", database_url, port=PORTS["s3-app"], env=env) as app:
                (media_url,) = module_media_urls(app, "bench-redirect")
                first = fetch(media_url)
                location = first.headers.get("location", "")
                if first.status != 302 or not location:
                    raise RuntimeError(f"redirect mode answered {first.status}, Location {location!r}")
                if (signed := fetch(location)).status != 200 or signed.body != expected:
                    raise RuntimeError(f"the presigned URL answered {signed.status}, {len(signed.body)} B")
                for round_ in range(options.rounds):
                    for name, url in (("redirect", media_url), ("ping", app.url(PING))):
                        done = load(url, connections=c, options=options)
                        rps[name].append(done.run.requests_per_second)
                        commands[name] = done.run.command
                        tally.add(f"{name}, S3 app", done.run)
                        print(
                            f"  {name:8} -c{c} round {round_ + 1} {fmt(done.run.requests_per_second):>7} req/s  "
                            f"p99 {done.run.p99_ms:.1f} ms  errors {done.run.errors}",
                            flush=True,
                        )
                log_note = app_log_note(app)
    finally:
        shutil.rmtree(content, ignore_errors=True)
    name = f"redirect mode (S3, 302) / `GET {PING}`, same app, -c{c}"
    command = f"{commands['redirect']} ; {commands['ping']}"
    rounds = f"redirect {_per_round(rps['redirect'])}; ping {_per_round(rps['ping'])}"
    notes = [
        f"{name}, req/s per round: {rounds}. The 302's Location (moto S3, presigned) was fetched once before "
        "the load and gave the file's bytes; wrk does not follow redirects and counts 3xx as answers, "
        "4xx/5xx as errors.",
        log_note,
    ]
    return [Result(name, median(rps["redirect"]), median(rps["ping"]), "req/s", command, 0.6)], notes, tally


# --- the suite --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.media", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each run")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds per comparison (median kept)")
    parser.add_argument(
        "--stream-connections", type=int, nargs="+", default=[16], help="wrk connections for 1 MiB ranges"
    )
    parser.add_argument("--probe-connections", type=int, default=64, help="wrk connections for probe/redirect")
    parser.add_argument("--rss-clients", type=int, default=16)
    parser.add_argument("--rss-seconds", type=int, default=12, help="each download is cut after this")
    parser.add_argument("--no-file-baseline", action="store_true", help="skip the stock Litestar File reference")
    parser.add_argument("--skip-redirect", action="store_true", help="skip phase 2 (S3, redirect mode)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    options = Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        stream_connections=tuple(args.stream_connections),
        probe_connections=args.probe_connections,
        rss_clients=args.rss_clients,
        rss_seconds=args.rss_seconds,
        file_baseline=not args.no_file_baseline,
    )
    ensure_wrk()
    ensure_tool("nginx", "nginx-light")
    ensure_tool("curl", "curl")
    free = shutil.disk_usage(WORK_DIR.parent if not WORK_DIR.exists() else WORK_DIR).free
    needed = 3 * (RANGE_FILE_MIB + BIG_FILE_MIB) * MIB
    if free < needed:
        raise SystemExit(f"bench/media needs about {needed / 2**30:.1f} GiB free under {WORK_DIR}")
    SUITE_DIR.mkdir(parents=True, exist_ok=True)

    with bench_database() as database_url:
        results, notes, tally = phase_local(database_url, options)
        if not args.skip_redirect:
            more, more_notes, more_tally = phase_redirect(database_url, options)
            results += more
            notes += more_notes
            tally.requests += more_tally.requests
            tally.unexpected += more_tally.unexpected
            tally.where += more_tally.where
    results.append(
        Result(
            "unexpected answers under load (all servers; baseline: answers)",
            tally.unexpected,
            tally.requests,
            "count",
            "wrk non-2xx/3xx and socket errors of the measured runs + curl statuses of the memory runs",
            0.0,
            higher_is_better=False,
        )
    )
    if tally.where:
        notes.append("**Unexpected answers**: " + "; ".join(tally.where) + ".")
    notes.insert(
        0,
        "One `learning serve` per phase (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`); wrk (2 threads) and "
        "the servers share the machine's cores, so absolute figures are lower bounds: compare ratios. "
        f"Each comparison alternates its servers over {options.rounds} rounds of {options.duration_s} s "
        f"(after {options.warmup_s} s of warm-up each) and keeps the medians. Ranges: a Lua script asks for a "
        f"random 1 MiB-aligned MiB per request (seed {SEED} + wrk thread); before the load, ranges of the app "
        "and of nginx were checked byte for byte against the stored file. nginx: "
        "`bench/nginx/media.conf.template` (nginx-light, `worker_processes 1`, `sendfile on`, "
        "`access_log off`), serving the app's stored object itself. Stock Litestar `File` has no Range "
        f"support: it serves {SLICES} files of 1 MiB cut from the same file (granian, 1 worker). Memory rows: "
        "the ratio is the RSS growth over the 50 MB budget of issue 4 (pass: at most 1).",
    )
    publish(
        SuiteReport(
            suite="media",
            title="media delivery against nginx and a trivial JSON route",
            project_label="app",
            baseline_label="nginx / ping / budget, per row",
            results=results,
            notes=notes,
            command=suite_command("media", argv),
        )
    )


if __name__ == "__main__":
    main()
