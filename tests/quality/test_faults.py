"""Faults users live through, and what they must see.

- The object store goes away during delivery, during an upload and during a processing job: clients get
  503 ``application/problem+json`` with ``Retry-After``, nothing half-done becomes visible, and everything
  resumes once the store is back (the upload from the offset HEAD reports, the job by itself).
- PostgreSQL connections are killed while requests are in flight: those requests are 503, never 500, and
  the app recovers without a restart.
- ``learning serve`` is SIGKILLed in the middle of an upload and of a processing job: after a restart the
  upload resumes and the job completes, with nothing lost and nothing duplicated.
- A client's connection dies in the middle of a PATCH: asked where to resume (HEAD), the server answers.

The store's outage is a relay in front of moto that closes its port and resets every open connection, then
listens on the same port again: what the app sees of a MinIO that goes down and comes back with its disks.
Restarting moto itself would bring back an empty store (it keeps everything in memory), not the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from tusclient import client as tus
from tusclient.uploader.uploader import Uploader

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from learning.jobs import replays
from learning.media import renditions
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES, sync
from tests.helpers.cli import clean_environment, learning_command
from tests.helpers.database import libpq, make_settings, sql
from tests.helpers.live import free_port, live_server
from tests.helpers.media import make_video
from tests.helpers.progress import MODULE, played
from tests.helpers.s3 import MotoServer
from tests.uploads.conftest import Server

ADMIN = "regie@example.org"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 256 * 1024
MIB = 1024 * 1024
KILL_CONNECTIONS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


# --------------------------------------------------------------------------- helpers


class StoreRelay:
    """A TCP relay to moto on its own loopback port: ``cut()`` closes the port and resets every open
    connection (the store is down); ``restore()`` listens on the same port again (the store is back)."""

    host = "127.0.0.1"

    def __init__(self, target: MotoServer) -> None:
        self.target = (target.host, target.port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="store-relay", daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._open = self._open, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        for connection in connections:
            _reset(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _reset(client)
                    _reset(upstream)
                    continue
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(64 * 1024):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


def _reset(connection: socket.socket) -> None:
    """Close with a RST, as the kernel of a dead peer answers."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 a client can act on: problem+json (its body too, but for HEAD) and a Retry-After."""
    assert response.status_code == 503, (response.request.method, response.request.url.path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    if response.request.method != "HEAD":
        assert response.json()["status"] == 503


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll ``check`` until it returns something truthy (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"still waiting for {what} after {timeout} s")


def login(base: str, email: str = ADMIN) -> str:
    response = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def new_upload(server: Server, data: bytes) -> Uploader:
    """tuspy, as an admin's client: a replay for the March 2019 session, to publish once ready."""
    metadata = {"filename": "mars.mov", "target": "session:2019-03", "filetype": "video/quicktime", "publish": "1"}
    client = tus.TusClient(server.uploads, headers=server.headers)
    return client.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata=metadata)


def resumed_upload(server: Server, data: bytes, location: str) -> Uploader:
    """A new tuspy client picking the upload up at the offset the server reports (HEAD)."""
    client = tus.TusClient(server.uploads, headers=server.headers)
    return client.uploader(file_stream=io.BytesIO(data), url=location, chunk_size=CHUNK)


def upload_url(uploader: Uploader) -> str:
    """Where the upload lives (tuspy learns it from the creation's Location)."""
    url: object = uploader.url
    assert isinstance(url, str)
    return url


def head_offset(server: Server, location: str) -> int:
    response = httpx.head(location, headers=server.headers | TUS)
    assert response.status_code == 200, response.status_code
    return int(response.headers["upload-offset"])


def patch_headers(server: Server, offset: int) -> dict[str, str]:
    return server.headers | TUS | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}


def march(url: str) -> dict[str, Any]:
    """What the March 2019 session shows: its replay and whether it is published."""
    rows = sql(url, "SELECT replay_id, publication FROM webinar_session WHERE slug LIKE '2019-03%'")
    assert len(rows) == 1
    return dict(rows[0])


