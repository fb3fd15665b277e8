"""``bench/run scaleout``: two ``learning serve`` and one ``learning worker`` behind nginx, on one PostgreSQL and
one S3 endpoint, as a deployment of several instances runs.

On an embedded PostgreSQL (``bench.harness.bench_database``) and moto's S3 server, instances A and B (granian,
1 worker each, jobs left to the worker, one secret key, the public address nginx's) and ``learning worker``;
nginx (1 worker, round robin, keep-alive to the upstreams) in front of both, and a second nginx in front of A
alone. The checks, each failing the suite:

- **invalidation**: B answers a module from its edge's store; an admin edits the module through A; B's
  answer changes within ``INVALIDATION_BUDGET_S`` (the database's NOTIFY reaching B's hub);
- **tus resume across instances**: an upload created and half sent through A is resumed through B (HEAD
  gives the offset A stored, the rest is PATCHed there), then processed by the worker (a real MP4 of the
  repository's media) until the upload is ``ready``;
- **shared login limits**: ``LEARNING_LOGIN_ACCOUNT_LIMIT`` failed logins for one account, alternated between
  A and B; the next one, on either, is refused (429): the limiter counts in PostgreSQL, not per process;
- **once-only counting**: one listener downloads a lesson's file through A, then again through B; once both
  recorders have flushed, the admin's figures count one download.

Then throughput: ``wrk`` on a module's JSON through nginx with A alone, then with A and B (same machine: both
instances share its 2 cores with PostgreSQL, nginx and wrk, so the ratio says what a second instance costs or
gains here, not on two machines).

    python -m bench.scaleout [--seconds 8]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    HOST,
    ROOT,
    App,
    Result,
    SuiteReport,
    bench_database,
    free_port,
    publish,
    run_wrk,
    running_app,
    stop_process,
)  # fmt: skip
from bench.media import background, ensure_tool, moto_s3

TEMPLATE = ROOT / "bench" / "nginx" / "scaleout.conf.template"
PORTS = {"nginx": 18950, "nginx-one": 18951, "a": 18952, "b": 18953, "moto": 18954}
MODULE = "dix-ans-de-recherche"
UPLOAD_SOURCE = ROOT / "media" / "webinar-2019-03.mp4"
UPLOAD_TARGET = "session:2019-03"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin-scaleout@example.org", "scaleout-" + secrets.token_urlsafe(12)
LOGIN_LIMIT = 6
INVALIDATION_BUDGET_S = 1.0
WAIT_S = 90.0  # the bound of every wait (a processed upload, a flushed recorder)
AGENT = "AntennaPod/3.4.0"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(url: str, method: str = "GET", *, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def call_json(url: str, method: str, data: Any, token: str | None = None) -> Answer:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return call(url, method, body=json.dumps(data).encode(), headers=headers)


def until(condition: Callable[[], bool], seconds: float = WAIT_S, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


@contextlib.contextmanager
def nginx_proxy(upstreams: Sequence[int], port: int) -> Iterator[str]:
    binary = ensure_tool("nginx", "nginx-light")
    with tempfile.TemporaryDirectory(prefix="learning-bench-scaleout-") as tmp:
        work = Path(tmp)
        fields = {
            "@USER@": pwd.getpwuid(os.geteuid()).pw_name,
            "@WORK@": str(work),
            "@HOST@": HOST,
            "@PORT@": str(port),
            "@SERVERS@": "\n".join(f"        server {HOST}:{upstream};" for upstream in upstreams),
        }
        config = TEMPLATE.read_text(encoding="utf-8")
        for key, value in fields.items():
            config = config.replace(key, value)
        (work / "nginx.conf").write_text(config, encoding="utf-8")
        argv = [binary, "-p", str(work), "-e", str(work / "error.log"), "-c", str(work / "nginx.conf")]
        with background(f"nginx-{port}", argv, port=port, stop=signal.SIGQUIT):
            yield f"http://{HOST}:{port}"


@contextlib.contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``learning worker`` in its own process group (it serves nothing: alive is ready), SIGTERMed on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "learning.cli", "worker"], cwd=log_path.parent, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop_process(process)


@dataclass
class Checks:
    passed: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, name: str, ok: bool, note: str) -> None:
        self.passed[name] = ok
        self.notes.append(f"{name}: {'passed' if ok else 'FAILED'} — {note}")
        print(f"  {name}: {'passed' if ok else 'FAILED'} — {note}", flush=True)


def create_admin(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "learning.cli", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        input=ADMIN_PASSWORD + "\n", text=True, capture_output=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"create-admin failed: {done.stderr}")


def login(base: str, email: str, password: str) -> Answer:
    return call_json(f"{base}/api/v1/auth/login", "POST", {"email": email, "password": password})


def check_invalidation(checks: Checks, a: App, b: App, token: str) -> None:
    path = f"/api/v1/modules/{MODULE}"
    call(b.url(path))
    warm = call(b.url(path))
    from_edge = warm.headers.get("x-answered-by") == "edge"
    title = f"Dix ans de recherche (édition du banc d'essai {secrets.token_hex(3)})"
    edited = call_json(a.url(f"/api/v1/admin/modules/{MODULE}"), "PATCH", {"title": title}, token)
    started = time.monotonic()
    seen = until(lambda: call(b.url(path)).json().get("title") == title, seconds=10)
    elapsed = time.monotonic() - started
    ok = edited.status == 200 and from_edge and seen and elapsed <= INVALIDATION_BUDGET_S
    checks.record(
        "invalidation across instances", ok,
        f"B answered from its edge before the edit: {from_edge}; edit through A: {edited.status}; B's answer "
        f"changed after {elapsed * 1000:.0f} ms (budget {INVALIDATION_BUDGET_S * 1000:.0f} ms)",
    )  # fmt: skip


def check_tus_resume(checks: Checks, a: App, b: App, base: str, token: str) -> None:
    data = UPLOAD_SOURCE.read_bytes()
    half = len(data) // 2
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in (("filename", UPLOAD_SOURCE.name), ("target", UPLOAD_TARGET), ("filetype", "video/mp4"))
    )
    created = call(a.url("/api/v1/admin/uploads"), "POST",
                   headers=auth | {"Upload-Length": str(len(data)), "Upload-Metadata": metadata})  # fmt: skip
    location = created.headers.get("location", "")
    upload_path = location[location.index("/api/") :] if "/api/" in location else ""
    patch = auth | {"Content-Type": "application/offset+octet-stream"}
    first = call(a.url(upload_path), "PATCH", body=data[:half], headers=patch | {"Upload-Offset": "0"})
    head = call(b.url(upload_path), "HEAD", headers=auth)
    offset = head.headers.get("upload-offset")
    rest = call(b.url(upload_path), "PATCH", body=data[half:], headers=patch | {"Upload-Offset": str(half)})
    upload_id = upload_path.rsplit("/", 1)[-1]
    state: dict[str, Any] = {}

    def processed() -> bool:
        state.update(call(f"{base}/api/v1/admin/uploads/{upload_id}", headers={"Authorization": f"Bearer {token}"})
                     .json())  # fmt: skip
        return state.get("status") in {"ready", "failed"}

    finished = bool(upload_path) and until(processed)
    sent = created.status == 201 and first.status == 204 and offset == str(half) and rest.status == 204
    ok = sent and rest.headers.get("upload-offset") == str(len(data)) and finished and state.get("status") == "ready"
    checks.record(
        "tus upload resumed on the other instance", ok,
        f"{len(data):,} B ({UPLOAD_SOURCE.name}, sha256 {hashlib.sha256(data).hexdigest()[:12]}…): created through "
        f"A {created.status}, first half through A {first.status}, HEAD through B offset {offset}, the rest "
        f"through B {rest.status} (offset {rest.headers.get('upload-offset')}), processed by the worker: "
        f"{state.get('status')}",
    )  # fmt: skip


def check_login_limits(checks: Checks, a: App, b: App) -> None:
    email = f"nobody-{secrets.token_hex(4)}@example.org"
    statuses = [login((a, b)[attempt % 2].base_url, email, "not-the-password").status for attempt in range(LOGIN_LIMIT)]
    after = [login(app.base_url, email, "not-the-password").status for app in (a, b)]
    ok = all(status == 401 for status in statuses) and after == [429, 429]
    checks.record(
        "shared login limits", ok,
        f"{LOGIN_LIMIT} failed logins alternated A/B answered {sorted(set(statuses))}; the next on A and on B: "
        f"{after} (the limit: {LOGIN_LIMIT} failed logins per account and client, across instances)",
    )  # fmt: skip


def check_counting(checks: Checks, a: App, b: App, base: str, token: str) -> None:
    lessons = call(f"{base}/api/v1/modules/{MODULE}").json()["lessons"]
    media = next(lesson["media"] for lesson in lessons if lesson.get("media"))
    path = media["url"][media["url"].index("/media/") :] if "/media/" in media["url"] else media["url"]
    asset = media.get("id")
    answers = [call(app.url(path), headers={"User-Agent": AGENT}) for app in (a, b)]
    admin = {"Authorization": f"Bearer {token}"}

    def flushed() -> bool:
        return all(call(app.url("/api/v1/admin/downloads/recorder"), headers=admin).json().get("pending") == 0
                   for app in (a, b))  # fmt: skip

    def counted() -> int:
        items = call(f"{base}/api/v1/admin/downloads/?limit=100", headers=admin).json()["items"]
        return sum(item["total"] for item in items if asset is None or item["asset_id"] == asset)

    ok_flush = until(lambda: flushed() and counted() > 0)
    total = counted()
    ok = all(answer.status == 200 for answer in answers) and ok_flush and total == 1
    checks.record(
        "once-only counting", ok,
        f"the same listener ({AGENT}, one address) fetched {path} through A ({answers[0].status}) and B "
        f"({answers[1].status}); both recorders flushed: {ok_flush}; downloads counted: {total}",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="measured seconds per throughput run")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    checks = Checks()
    with bench_database() as url, moto_s3(PORTS["moto"]) as endpoint:
        nginx_port, one_port = free_port(PORTS["nginx"]), free_port(PORTS["nginx-one"])
        public = f"http://{HOST}:{nginx_port}"
        env = {
            "LEARNING_STORAGE_BACKEND": "s3", "LEARNING_S3_ENDPOINT": endpoint, "LEARNING_S3_ACCESS_KEY": "testing",
            "LEARNING_S3_SECRET_KEY": "testing", "LEARNING_S3_BUCKET": "learning-scaleout",
            "LEARNING_JOBS_IN_PROCESS": "false", "LEARNING_SECRET_KEY": secrets.token_urlsafe(48),
            "LEARNING_PUBLIC_BASE_URL": public, "LEARNING_LOGIN_IP_LIMIT": "1000",
            "LEARNING_LOGIN_ACCOUNT_LIMIT": str(LOGIN_LIMIT),
        }  # fmt: skip
        with (
            running_app("scaleout-a", url, port=PORTS["a"], env=env) as a,
            running_app("scaleout-b", url, port=PORTS["b"], env=env) as b,
        ):
            worker_env = {**a.env, "LEARNING_DATA_DIR": str(Path(a.env["LEARNING_DATA_DIR"]).parent / "worker")}
            Path(worker_env["LEARNING_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
            create_admin(worker_env)
            with (
                worker_process(worker_env, Path(worker_env["LEARNING_DATA_DIR"]).parent / "worker.log"),
                nginx_proxy([a.port, b.port], nginx_port) as base,
                nginx_proxy([a.port], one_port) as one,
            ):
                token = login(base, ADMIN_EMAIL, ADMIN_PASSWORD).json()["access_token"]
                check_invalidation(checks, a, b, token)
                check_tus_resume(checks, a, b, base, token)
                check_counting(checks, a, b, base, token)
                check_login_limits(checks, a, b)
                path = f"/api/v1/modules/{MODULE}"
                runs = {name: run_wrk(f"{where}{path}", connections=64, duration_s=args.seconds, threads=2)
                        for name, where in (("one", one), ("two", base))}  # fmt: skip
    failed = [name for name, ok in checks.passed.items() if not ok]
    command = f"bench/run scaleout ({runs['two'].command} ; {runs['one'].command})"
    results = [
        Result(f"checks failed, of {len(checks.passed)} (baseline column: the checks)", len(failed),
               len(checks.passed), "checks", command, target=0.0, higher_is_better=False),
        Result(f"`GET {path}` through nginx: two instances ÷ one", runs["two"].requests_per_second,
               runs["one"].requests_per_second, "req/s", command),
        Result(f"`GET {path}` p99 through nginx: two instances ÷ one", runs["two"].p99_ms, runs["one"].p99_ms,
               "p99 ms", command, higher_is_better=False),
    ]  # fmt: skip
    publish(
        SuiteReport(
            suite="scaleout",
            title="scale-out — two instances and a worker behind nginx",
            project_label="two instances (or the checks failed)",
            baseline_label="one instance (or the checks run)",
            results=results,
            notes=[*checks.notes, __doc__.split("\n\n")[1].replace("\n", " ")],
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
