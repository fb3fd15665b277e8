"""The shared pieces of the benchmark suites.

- ``ensure_wrk``: the load generator (installed with apt-get when missing).
- ``bench_database``: ``LEARNING_BENCH_DATABASE_URL``, or a throwaway embedded PostgreSQL.
- ``running_app``: ``learning serve`` as a subprocess on a port of 18000–18999, ready when ``/health/ready``
  answers 200, stopped with SIGTERM; ``App.rss()`` sums its process tree's resident memory.
- ``run_wrk`` / ``parse_wrk``: ``wrk -t2 -c<N> -d<S>s --latency URL`` (optionally with a Lua script made by
  ``lua_script``), parsed into requests/s and latency percentiles.
- ``Result`` / ``SuiteReport`` / ``publish``: one suite's figures, saved to ``bench/results/<suite>.json``
  (gitignored) and written as that suite's section of ``docs/benchmarks.md``; the other sections stay.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import SUITES

ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = ROOT / "bench" / ".work"  # app logs and data directories (gitignored)
RESULTS_DIR = ROOT / "bench" / "results"  # one JSON file per suite (gitignored)
DOC = ROOT / "docs" / "benchmarks.md"
HOST = "127.0.0.1"
PORTS = range(18000, 19000)


# --- the load generator ---------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of ``wrk``; installed with apt-get (after ``apt-get update`` if needed) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


@dataclass(frozen=True)
class WrkRun:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    command: str

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + self.socket_errors


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)\s*$", re.MULTILINE)


def parse_wrk(output: str, command: str = "") -> WrkRun:
    """Parse the text ``wrk --latency`` prints."""
    percentiles = {float(p): float(v) * _UNITS_MS[unit] for p, v, unit in _PERCENTILE.findall(output)}
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if rps is None or total is None or 50.0 not in percentiles or 99.0 not in percentiles:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkRun(
        requests_per_second=float(rps.group(1)),
        p50_ms=percentiles[50.0],
        p99_ms=percentiles[99.0],
        requests=int(total.group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        command=command,
    )


# Lua for wrk scripts: ``uuid4()``, a random UUID v4 (fresh ids for event bodies); put in a script whole.
LUA_UUID4 = """local hex = "0123456789abcdef"
local function h(n)
  local s = {}
  for i = 1, n do
    local r = math.random(1, 16)
    s[i] = string.sub(hex, r, r)
  end
  return table.concat(s)
end

local function uuid4()
  local v = math.random(9, 12)
  return h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-" .. string.sub(hex, v, v) .. h(3) .. "-" .. h(12)
end"""


def lua_script(method: str = "GET", headers: Mapping[str, str] | None = None, body: str | None = None) -> str:
    """A wrk Lua script setting the method, headers and body of every request."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items()]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    return "\n".join(lines) + "\n"


def _lua_string(value: str) -> str:
    """A Lua 5.1 string literal: quotes, backslashes and control bytes as decimal escapes."""
    escaped = "".join(f"\\{ord(c):03d}" if c in '"\\' or ord(c) < 32 or ord(c) == 127 else c for c in value)
    return f'"{escaped}"'


def run_wrk(
    url: str,
    *,
    connections: int = 64,
    duration_s: int = 10,
    threads: int = 2,
    script: str | None = None,
    warmup_s: int = 0,
    launcher: Sequence[str] = (),
) -> WrkRun:
    """Load ``url`` for ``duration_s`` seconds (after an unmeasured ``warmup_s``) and parse the figures.
    ``launcher`` prefixes the command (``chrt``, ``taskset``: where and how wrk is scheduled)."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="learning-wrk-") as tmp:
        extra: list[str] = []
        if script is not None:
            path = Path(tmp) / "request.lua"
            path.write_text(script, encoding="utf-8")
            extra = ["-s", str(path)]

        def load(seconds: int) -> subprocess.CompletedProcess[str]:
            argv = [*launcher, wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url]
            return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)

        if warmup_s > 0:
            load(warmup_s)
        shown = f"wrk -t{threads} -c{connections} -d{duration_s}s --latency"
        shown += " -s request.lua" if script is not None else ""
        return parse_wrk(load(duration_s).stdout, command=f"{shown} {url}")


# --- the database ---------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """``LEARNING_BENCH_DATABASE_URL`` when set, else a throwaway embedded PostgreSQL (an asyncpg URL)."""
    configured = os.environ.get("LEARNING_BENCH_DATABASE_URL", "").strip()
    if configured:
        yield configured
        return
    from learning.embedded import embedded_postgres

    with (
        tempfile.TemporaryDirectory(prefix="learning-bench-pg-") as tmp,
        embedded_postgres(Path(tmp), temporary=True) as url,
    ):
        yield url


# --- the app under test ---------------------------------------------------------------------------


def free_port(preferred: int | None = None) -> int:
    """A free TCP port in 18000–18999: ``preferred`` when free, else the first free one."""
    candidates = ([preferred] if preferred is not None else []) + list(PORTS)
    for port in candidates:
        if port not in PORTS:
            raise ValueError(f"port {port} is outside {PORTS.start}–{PORTS.stop - 1}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18000–18999")


def tree_rss(pid: int) -> list[int]:
    """Resident memory of a process, then of each of its descendants, in bytes (``sum`` for the tree)."""
    root = psutil.Process(pid)
    sizes = []
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            sizes.append(process.memory_info().rss)
    return sizes


@dataclass
class App:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def rss(self) -> list[int]:
        """RSS of the server's process tree: the main process first, then its workers."""
        return tree_rss(self.process.pid)

    def log_levels(self) -> Counter[str]:
        """Lines of the app's stderr by JSON ``level`` (``raw`` for lines that are not JSON)."""
        return log_levels(self.log_path)