def asset_count(url: str) -> int:
    count: int = sql(url, "SELECT count(*) AS n FROM media_asset")[0]["n"]
    return count


def replay_assets(url: str, upload_id: uuid.UUID) -> dict[str, Any]:
    """The assets an upload's processing makes, by role (their ids derive from the upload's)."""
    ids = {role: uuid.uuid5(upload_id, role) for role in ("original", "audio", "poster")}
    found = sql(url, "SELECT * FROM media_asset WHERE id = ANY($1::uuid[])", list(ids.values()))
    rows = {row["id"]: row for row in found}
    return {role: rows[asset_id] for role, asset_id in ids.items() if asset_id in rows}


def assert_nothing_published(url: str, upload_id: uuid.UUID, before: dict[str, Any], assets_before: int) -> None:
    assert march(url) == before
    assert replay_assets(url, upload_id) == {}
    assert asset_count(url) == assets_before


def assert_published_once(url: str, upload_id: uuid.UUID, assets_before: int) -> dict[str, Any]:
    """One ready replay (original, audio, poster) attached to the session and published; no other asset."""
    assets = replay_assets(url, upload_id)
    assert set(assets) == {"original", "audio", "poster"}
    assert {row["status"] for row in assets.values()} == {"ready"}
    assert asset_count(url) == assets_before + 3
    assert march(url) == {"replay_id": assets["original"]["id"], "publication": "published"}
    upload = sql(url, "SELECT status, asset_id FROM upload")
    assert [(row["status"], row["asset_id"]) for row in upload] == [("ready", assets["original"]["id"])]
    return assets


def replay_bytes(folder: Path, seconds: float) -> bytes:
    """A real replay: pictures and a PCM sound track (so the audio rendition is a real encode, and a
    minute of it is 11 MiB: more than one S3 part, more than one local write block)."""
    path = make_video(folder / "mars.mov", seconds=seconds, fmt="mov", audio_codec="pcm_s16le", channels=2)
    return path.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def s3_object(server: MotoServer, bucket: str, key: str) -> bytes:
    response = server.client().get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def synced(settings: Settings) -> Settings:
    """The shipped catalog (on the local store) and an admin account."""
    sync(settings)
    asyncio.run(create_admin(settings, email=ADMIN, password=PASSWORD))
    return settings.model_copy(update={"upload_max_bytes": 64 * MIB})


@pytest.fixture
def relay(s3_server: MotoServer) -> Iterator[StoreRelay]:
    relay = StoreRelay(s3_server)
    relay.restore()
    yield relay
    relay.cut()


@pytest.fixture
def s3_uploads(synced: Settings, s3_server: MotoServer, s3_bucket: str, relay: StoreRelay) -> Iterator[Server]:
    """A live app (jobs in process) storing uploads in a fresh bucket, reached through the relay."""
    port = free_port()  # the public address is the server's own: tus Location is built from it
    public = {"s3_endpoint": relay.endpoint, "public_base_url": f"http://127.0.0.1:{port}"}
    settings = synced.model_copy(update=s3_server.settings(s3_bucket) | public)
    with live_server(create_app(settings), port=port) as base:
        yield Server(base=base, settings=settings, token=login(base))


# --------------------------------------------------------------------------- the object store goes away


