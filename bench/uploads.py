"""Suite ``uploads``: a tus upload of a 1 GiB file to the local store against ``@tus/server`` (issue 5's target).

- The app: one ``learning serve`` (granian, 1 worker, local store, the shipped content synced at start so the
  2019 webinar sessions exist), ``LEARNING_UPLOAD_MAX_BYTES`` at 4 GiB and ``LEARNING_JOBS_IN_PROCESS=false``
  (no processing job runs on the random bytes). An admin is created with ``learning create-admin
  --password-stdin`` in the app's environment, then logs in (``POST /api/v1/auth/login``) for a bearer token.
- The reference: ``node bench/tusd/server.mjs`` — ``@tus/server`` with ``@tus/file-store`` (versions pinned in
  ``bench/tusd/package.json``; ``npm install --prefix bench/tusd`` when ``node_modules`` is missing), serving
  ``/files/`` from a temporary folder.
- The same client for both, in this process: tuspy's ``Uploader`` (a POST without body, then one PATCH per
  chunk of ``--chunks`` MiB, each a new ``requests`` connection), uploading one file of random bytes written
  under ``bench/.work/uploads/`` (its sha256 computed while writing it). Metadata: ``filename`` and
  ``target: session:2019-03`` for the app, ``filename`` for the reference.

Each round uploads the file to the app, then to the reference, so that every upload follows one to the other
server (an upload that follows one to the same server within seconds runs much faster: the app's write thread
then spends about half the kernel time; an ABBA order would pair warm app runs with cold reference runs and
the reverse). The figure is the wall time of ``Uploader.upload()`` as MB/s (10⁶ bytes), median of the rounds.
Target, per chunk size: the median of the rounds' ratios app / reference at least 0.8. During every upload
the resident memory of each server's process tree is sampled every 0.5 s; target: the app's grows by less
than 100 MB (the row's ratio is the largest growth / 100 MB, at most 1). After every upload, HEAD must report
``Upload-Offset`` = the size and the stored file (the app's committed file under its data folder, or its
staging file if the upload did not complete; the reference's data file) must have the source's sha256; it is
then deleted, and so is the source at the end.
Before each upload, ``os.sync()`` leaves no dirty page of earlier work waiting for the disk.

Informational: the fixed cost of a PATCH, as the median milliseconds of PATCHes without a byte (``Content-Length:
0``, a new connection each, as tuspy's) on a 1 KiB upload per server, alternating servers; times the PATCHes per
GiB, it is what a smaller chunk size costs more.

``--profile`` adds one unmeasured app upload recorded by ``py-spy`` (``pip install py-spy``) attached to the
granian worker: a flame graph in ``bench/.work/uploads/profile.svg`` and, in the notes, where the samples are.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from tusclient import client as tus_client

from bench.harness import (
    HOST,
    ROOT,
    WORK_DIR,
    App,
    Result,
    SuiteReport,
    bench_database,
    free_port,
    publish,
    running_app,
    suite_command,
    tree_rss,
)

MIB = 1024 * 1024
MB = 1_000_000
GIB = 1024 * MIB
TARGET_RATIO = 0.8
RSS_BUDGET_MB = 100.0
SAMPLE_EVERY_S = 0.5
EMPTY_PATCHES = 100  # per turn and server
EMPTY_PATCH_TURNS = 2
PROFILE_HZ = 100  # py-spy samples per second and thread
PORTS = {"app": 18500, "reference": 18501}
SUITE_DIR = WORK_DIR / "uploads"
TUSD_DIR = ROOT / "bench" / "tusd"
TUSD_SERVER = TUSD_DIR / "server.mjs"
ADMIN_EMAIL = "bench@example.org"
# Fixed: `create-admin` keeps the password of an existing account (a reused LEARNING_BENCH_DATABASE_URL).
ADMIN_PASSWORD = "bench-uploads-passphrase"  # noqa: S105 — a throwaway account of the bench database
APP_METADATA = {"filename": "bench.mp4", "target": "session:2019-03"}
REFERENCE_METADATA = {"filename": "bench.mp4"}
APP = "app"
REFERENCE = "@tus/server"


@dataclass(frozen=True)
class Options:
    size_mib: int
    chunks_mib: tuple[int, ...]
    rounds: int
    profile: bool

    @property
    def size(self) -> int:
        return self.size_mib * MIB


# --- the reference server -------------------------------------------------------------------------


def ensure_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (the reference tus server needs Node.js ≥ 20.19 and npm)")
    return found


def ensure_tusd() -> str:
    """The ``node`` binary, after ``npm install --prefix bench/tusd`` when its packages are missing."""
    node = ensure_tool("node")
    if (
        not (TUSD_DIR / "node_modules" / "@tus" / "server").is_dir()
        or not (TUSD_DIR / "node_modules" / "@tus" / "file-store").is_dir()
    ):
        npm = ensure_tool("npm")
        print("  npm install --prefix bench/tusd", flush=True)
        argv = [npm, "install", "--prefix", str(TUSD_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(argv, check=True, timeout=300)
    return node


def package_version(name: str) -> str:
    with contextlib.suppress(OSError, ValueError, KeyError):
        data = json.loads((TUSD_DIR / "node_modules" / name / "package.json").read_text(encoding="utf-8"))
        return str(data["version"])
    return "?"


@dataclass
class Reference:
    process: subprocess.Popen[str]
    url: str
    directory: Path


@contextlib.contextmanager
def reference_serving(node: str, port: int, directory: Path, timeout_s: float = 30.0) -> Iterator[Reference]:
    """``node bench/tusd/server.mjs``, ready once it prints its ``listening`` line; SIGTERMed on exit."""
    argv = [node, str(TUSD_SERVER), "--host", HOST, "--port", str(port), "--directory", str(directory)]
    log_path = SUITE_DIR / "tusd.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            argv, cwd=TUSD_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        assert process.stdout is not None
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout_s)
        if not ready or not ready[0].startswith("listening "):
            raise RuntimeError(f"the reference tus server did not start: {log_path.read_text(encoding='utf-8')}")
        yield Reference(process, ready[0].split()[1], directory)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- the app: an admin and its token --------------------------------------------------------------


def admin_token(app: App) -> str:
    """Create the bench admin with ``learning create-admin`` (the app's environment), then log in."""
    password = ADMIN_PASSWORD
    subprocess.run(
        [sys.executable, "-m", "learning.cli", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        input=password + "\n",
        env=app.env,
        cwd=app.log_path.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    body = json.dumps({"email": ADMIN_EMAIL, "password": password}).encode()
    request = urllib.request.Request(  # noqa: S310 — our own http URL
        app.url("/api/v1/auth/login"), data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["access_token"])


def worker_pid(app: App) -> int:
    """The granian worker: the server's only child process (1 worker)."""
    children = psutil.Process(app.process.pid).children(recursive=True)
    workers = [c for c in children if "python" in c.name().lower() or "granian" in " ".join(c.cmdline())]
    if len(workers) != 1:
        raise RuntimeError(f"expected one granian worker, found {[(c.pid, c.name()) for c in children]}")
    return workers[0].pid


# --- the source file ------------------------------------------------------------------------------


def check_free_disk(size: int) -> None:
    """The source, the file being uploaded and a reserve: each stored file is deleted after its check."""
    SUITE_DIR.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(SUITE_DIR).free
    needed = 4 * size
    if free < needed:
        raise RuntimeError(f"{free / GIB:.1f} GiB free under {SUITE_DIR}; the suite needs {needed / GIB:.1f} GiB")


def write_source(path: Path, size: int) -> str:
    """``size`` random bytes, written 1 MiB at a time; their sha256 (hex)."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(MIB, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


# --- one upload -----------------------------------------------------------------------------------


class RssSampler:
    """The resident memory of a process tree every 0.5 s in a thread, from ``start`` until ``stop``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            with contextlib.suppress(psutil.Error):
                self.samples.append(sum(tree_rss(self.pid)))

    def __enter__(self) -> RssSampler:
        self.samples.append(sum(tree_rss(self.pid)))
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(sum(tree_rss(self.pid)))

    @property
    def before(self) -> int:
        return self.samples[0]

    @property
    def peak(self) -> int:
        return max(self.samples)

    @property
    def growth_mb(self) -> float:
        return max(0, self.peak - self.before) / MB


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@dataclass(frozen=True)
class Server:
    """One side of the comparison: its tus endpoint, headers, metadata, and where it keeps an upload's bytes."""

    name: str
    endpoint: str
    headers: Mapping[str, str]
    metadata: Mapping[str, str]
    pid: int  # the process tree whose memory and CPU are measured
    stored: Callable[[str], Path]  # upload URL → the file holding its bytes
    cleanup: Callable[[str], None]  # upload URL → remove its bytes
    state: Callable[[str], str] | None = None  # upload URL → its state, as the server reports it


@dataclass(frozen=True)
class Upload:
    server: str
    chunk_mib: int
    round: int
    seconds: float
    size: int
    rss_before: int
    rss_peak: int
    rss_samples: int
    server_cpu_s: float
    client_cpu_s: float
    offset: int | None  # HEAD's Upload-Offset afterwards
    digest_ok: bool
    stored: str  # which file was checked
    state: str  # the app's upload state afterwards ("—" for the reference)
    problems: tuple[str, ...] = ()

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds

    @property
    def growth_mb(self) -> float:
        return max(0, self.rss_peak - self.rss_before) / MB


def head_offset(url: str, headers: Mapping[str, str]) -> int | None:
    request = urllib.request.Request(  # noqa: S310 — our own http URL
        url, headers={**headers, "Tus-Resumable": "1.0.0"}, method="HEAD"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            value = response.headers.get("Upload-Offset")
    except (urllib.error.URLError, OSError):
        return None
    return int(value) if value and value.isdigit() else None


def upload_once(server: Server, source: Path, size: int, digest: str, chunk_mib: int, round_: int) -> Upload:
    """Upload ``source`` with tuspy, then check the offset and the stored bytes, then delete them."""
    uploader = tus_client.TusClient(server.endpoint, headers=dict(server.headers)).uploader(
        str(source), chunk_size=chunk_mib * MIB, metadata=dict(server.metadata), retries=0
    )
    problems: list[str] = []
    os.sync()  # each upload starts with no dirty page waiting for the disk (the machine is shared)
    cpu_before = tree_cpu_seconds(server.pid)
    client_before = time.process_time()
    with RssSampler(server.pid) as sampler:
        started = time.perf_counter()
        try:
            uploader.upload()
        except Exception as exc:
            problems.append(f"upload failed: {exc!r}"[:300])
        seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    server_cpu = tree_cpu_seconds(server.pid) - cpu_before
    url = uploader.url
    offset = head_offset(url, server.headers) if url else None
    digest_ok = False
    stored_name = "none"
    state = "—"
    if url and server.state is not None:
        try:
            state = server.state(url)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            state = f"unknown ({exc})"
    if url:
        try:
            stored = server.stored(url)
            stored_name = str(stored.relative_to(WORK_DIR)) if stored.is_relative_to(WORK_DIR) else stored.name
            digest_ok = stored.stat().st_size == size and sha256_file(stored) == digest
        except (OSError, RuntimeError) as exc:
            problems.append(f"stored file: {exc}")
        with contextlib.suppress(OSError):
            server.cleanup(url)
    if offset != size:
        problems.append(f"HEAD Upload-Offset {offset}, expected {size}")
    if not digest_ok and not any(p.startswith("stored file") for p in problems):
        problems.append(f"the stored file {stored_name} differs from the source")
    return Upload(
        server=server.name,
        chunk_mib=chunk_mib,
        round=round_,
        seconds=seconds,
        size=size,
        rss_before=sampler.before,
        rss_peak=sampler.peak,
        rss_samples=len(sampler.samples),
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
        offset=offset,
        digest_ok=digest_ok,
        stored=stored_name,
        state=state,
        problems=tuple(problems),
    )


def _upload_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def app_server(app: App, token: str) -> Server:
    media = Path(app.env["LEARNING_DATA_DIR"]) / "media"

    def stored(url: str) -> Path:
        """The committed file (``media/uploads/*.upload``; one at a time, each is deleted after its check),
        or the staging file (``media/.appends/<id hex>``) when the upload did not complete."""
        staging = media / ".appends" / uuid.UUID(_upload_id(url)).hex
        if staging.exists():
            return staging
        committed = sorted((media / "uploads").glob("*.upload"))
        if len(committed) != 1:
            raise RuntimeError(f"expected one file in media/uploads/, found {len(committed)}")
        return committed[0]

    def cleanup(url: str) -> None:
        stored(url).unlink(missing_ok=True)

    return Server(
        name=APP,
        endpoint=app.url("/api/v1/admin/uploads/"),
        headers={"Authorization": f"Bearer {token}"},
        metadata=APP_METADATA,
        pid=app.process.pid,
        stored=stored,
        cleanup=cleanup,
        state=lambda url: app_upload_status(app, token, url),
    )


def reference_server(reference: Reference) -> Server:
    def stored(url: str) -> Path:
        return reference.directory / _upload_id(url)

    def cleanup(url: str) -> None:
        stored(url).unlink(missing_ok=True)
        stored(url).with_suffix(".json").unlink(missing_ok=True)

    return Server(
        name=REFERENCE,
        endpoint=reference.url,
        headers={},
        metadata=REFERENCE_METADATA,
        pid=reference.process.pid,
        stored=stored,
        cleanup=cleanup,
    )


def empty_patches(server: Server, samples: int) -> list[float]:
    """Milliseconds of ``samples`` PATCHes without a byte (a new connection each, as tuspy's), on a 1 KiB upload
    created for them and terminated after: what every PATCH costs besides its bytes."""
    uploader = tus_client.TusClient(server.endpoint, headers=dict(server.headers)).uploader(
        file_stream=io.BytesIO(b"x" * 1024), metadata=dict(server.metadata), retries=0
    )
    url = str(uploader.create_url())
    headers = {
        **server.headers,
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }
    times = []
    try:
        for _ in range(samples):
            request = urllib.request.Request(url, data=b"", headers=headers, method="PATCH")  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — our own http URL
                response.read()
                status = int(response.status)
            times.append((time.perf_counter() - started) * 1000)
            if status != 204:
                raise RuntimeError(f"{server.name}: an empty PATCH answered {status}")
    finally:
        with contextlib.suppress(urllib.error.URLError, OSError):
            terminate = {**server.headers, "Tus-Resumable": "1.0.0"}
            request = urllib.request.Request(url, headers=terminate, method="DELETE")  # noqa: S310
            urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 — our own http URL
    return times


def app_upload_status(app: App, token: str, url: str) -> str:
    request = urllib.request.Request(  # noqa: S310 — our own http URL
        app.url(f"/api/v1/admin/uploads/{_upload_id(url)}"), headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["status"])


# --- the profile ----------------------------------------------------------------------------------


@dataclass
class Profile:
    """Where the granian worker's threads were during one upload (shares of their samples)."""

    svg: Path
    upload: Upload
    loop_samples: int = 0  # the event loop (the worker's main thread)
    loop_idle: float = 0.0  # in granian's native code, no Python frame running
    loop_handler: float = 0.0  # inside the PATCH handler
    loop_lines: list[tuple[str, float]] = field(default_factory=list)  # deepest app frame: file:line and code
    io_samples: int = 0  # the AnyIO worker threads (anyio.to_thread.run_sync)
    io_idle: float = 0.0
    io_lines: list[tuple[str, float]] = field(default_factory=list)


_FRAME = re.compile(r"^(?P<function>.+) \((?P<file>.+?):(?P<line>\d+)\)$")
_APP_FILE = re.compile(r"(?:^|/)(?P<path>learning/[\w/]+\.py)$")


def _app_frame(frame: str) -> str | None:
    """``writers.py:109 `block += chunk``` for a frame in the project's code, else None."""
    found = _FRAME.match(frame)
    path = _APP_FILE.search(found["file"]) if found else None
    if found is None or path is None:
        return None
    line = int(found["line"])
    code = ""
    with contextlib.suppress(OSError, IndexError):
        code = (ROOT / "src" / path["path"]).read_text(encoding="utf-8").splitlines()[line - 1].strip()
    return f"{path['path'].rsplit('/', 1)[-1]}:{line} `{code[:70]}`"


def summarize_profile(raw: str, svg: Path, upload: Upload) -> Profile:
    """Read py-spy's collapsed stacks (``--format raw --threads --idle``) of the granian worker."""
    profile = Profile(svg, upload)
    loop_lines: Counter[str] = Counter()
    io_lines: Counter[str] = Counter()
    loop_idle = loop_handler = io_idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread, frames = frames[0], frames[1:]
        app_frames = [label for f in frames if (label := _app_frame(f)) is not None]
        if "MainThread" in thread:
            profile.loop_samples += count
            if any("UploadController.append" in f for f in frames):
                loop_handler += count
            if frames and "granian/server" in frames[-1]:
                loop_idle += count
            elif app_frames and not app_frames[-1].startswith("cli.py"):
                loop_lines[app_frames[-1]] += count
        elif "AnyIO worker thread" in thread:
            profile.io_samples += count
            if frames and ("Condition.wait" in frames[-1] or "Queue.get" in frames[-1]):
                io_idle += count
            else:
                io_lines[app_frames[-1] if app_frames else _FRAME.sub(r"\g<function>", frames[-1])] += count
    if profile.loop_samples:
        profile.loop_idle = loop_idle / profile.loop_samples
        profile.loop_handler = loop_handler / profile.loop_samples
        profile.loop_lines = [(k, n / profile.loop_samples) for k, n in loop_lines.most_common(6)]
    if profile.io_samples:
        profile.io_idle = io_idle / profile.io_samples
        profile.io_lines = [(k, n / profile.io_samples) for k, n in io_lines.most_common(4)]
    return profile


def profile_upload(server: Server, worker: int, source: Path, size: int, digest: str, chunk_mib: int) -> Profile:
    """One more app upload with ``py-spy record`` (non-blocking) on the granian worker: an SVG and a summary."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    svg = SUITE_DIR / "profile.svg"
    raw = SUITE_DIR / "profile.txt"
    base = [py_spy, "record", "--pid", str(worker), "--rate", str(PROFILE_HZ), "--idle", "--threads", "--nonblocking"]
    recorders = [
        subprocess.Popen([*base, "--format", kind, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for kind, out in (("flamegraph", svg), ("raw", raw))
    ]
    time.sleep(2.0)  # py-spy attaches
    upload = upload_once(server, source, size, digest, chunk_mib, 0)
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait(timeout=10)
    if not raw.exists():
        raise RuntimeError("py-spy wrote no profile (is ptrace allowed?)")
    return summarize_profile(raw.read_text(encoding="utf-8", errors="replace"), svg, upload)


# --- the measurements -----------------------------------------------------------------------------


@dataclass
class Measured:
    uploads: list[Upload]
    status_after: Counter[str]
    profile: Profile | None
    versions: dict[str, str]
    empty_ms: dict[str, list[float]]  # per server: the empty PATCHes' milliseconds


def measure(database_url: str, options: Options) -> tuple[Measured, App]:
    node = ensure_tusd()
    check_free_disk(options.size)
    source = SUITE_DIR / "source.bin"
    versions = {
        "@tus/server": package_version("@tus/server"),
        "@tus/file-store": package_version("@tus/file-store"),
        "node": subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip(),
    }
    env = {
        "LEARNING_CONTENT_SYNC_ON_START": "true",
        "LEARNING_UPLOAD_MAX_BYTES": str(max(4 * GIB, 2 * options.size)),
        "LEARNING_JOBS_IN_PROCESS": "false",
        "LEARNING_STORAGE_BACKEND": "local",
    }
    uploads: list[Upload] = []
    statuses: Counter[str] = Counter()
    profile: Profile | None = None
    empty_ms: dict[str, list[float]] = {APP: [], REFERENCE: []}
    try:
        print(f"  writing {options.size_mib} MiB of random bytes to {source}", flush=True)
        digest = write_source(source, options.size)
        with (
            running_app("uploads-app", database_url, port=PORTS["app"], env=env, ready_timeout_s=240) as app,
            tempfile.TemporaryDirectory(prefix="learning-tusd-", dir=SUITE_DIR) as tusd_dir,
            reference_serving(node, free_port(PORTS["reference"]), Path(tusd_dir)) as reference,
        ):
            token = admin_token(app)
            servers = {APP: app_server(app, token), REFERENCE: reference_server(reference)}
            for chunk_mib in options.chunks_mib:
                for round_ in range(1, options.rounds + 1):
                    for name in (APP, REFERENCE):  # strictly alternating: each upload follows the other's
                        done = upload_once(servers[name], source, options.size, digest, chunk_mib, round_)
                        if name == APP:
                            statuses[done.state] += 1
                        uploads.append(done)
                        print(
                            f"  {chunk_mib:>3} MiB chunks, round {round_}, {name:12} {done.mb_per_s:7.1f} MB/s "
                            f"({done.seconds:5.2f} s)  RSS +{done.growth_mb:5.1f} MB  CPU server "
                            f"{done.server_cpu_s:5.2f} s, client {done.client_cpu_s:5.2f} s  "
                            f"{'; '.join(done.problems) or 'offset and sha256 ok'}",
                            flush=True,
                        )
            for turn in range(EMPTY_PATCH_TURNS):
                for name in [APP, REFERENCE] if turn % 2 == 0 else [REFERENCE, APP]:
                    empty_ms[name] += empty_patches(servers[name], EMPTY_PATCHES)
            print(
                f"  PATCH without a byte: app {statistics.median(empty_ms[APP]):.2f} ms, "
                f"@tus/server {statistics.median(empty_ms[REFERENCE]):.2f} ms (median of "
                f"{EMPTY_PATCH_TURNS * EMPTY_PATCHES})",
                flush=True,
            )
            if options.profile:
                print("  profiling one more app upload with py-spy", flush=True)
                profile = profile_upload(
                    servers[APP], worker_pid(app), source, options.size, digest, options.chunks_mib[0]
                )
                print(f"  flame graph: {profile.svg}", flush=True)
    finally:
        source.unlink(missing_ok=True)
    return Measured(uploads, statuses, profile, versions, empty_ms), app


# --- the report -----------------------------------------------------------------------------------


def build_results(measured: Measured, options: Options, app: App) -> tuple[list[Result], list[str]]:
    uploads = measured.uploads
    results: list[Result] = []
    notes: list[str] = []
    client = "tuspy 1.1 Uploader.upload()"
    for chunk_mib in options.chunks_mib:
        mine = [u for u in uploads if u.chunk_mib == chunk_mib and u.server == APP]
        theirs = [u for u in uploads if u.chunk_mib == chunk_mib and u.server == REFERENCE]
        name = f"tus upload of {_size_text(options.size)}, {chunk_mib} MiB chunks"
        command = (
            f"{client}, chunk_size {chunk_mib} MiB, {math.ceil(options.size / (chunk_mib * MIB))} PATCHes → "
            f"POST /api/v1/admin/uploads/ (granian, 1 worker, local store) ; node bench/tusd/server.mjs "
            "(@tus/server + @tus/file-store, /files/)"
        )
        by_round = {u.round: u for u in theirs}
        ratios = [u.mb_per_s / by_round[u.round].mb_per_s for u in mine if u.round in by_round]
        results.append(Result(name, _median_rate(mine), _median_rate(theirs), "MB/s", command))
        results.append(
            Result(
                f"{name}: app / @tus/server, median of the {len(ratios)} rounds' ratios (baseline column: 1)",
                _median(ratios),
                1.0,
                "ratio",
                "each round's app MB/s / that round's @tus/server MB/s (the two uploads run one after the other)",
                target=TARGET_RATIO,
            )
        )
        notes.append(
            f"{name}: app MB/s per round {' · '.join(f'{u.mb_per_s:.1f}' for u in mine)}; @tus/server "
            f"{' · '.join(f'{u.mb_per_s:.1f}' for u in theirs)}; ratio per round "
            f"{' · '.join(f'{r:.2f}' for r in ratios)} (median {_median(ratios):.2f}). "
            f"Server CPU seconds per upload (median): app {_median(u.server_cpu_s for u in mine):.2f}, "
            f"@tus/server {_median(u.server_cpu_s for u in theirs):.2f}; the client's "
            f"{_median(u.client_cpu_s for u in uploads if u.chunk_mib == chunk_mib):.2f}."
        )

    mine_ms, theirs_ms = measured.empty_ms[APP], measured.empty_ms[REFERENCE]
    if mine_ms and theirs_ms:
        fixed_app, fixed_ref = statistics.median(mine_ms), statistics.median(theirs_ms)
        results.append(
            Result(
                "PATCH without a byte: what each PATCH costs besides its bytes",
                fixed_app,
                fixed_ref,
                "ms",
                f"{len(mine_ms)} × urllib PATCH, Content-Length: 0, new connection each, on a 1 KiB upload per "
                "server (terminated after)",
                higher_is_better=False,
            )
        )
        per_gib = "; ".join(
            f"{chunk} MiB chunks: {GIB // (chunk * MIB)} PATCHes per GiB, about "
            f"{(fixed_app - fixed_ref) * (GIB // (chunk * MIB)) / 1000:.2f} s more than @tus/server"
            for chunk in options.chunks_mib
        )
        notes.append(
            f"PATCH without a byte (median of {len(mine_ms)}; p90 app {_p90(mine_ms):.2f} ms, @tus/server "
            f"{_p90(theirs_ms):.2f} ms): the app's fixed cost per PATCH is {fixed_app - fixed_ref:.2f} ms more; "
            f"{per_gib}."
        )

    mine_all = [u for u in uploads if u.server == APP]
    theirs_all = [u for u in uploads if u.server == REFERENCE]
    worst = max(mine_all, key=lambda u: u.growth_mb)
    results.append(
        Result(
            f"app RSS growth during a {_size_text(options.size)} upload (largest of {len(mine_all)})",
            worst.growth_mb,
            RSS_BUDGET_MB,
            "MB",
            "psutil RSS of the server's process tree every 0.5 s during Uploader.upload(); baseline column: the "
            "100 MB budget",
            target=1.0,
            higher_is_better=False,
        )
    )
    notes.append(
        f"RSS: the app's tree {worst.rss_before / MB:.0f} MB before its worst upload ({worst.chunk_mib} MiB chunks, "
        f"round {worst.round}), peak {worst.rss_peak / MB:.0f} MB ({worst.rss_samples} samples); growth per "
        f"upload {' · '.join(f'{u.growth_mb:.0f}' for u in mine_all)} MB. @tus/server (for comparison): "
        f"{' · '.join(f'{u.growth_mb:.0f}' for u in theirs_all)} MB from about "
        f"{_median(u.rss_before for u in theirs_all) / MB:.0f} MB."
    )

    failed = [u for u in uploads if u.problems]
    results.append(
        Result(
            "uploads not stored whole (baseline column: uploads)",
            len(failed),
            len(uploads),
            "count",
            "after each upload: HEAD Upload-Offset = size, sha256 of the stored file = the source's",
            target=0.0,
            higher_is_better=False,
        )
    )
    if failed:
        notes += [
            f"**Upload failed** ({u.server}, {u.chunk_mib} MiB, round {u.round}): {'; '.join(u.problems)}."
            for u in failed
        ]
    else:
        notes.append(
            f"All {len(uploads)} uploads stored whole: HEAD answered Upload-Offset {options.size:,} and the stored "
            "file (the app's committed `media/uploads/*.upload`, the reference's data file) had the source's "
            f"sha256; the app's uploads ended in state {_counts(measured.status_after)}."
        )

    paired = [r for r in results if r.unit == "ratio"]
    missed = [r for r in paired if r.passed is False]
    notes.insert(
        0,
        "Throughput, app / @tus/server (median of the rounds' ratios; the MB/s rows divide the medians instead): "
        + "; ".join(f"{r.name.split(':')[0]} ×{r.ratio:.2f} (target {r.target_text})" for r in paired)
        + (" **Missed.**" if missed else " Target met."),
    )
    versions = ", ".join(f"{k} {v}" for k, v in measured.versions.items())
    notes.append(
        f"Setup: one `learning serve` (granian, 1 worker, `LEARNING_LOG_LEVEL=WARNING`, local store, "
        "`LEARNING_JOBS_IN_PROCESS=false`, the shipped content synced at start) and `node bench/tusd/server.mjs` "
        f"({versions}; its FileStore in a temporary folder under bench/.work/uploads/); one source file of "
        f"{_size_text(options.size)} random bytes; the client is tuspy in the bench process (each PATCH reads its "
        f"chunk into memory, then sends it on a new connection). {options.rounds} rounds per chunk size, "
        "app then @tus/server in each, so that every upload follows one to the other server (an upload right "
        "after one to the same server runs much faster, which an ABBA order would pair unevenly); each figure is "
        "the median. Both servers write to the same disk; the "
        "app fsyncs the staging file at the end of every PATCH (its offset survives a crash), @tus/server does "
        "not fsync."
    )
    if measured.profile is not None:
        notes += profile_notes(measured.profile)
    levels = app.log_levels()
    raw = levels.pop("raw", 0)
    noisy = ", ".join(f"**{n} {k}**" for k, n in sorted(levels.items()) if k not in ("info", "debug"))
    notes.append(
        f"App exit status {app.process.returncode} after SIGTERM; stderr: {noisy or 'no line at WARNING or above'} "
        f"({raw} non-JSON lines)."
    )
    return results, notes


def profile_notes(profile: Profile) -> list[str]:
    """Seconds of the thread's time (samples / rate) rather than shares: the recording also covers the checks."""

    def seconds(share: float, samples: int) -> str:
        return f"{share * samples / PROFILE_HZ:.2f} s"

    loop = "; ".join(f"{label} {seconds(share, profile.loop_samples)}" for label, share in profile.loop_lines)
    io = "; ".join(f"{label} {seconds(share, profile.io_samples)}" for label, share in profile.io_lines)
    return [
        f"Profile (`--profile`, one more app upload, not measured: {profile.upload.seconds:.2f} s, "
        f"{profile.upload.mb_per_s:.1f} MB/s, {profile.upload.chunk_mib} MiB chunks): py-spy --nonblocking --idle at "
        f"{PROFILE_HZ} Hz on the granian worker from 2 s before the upload to the end of its checks, flame graph in "
        f"`{profile.svg.relative_to(ROOT)}`. Event loop thread: "
        f"{seconds(1 - profile.loop_idle, profile.loop_samples)} running Python (of which "
        f"{seconds(profile.loop_handler, profile.loop_samples)} inside the PATCH handler), the rest waiting in "
        f"granian's native code; by deepest project frame: {loop}. AnyIO worker threads: "
        f"{seconds(1 - profile.io_idle, profile.io_samples)} busy: {io}."
    ]


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _median_rate(uploads: Sequence[Upload]) -> float:
    return statistics.median(u.mb_per_s for u in uploads) if uploads else math.nan


def _median(values: Iterator[float] | Sequence[float] | Iterator[int]) -> float:
    items = list(values)
    return statistics.median(items) if items else math.nan


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{key} ×{n}" for key, n in sorted(counts.items()))


def _size_text(size: int) -> str:
    return f"{size / GIB:g} GiB" if size >= GIB else f"{size / MIB:g} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="MiB uploaded (default 1024)")
    parser.add_argument("--chunks", type=int, nargs="+", default=[32, 8], help="tus chunk sizes in MiB")
    parser.add_argument("--rounds", type=int, default=7, help="uploads per server and chunk size (median kept)")
    parser.add_argument("--profile", action="store_true", help="py-spy one more app upload (needs py-spy)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    options = Options(args.size, tuple(args.chunks), args.rounds, args.profile)

    with bench_database() as database_url:
        measured, app = measure(database_url, options)
    results, notes = build_results(measured, options, app)
    publish(
        SuiteReport(
            suite="uploads",
            title="tus uploads against @tus/server",
            project_label="app",
            baseline_label="@tus/server",
            results=results,
            notes=notes,
            command=suite_command("uploads", argv),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