def log_levels(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            counts["raw"] += 1
            continue
        counts[str(entry.get("level", "raw")) if isinstance(entry, dict) else "raw"] += 1
    return counts


def _get_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 — our own http URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""


@contextlib.contextmanager
def running_app(
    name: str,
    database_url: str,
    *,
    server: str = "granian",
    workers: int = 1,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout_s: float = 90.0,
) -> Iterator[App]:
    """``learning serve`` in a subprocess, ready (``/health/ready`` 200) on entry, SIGTERMed on exit.

    Its data directory, working directory and stderr log are under ``bench/.work/<name>/`` (no ``.env``
    of the checkout is read); ``env`` overrides the ``LEARNING_*`` variables set here.
    """
    chosen = free_port(port)
    workdir = WORK_DIR / name
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "data").mkdir(parents=True)
    full_env = {
        **os.environ,
        "LEARNING_DATABASE_URL": database_url,
        "LEARNING_DATA_DIR": str(workdir / "data"),
        "LEARNING_HOST": HOST,
        "LEARNING_PORT": str(chosen),
        "LEARNING_PUBLIC_BASE_URL": f"http://{HOST}:{chosen}",
        "LEARNING_SERVER": server,
        "LEARNING_WORKERS": str(workers),
        "LEARNING_LOG_LEVEL": "WARNING",
        "LEARNING_SECRET_KEY": secrets.token_urlsafe(48),
        # The load generators stand for many clients but all come from 127.0.0.1: one client's share of the
        # loop (lib/fairness.py) would cap them. The limits suite, which measures that share, sets it back.
        "LEARNING_CLIENT_CONCURRENCY": "100000",
        "LEARNING_CLIENT_WAITING_LIMIT": "100000",
        **(env or {}),
    }
    log_path = workdir / "stderr.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "learning.cli", "serve"],
            cwd=workdir,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stuck tree can be killed as one
        )
    app = App(name=name, process=process, port=chosen, log_path=log_path, env=full_env)
    try:
        _wait_ready(app, ready_timeout_s)
        yield app
    finally:
        stop_app(app)


def _wait_ready(app: App, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"{app.name} exited with {app.process.returncode}:\n{_tail(app.log_path)}")
        if _get_status(app.url("/health/ready")) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{app.name} not ready after {timeout_s:.0f} s:\n{_tail(app.log_path)}")


def stop_app(app: App, timeout_s: float = 20.0) -> int:
    """SIGTERM the server and wait; SIGKILL its process group if it outlives ``timeout_s``."""
    return stop_process(app.process, timeout_s)


def stop_process(
    process: subprocess.Popen[bytes], timeout_s: float = 20.0, stop: signal.Signals = signal.SIGTERM
) -> int:
    """Send ``stop`` to a child started with ``start_new_session`` and wait; SIGKILL its process group if it
    outlives ``timeout_s``. Its exit status."""
    if process.poll() is None:
        process.send_signal(stop)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group start_new_session gave this child
            process.wait(timeout=10)
    return process.returncode