def test_store_outage_during_delivery_is_503_then_media_is_served_again(
    clean_database: str, tmp_path: Path, s3_server: MotoServer, s3_bucket: str, relay: StoreRelay
) -> None:
    settings = make_settings(
        clean_database, tmp_path / "var", **s3_server.settings(s3_bucket) | {"s3_endpoint": relay.endpoint}
    )
    sync(settings)
    row = sql(clean_database, "SELECT id, storage_key FROM media_asset WHERE ref = 'mooc-audio-03.m4a'")[0]
    path = f"/media/{row['id']}/mooc-audio-03.m4a"
    audio = s3_object(s3_server, s3_bucket, row["storage_key"])
    with live_server(create_app(settings)) as base:
        assert httpx.get(base + path, headers={"Range": "bytes=0-99"}).status_code == 206
        relay.cut()
        assert_unavailable(httpx.get(base + path, headers={"Range": "bytes=100-199"}))
        assert_unavailable(httpx.get(base + path))
        assert_unavailable(httpx.head(base + path))
        assert_unavailable(httpx.get(base + "/health/ready"))
        relay.restore()
        again = httpx.get(base + path, headers={"Range": "bytes=100-199"})
        assert (again.status_code, again.content) == (206, audio[100:200])
        assert httpx.get(base + path).content == audio
        head = httpx.head(base + path)
        assert (head.status_code, int(head.headers["content-length"])) == (200, len(audio))
        assert httpx.get(base + "/health/ready").status_code == 200


def test_store_outage_during_an_upload_is_503_with_retry_after(  # regression: was a 500
    s3_uploads: Server, relay: StoreRelay, tmp_path: Path
) -> None:
    data = replay_bytes(tmp_path, seconds=3.0)
    first = new_upload(s3_uploads, data)
    first.upload(stop_at=CHUNK)
    location = upload_url(first)
    relay.cut()
    assert_unavailable(httpx.patch(location, content=data[CHUNK : 2 * CHUNK], headers=patch_headers(s3_uploads, CHUNK)))
    assert_unavailable(httpx.head(location, headers=s3_uploads.headers | TUS))
    creation = {"Upload-Length": "10", "Upload-Metadata": "filename eC5tb3Y=,target c2Vzc2lvbjoyMDE5LTAz"}
    assert_unavailable(httpx.post(s3_uploads.uploads, headers=s3_uploads.headers | TUS | creation))


def cut_mid_patch(server: Server, s3_server: MotoServer, bucket: str, relay: StoreRelay, data: bytes) -> str:
    """Start an upload, then send a PATCH of 9 MiB and take the store away once the app has stored the
    first S3 part (8 MiB) of it, with the rest of the body still to store. Returns the upload's URL."""
    first = new_upload(server, data)
    first.upload(stop_at=CHUNK * 3)
    location = upload_url(first)
    url = server.settings.require_database_url()
    row = sql(url, "SELECT storage_key, multipart_id FROM upload")[0]

    def stored_parts() -> list[Any]:
        parts: list[Any] = s3_server.client()._list_parts(bucket, row["storage_key"], row["multipart_id"]).parts
        return parts

    def body() -> Iterator[bytes]:
        end = CHUNK * 3 + 9 * MIB
        for offset in range(CHUNK * 3, end, CHUNK):
            if offset + CHUNK == end:  # the last chunk goes after the store: the app still has bytes to store
                wait_for(stored_parts, "the first part in the store")
                relay.cut()
            yield data[offset : offset + CHUNK]

    # The body's size is declared, as tus clients do (on S3 a body of unknown size is held back until its end).
    headers = patch_headers(server, CHUNK * 3) | {"Content-Length": str(9 * MIB)}
    interrupted = httpx.patch(location, content=body(), headers=headers, timeout=60)
    assert interrupted.status_code >= 500  # 503 is the contract: see the test above
    return location