# --- results and docs/benchmarks.md ---------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One benchmark: the project's figure against the baseline's, measured in the same run.

    ``target`` bounds the ratio project/baseline: at least it when ``higher_is_better``, else at most it;
    ``None`` is informational ("—").
    """

    name: str
    project: float
    baseline: float
    unit: str
    command: str
    target: float | None = None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        return self.project / self.baseline if self.baseline else math.nan

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        return f"{'≥' if self.higher_is_better else '≤'} {self.target:.2f}"

    @property
    def pass_text(self) -> str:
        return {None: "—", True: "yes", False: "**no**"}[self.passed]


@dataclass
class SuiteReport:
    suite: str
    title: str
    project_label: str
    baseline_label: str
    results: list[Result]
    notes: list[str] = field(default_factory=list)
    command: str = ""
    date: str = ""
    machine: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.command = self.command or f"bench/run {self.suite}"
        self.date = self.date or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.machine = self.machine or machine_notes()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for row, result in zip(data["results"], self.results, strict=True):
            row["ratio"] = result.ratio
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SuiteReport:
        fields = {k: v for k, v in data.items() if k != "results"}
        results = [Result(**{k: v for k, v in row.items() if k != "ratio"}) for row in data["results"]]
        return cls(results=results, **fields)


def machine_notes() -> dict[str, str]:
    """What the figures depend on: CPUs, architecture, load, Python and server versions."""
    from importlib.metadata import PackageNotFoundError, version

    notes = {
        "nproc": str(os.cpu_count()),
        "arch": platform.machine(),
        "load average at the end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
    }
    for package in ("granian", "uvicorn", "litestar"):
        with contextlib.suppress(PackageNotFoundError):
            notes[package] = version(package)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        banner = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout
        notes["wrk"] = banner.split()[1] if len(banner.split()) > 1 else "?"
    return notes


def suite_command(suite: str, argv: Sequence[str]) -> str:
    """How to reproduce a run: ``bench/run <suite>``, or the module with its options when some were given."""
    return f"python -m bench.{suite} {' '.join(argv)}" if argv else f"bench/run {suite}"


def results_path(suite: str) -> Path:
    return RESULTS_DIR / f"{suite}.json"


def load_report(suite: str) -> SuiteReport | None:
    path = results_path(suite)
    if not path.exists():
        return None
    return SuiteReport.from_json(json.loads(path.read_text(encoding="utf-8")))


def fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def render_section(report: SuiteReport) -> str:
    machine = ", ".join(f"{k} {v}" for k, v in report.machine.items())
    lines = [
        _begin(report.suite),
        f"## {report.suite} — {report.title}",
        "",
        f"Run {report.date} with `{report.command}`. Machine: {machine}.",
        "",
        f"| benchmark | unit | project ({report.project_label}) | baseline ({report.baseline_label}) "
        "| ratio | target | pass? |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.name} | {r.unit} | {fmt(r.project)} | {fmt(r.baseline)} | {r.ratio:.2f} "
            f"| {r.target_text} | {r.pass_text} |"
        )
    commands: dict[str, list[str]] = {}
    for r in report.results:
        commands.setdefault(r.command, []).append(f"{r.name} ({r.unit})")
    lines += ["", "Commands:", ""]
    lines += [f"- {'; '.join(names)}: `{command}`" for command, names in commands.items()]
    if report.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {note}" for note in report.notes]
    lines.append(_end(report.suite))
    return "\n".join(lines)


def _begin(suite: str) -> str:
    return f"<!-- bench:{suite} begin -->"


def _end(suite: str) -> str:
    return f"<!-- bench:{suite} end -->"


_SECTION = re.compile(r"<!-- bench:(?P<suite>[\w-]+) begin -->.*?<!-- bench:(?P=suite) end -->", re.DOTALL)

PREAMBLE = """# Benchmarks

Figures produced by `bench/run [suite ...]` (the harness is in `bench/`; `bench/harness.py` holds the shared
pieces). The machine is shared and noisy, so each benchmark runs the project and its baseline in the same run,
alternating them, and reports the ratio project/baseline: compare ratios, not absolute figures, between runs.

Each suite rewrites only its own section below (between its `bench:<suite>` markers) and keeps the others;
the raw figures of the last local run are in `bench/results/<suite>.json` (not committed). Text outside the
sections is regenerated."""


def write_markdown(updated: Sequence[SuiteReport] = (), path: Path = DOC) -> str:
    """Rewrite ``docs/benchmarks.md``: the ``updated`` suites' sections replaced, the other sections kept.

    A suite with a local JSON result but no section yet in the file gets one from that JSON.
    """
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = {m.group("suite"): m.group(0) for m in _SECTION.finditer(existing)}
    for suite in SUITES:
        if suite not in sections and (report := load_report(suite)) is not None:
            sections[suite] = render_section(report)
    for report in updated:
        sections[report.suite] = render_section(report)
    order = [s for s in SUITES if s in sections] + sorted(s for s in sections if s not in SUITES)
    text = "\n\n".join([PREAMBLE, *(sections[s] for s in order)]) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def print_table(reports: Sequence[SuiteReport]) -> None:
    rows = [("suite", "benchmark", "project", "baseline", "ratio", "target", "pass?")]
    for report in reports:
        for r in report.results:
            rows.append(
                (
                    report.suite,
                    f"{r.name} ({r.unit})",
                    fmt(r.project),
                    fmt(r.baseline),
                    f"{r.ratio:.2f}",
                    r.target_text,
                    r.pass_text.strip("*"),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def publish(report: SuiteReport) -> None:
    """Save the suite's JSON, rewrite its section of docs/benchmarks.md, print its table."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_path(report.suite).write_text(
        json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_markdown([report])
    print_table([report])