def test_upload_cut_by_a_store_outage_resumes_and_is_published_once(
    s3_uploads: Server, s3_server: MotoServer, s3_bucket: str, relay: StoreRelay, tmp_path: Path
) -> None:
    url = s3_uploads.settings.require_database_url()
    data = replay_bytes(tmp_path, seconds=60.0)
    before, assets_before = march(url), asset_count(url)
    location = cut_mid_patch(s3_uploads, s3_server, s3_bucket, relay, data)
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    assert_nothing_published(url, upload_id, before, assets_before)

    relay.restore()
    # The stored part counts; the bytes after it count only if they reached the store before it went away
    # (the app stores what it holds when the client pauses, as this one did while waiting for the part).
    offset = head_offset(s3_uploads, location)
    assert offset in {8 * MIB, CHUNK * 3 + 9 * MIB}
    assert sql(url, "SELECT status FROM upload")[0]["status"] == "uploading"
    resumed = resumed_upload(s3_uploads, data, location)
    assert resumed.offset == offset
    resumed.upload()
    assert s3_uploads.wait_until_done(location)["status"] == "ready"
    assets = assert_published_once(url, upload_id, assets_before)
    assert sha256(s3_object(s3_server, s3_bucket, assets["original"]["storage_key"])) == sha256(data)
    for role in ("audio", "poster"):
        stored = s3_server.client().stat_object(s3_bucket, assets[role]["storage_key"])
        assert stored.size == assets[role]["size_bytes"]


def test_upload_cut_by_a_store_outage_leaves_no_incomplete_part_behind(
    s3_uploads: Server, s3_server: MotoServer, s3_bucket: str, relay: StoreRelay, tmp_path: Path
) -> None:
    data = replay_bytes(tmp_path, seconds=60.0)
    location = cut_mid_patch(s3_uploads, s3_server, s3_bucket, relay, data)
    relay.restore()
    resumed_upload(s3_uploads, data, location).upload()
    assert s3_uploads.state(location)["offset"] == len(data)
    leftovers = s3_server.client().list_objects(s3_bucket, prefix="incomplete/", recursive=True)
    assert [item.object_name for item in leftovers] == []


def test_store_outage_during_processing_publishes_nothing_then_the_job_completes(
    s3_uploads: Server,
    s3_server: MotoServer,
    s3_bucket: str,
    relay: StoreRelay,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = s3_uploads.settings.require_database_url()
    data = replay_bytes(tmp_path, seconds=5.0)
    before, assets_before = march(url), asset_count(url)
    # The store goes away at a precise step of the job: the source has been read from it, the audio
    # rendition is being made and is about to be stored.
    make_audio_rendition = renditions.make_audio_rendition
    gone = threading.Event()

    def store_goes_away_then_render(*args: Any) -> Any:
        if not gone.is_set():  # the first attempt only
            gone.set()
            relay.cut()
        return make_audio_rendition(*args)

    monkeypatch.setattr(replays, "make_audio_rendition", store_goes_away_then_render)
    monkeypatch.setattr(replays, "RETRY_AFTER_OUTAGE", timedelta(seconds=1))  # instead of 30 s
    put_off = threading.Event()
    again_later = replays.ReplayProcessor._again_later

    async def spied_again_later(self: replays.ReplayProcessor, upload_id: uuid.UUID, attempt: int) -> None:
        await again_later(self, upload_id, attempt)
        put_off.set()

    monkeypatch.setattr(replays.ReplayProcessor, "_again_later", spied_again_later)

    uploader = new_upload(s3_uploads, data)
    uploader.upload()
    location = upload_url(uploader)
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    assert put_off.wait(timeout=60), "the job did not put itself off"
    # The job gave up for now: nothing half-done is visible; the admin sees it still processing.
    assert s3_uploads.state(location)["status"] == "processing"
    assert_nothing_published(url, upload_id, before, assets_before)

    relay.restore()
    assert s3_uploads.wait_until_done(location)["status"] == "ready"
    assets = assert_published_once(url, upload_id, assets_before)
    for asset in assets.values():
        assert s3_server.client().stat_object(s3_bucket, asset["storage_key"]).size == asset["size_bytes"]
    assert sha256(s3_object(s3_server, s3_bucket, assets["original"]["storage_key"])) == sha256(data)


# --------------------------------------------------------------------------- PostgreSQL connections killed


async def _kill_with_requests_waiting(url: str, tables: str, start: Callable[[], None], waiting: int) -> int:
    """Lock ``tables``, ``start`` requests that need them, and once ``waiting`` backends wait on the lock
    (the requests are in flight, holding their connections), terminate every other connection."""
    connection = await asyncpg.connect(libpq(url))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
        start()
        deadline = time.monotonic() + 30
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        while await connection.fetchval(query) < waiting:
            assert time.monotonic() < deadline, "the requests never reached the database"
            await asyncio.sleep(0.02)
            await connection.execute("SELECT pg_stat_clear_snapshot()")  # a new look at the activity, not the first
        killed: int = await connection.fetchval(KILL_CONNECTIONS)
        await transaction.rollback()
        return killed
    finally:
        await connection.close()


class Load:
    """Learners' traffic from two threads: catalog reads (cached and not) and progress writes and reads."""

    def __init__(self, base: str, token: str, lesson: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lesson = lesson
        self.answers: list[tuple[str, int, str, str | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(2)]
        self._lock = threading.Lock()

    def _requests(self, n: int, i: int) -> list[tuple[str, str, dict[str, Any] | None]]:
        return [
            ("GET", "/api/v1/modules", None),
            ("GET", f"/api/v1/modules/{MODULE}", None),
            ("GET", f"/api/v1/modules/{MODULE}?load={n}-{i}", None),  # never cached: always the database
            ("GET", f"/api/v1/webinars/{SERIES}", None),
            ("POST", "/api/v1/me/progress/events", {"events": [played(self.lesson, i % 20, i % 20 + 1, minute=i)]}),
            ("GET", f"/api/v1/me/progress/lessons/{self.lesson}", None),
            ("GET", "/api/v1/me", None),
        ]

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                for method, path, body in self._requests(n, i):
                    response = client.request(method, path, json=body)
                    with self._lock:
                        self.answers.append(
                            (f"{method} {path}", response.status_code, response.headers.get("content-type", ""),
                             response.headers.get("retry-after"))
                        )  # fmt: skip

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.answers)

    def wait_for_more(self, requests: int) -> None:
        goal = self.done + requests
        wait_for(lambda: self.done >= goal, f"{requests} more requests from the learners")

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def test_killed_database_connections_are_503_and_the_app_recovers(synced: Settings) -> None:
    url = synced.require_database_url()
    query = (
        "SELECT l.id FROM lesson l JOIN module m ON m.id = l.module_id "
        "WHERE m.slug = $1 AND l.kind = 'video' ORDER BY l.position LIMIT 1"
    )
    lesson = str(sql(url, query, MODULE)[0]["id"])
    with live_server(create_app(synced)) as base:
        email = "apprenante@example.org"
        registered = httpx.post(f"{base}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201
        token = login(base, email)
        learner = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{base}/api/v1/me/enrollments", json={"module": MODULE}, headers=learner).status_code == 201

        # Two requests certainly in flight (waiting on a lock, in the middle of their transaction) when
        # their connections are killed.
        batch = {"events": [played(lesson, 0, 10, minute=1), played(lesson, 10, 20, minute=2)]}
        blocked: dict[str, httpx.Response] = {}
        calls = {
            "catalog": lambda: httpx.get(f"{base}/api/v1/modules/{MODULE}?blocked=1", timeout=30),
            "progress": lambda: httpx.post(
                f"{base}/api/v1/me/progress/events", json=batch, headers=learner, timeout=30
            ),
        }

        def in_background(name: str, call: Callable[[], httpx.Response]) -> threading.Thread:
            return threading.Thread(target=lambda: blocked.update({name: call()}), daemon=True)

        threads = [in_background(name, call) for name, call in calls.items()]

        def start() -> None:
            for thread in threads:
                thread.start()

        killed = asyncio.run(_kill_with_requests_waiting(url, "module, progress_event", start, len(threads)))
        for thread in threads:
            thread.join(timeout=30)
        assert killed >= 2
        assert_unavailable(blocked["catalog"])
        assert_unavailable(blocked["progress"])
        # The client sends the refused batch again: applied now, once.
        again = httpx.post(f"{base}/api/v1/me/progress/events", json=batch, headers=learner)
        assert (again.status_code, again.json()["applied"], again.json()["replayed"]) == (200, 2, 0)
        ids = [uuid.UUID(event["id"]) for event in batch["events"]]
        assert sql(url, "SELECT count(*) AS n FROM progress_event WHERE id = ANY($1::uuid[])", ids)[0]["n"] == 2

        # Connections killed again and again under load: each failed request is a 503, never a 500.
        with Load(base, token, lesson) as load:
            for _ in range(5):
                load.wait_for_more(15)
                assert sql(url, KILL_CONNECTIONS)[0]["count"] >= 1
            # A change another process commits while this app is not listening is not hidden by its cache.
            sql(url, "UPDATE module SET title = 'Dix ans de recherche, revus' WHERE slug = $1", MODULE)
            load.wait_for_more(15)
        failed = [answer for answer in load.answers if answer[1] >= 300]
        assert [answer for answer in failed if answer[1] != 503] == []
        assert [answer for answer in failed if answer[2] != "application/problem+json" or not answer[3]] == []

        # No restart: the next requests succeed.
        for path in (
            "/api/v1/modules",
            f"/api/v1/webinars/{SERIES}",
            "/api/v1/me",
            f"/api/v1/me/progress/lessons/{lesson}",
        ):
            assert httpx.get(base + path, headers=learner).status_code == 200, path
        wait_for(
            lambda: httpx.get(f"{base}/api/v1/modules/{MODULE}").json()["title"] == "Dix ans de recherche, revus",
            "the module's new title",
            timeout=10,
        )


# --------------------------------------------------------------------------- the app is killed


class Serve:
    """``learning serve`` as production runs it (granian), SIGKILLed like a machine that dies: the whole
    process group, workers included, with no chance to clean up."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = clean_environment(
            LEARNING_DATABASE_URL=settings.require_database_url(),
            LEARNING_DATA_DIR=str(settings.data_dir),
            LEARNING_LOCAL_STORAGE_ROOT=str(settings.media_root),
            LEARNING_SECRET_KEY=settings.signing_key(),
            LEARNING_CONTENT_DIR=str(settings.content_root),
            LEARNING_CONTENT_SYNC_ON_START="false",  # the test synced it already
            LEARNING_PORT=str(self.port),
            LEARNING_PUBLIC_BASE_URL=self.base,
            LEARNING_UPLOAD_MAX_BYTES=str(64 * MIB),
            LEARNING_LOG_LEVEL="WARNING",
            # A killed server's job runs again once its heartbeat is this old (30 s by default).
            LEARNING_JOB_HEARTBEAT_TIMEOUT_SECONDS="10",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Server:
        assert not _accepts(self.port), "a previous server still answers on the port"
        self.starts += 1
        with (self.folder / f"serve-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                learning_command("serve"), env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(self._ready, "learning serve to be ready", timeout=90)
        return Server(base=self.base, settings=self.settings, token=login(self.base))

    def _ready(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, (self.folder / f"serve-{self.starts}.log").read_text(errors="replace")
        try:
            return httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        wait_for(lambda: not _accepts(self.port), "the killed server's port to close", timeout=30)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def serve(synced: Settings, tmp_path: Path) -> Iterator[Serve]:
    serve = Serve(synced, tmp_path)
    yield serve
    serve.kill()


def test_killed_app_resumes_the_upload_and_finishes_the_job_exactly_once(
    synced: Settings, serve: Serve, tmp_path: Path
) -> None:
    url = synced.require_database_url()
    data = replay_bytes(tmp_path, seconds=60.0)
    before, assets_before = march(url), asset_count(url)

    # 1. Killed while a PATCH is arriving, after the server wrote some of its bytes.
    server = serve.start()
    first = new_upload(server, data)
    first.upload(stop_at=CHUNK * 4)
    location = upload_url(first)
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    start, end = CHUNK * 4, CHUNK * 4 + 6 * MIB

    def body() -> Iterator[bytes]:
        for offset in range(start, end, CHUNK):
            yield data[offset : offset + CHUNK]
        # The server appends what arrives in blocks of 4 MiB: once one is on disk, kill it mid-request.
        wait_for(lambda: staged.stat().st_size > start, "a block of the PATCH on disk")
        serve.kill()

    staged = synced.media_root / ".appends" / upload_id.hex
    with pytest.raises(httpx.TransportError):
        httpx.patch(location, content=body(), headers=patch_headers(server, start), timeout=60)
    assert serve.process is None  # killed by the body above, not failed before
    assert_nothing_published(url, upload_id, before, assets_before)

    # 2. After a restart, the upload resumes from the offset the server reports, and completes.
    server = serve.start()
    offset = head_offset(server, location)
    assert start < offset <= end
    resumed = resumed_upload(server, data, location)
    assert resumed.offset == offset
    resumed.upload()

    # 3. Killed while processing it.
    wait_for(lambda: server.state(location)["status"] != "uploaded", "the job to start", timeout=60)
    serve.kill()
    status = sql(url, "SELECT status FROM upload WHERE id = $1", upload_id)[0]["status"]
    assert status == "processing", "the job was not under way when the app was killed"
    assert_nothing_published(url, upload_id, before, assets_before)

    # 4. After a restart, the job is picked up again (once its heartbeat is stale) and completes, once.
    server = serve.start()
    assert server.wait_until_done(location, timeout=90)["status"] == "ready"
    assets = assert_published_once(url, upload_id, assets_before)
    original = synced.media_root / assets["original"]["storage_key"]
    assert sha256(original.read_bytes()) == sha256(data)
    renditions = synced.media_root / "renditions" / upload_id.hex
    assert sorted(path.name for path in renditions.iterdir()) == ["audio.m4a", "poster.jpg"]
    assert not any((synced.media_root / ".appends").iterdir())
    replay = httpx.get(f"{server.base}/media/{assets['original']['id']}/{assets['original']['name']}.mov")
    assert (replay.status_code, sha256(replay.content)) == (200, sha256(data))


# --------------------------------------------------------------------------- a client's connection stalls


def test_head_answers_while_a_stalled_patch_holds_the_upload(synced: Settings) -> None:
    data = os.urandom(8 * MIB)
    port = free_port()  # the public address is the server's own: tus Location is built from it
    settings = synced.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    with live_server(create_app(settings), port=port) as base:
        server = Server(base=base, settings=settings, token=login(base))
        first = new_upload(server, data)
        first.upload(stop_at=CHUNK)
        location = upload_url(first)
        staged = synced.media_root / ".appends" / uuid.UUID(location.rsplit("/", 1)[1]).hex
        release = threading.Event()

        def body() -> Iterator[bytes]:
            # The client's network goes away mid-PATCH: the server has stored some bytes and still waits
            # for more on a connection it does not know is dead.
            for offset in range(CHUNK, CHUNK + 5 * MIB, CHUNK):
                yield data[offset : offset + CHUNK]
            wait_for(lambda: staged.stat().st_size > CHUNK, "a block of the PATCH on disk")
            release.wait(timeout=60)

        stalled = threading.Thread(
            target=lambda: httpx.patch(location, content=body(), headers=patch_headers(server, CHUNK), timeout=90),
            daemon=True,
        )
        stalled.start()
        try:
            wait_for(lambda: staged.stat().st_size > CHUNK, "a block of the PATCH on disk")
            # The client, on its new network, asks where to resume: it must get an answer.
            resumed = httpx.head(location, headers=server.headers | TUS, timeout=5)
            assert resumed.status_code == 200
            assert int(resumed.headers["upload-offset"]) == staged.stat().st_size
        finally:
            release.set()
            stalled.join(timeout=60)
