"""Issue 17, uploads: no client's slow or broken connection degrades the others, and nothing is left behind.

- A PATCH holds neither a database connection nor the upload's row while its body streams: a half-open
  connection does not delay the resuming PATCH (the newer one cuts it; the bytes it delivered count), and
  stalled PATCHes do not starve the pool.
- A body that stops sending is cut after ``upload_body_timeout_seconds``.
- A database failure at the end of the last PATCH leaves an upload that HEAD describes truly and that completes.
- A refused creation-with-upload leaves no staging file, multipart upload or row; on S3 a 413 PATCH keeps nothing.
- Creations beyond the quota or the local disk's free space are 507.
- Expired uploads are swept by the app that runs jobs (the default ``learning serve``).
- Numeric tus headers are ASCII digits of bounded length (400 otherwise, never 500).
- ``Location`` comes from the public URL, never from the ``Host`` header.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import sync
from tests.helpers.database import sql
from tests.helpers.live import free_port, live_server
from tests.helpers.s3 import MotoServer
from tests.uploads.conftest import Server

ADMIN = "regie@example.org"
TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}
KIB = 1024
MIB = 1024 * KIB
TARGET = "session:2019-03"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)  # polling with a deadline, not a timing assertion
    raise AssertionError(f"still waiting for {what} after {timeout} s")


def metadata(filename: str = "replay.mp4") -> str:
    encode = base64.b64encode
    return f"filename {encode(filename.encode()).decode()},target {encode(TARGET.encode()).decode()}"


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
def synced(settings: Settings) -> Settings:
    sync(settings)
    import asyncio

    asyncio.run(create_admin(settings, email=ADMIN, password=PASSWORD))
    return settings.model_copy(update={"upload_max_bytes": 64 * MIB})


@pytest.fixture
def start(synced: Settings) -> Iterator[Callable[..., Server]]:
    """Start apps on one port whose public address is that port (so Location points back to it)."""
    port = free_port()
    contexts: list[Any] = []

    def run(**overrides: Any) -> Server:
        for context in contexts:
            context.__exit__(None, None, None)
        contexts.clear()
        settings = synced.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}", **overrides})
        context = live_server(create_app(settings), port=port)
        base = context.__enter__()
        contexts.append(context)
        token = httpx.post(f"{base}/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        return Server(base=base, settings=settings, token=token.json()["access_token"])

    yield run
    for context in contexts:
        context.__exit__(None, None, None)


def create(server: Server, length: int, **headers: str) -> httpx.Response:
    return httpx.post(
        server.uploads, headers=server.headers | TUS | {"Upload-Length": str(length), "Upload-Metadata": metadata()}
        | headers, timeout=30,
    )  # fmt: skip


def patch(server: Server, location: str, offset: int, content: Any, **options: Any) -> httpx.Response:
    headers = server.headers | TUS | STREAM | {"Upload-Offset": str(offset)}
    return httpx.patch(location, content=content, headers=headers, timeout=options.pop("timeout", 30), **options)


def head(server: Server, location: str, timeout: float = 10) -> httpx.Response:
    return httpx.head(location, headers=server.headers | TUS, timeout=timeout)


def half_open_patch(server: Server, location: str, offset: int, declared: int, sent: bytes) -> socket.socket:
    """A PATCH whose client sends its headers and ``sent`` of ``declared`` bytes, then goes silent
    (the connection stays open, as a phone that lost its network leaves it)."""
    path = location.removeprefix(server.base)
    lines = [
        f"PATCH {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {server.token}", "Tus-Resumable: 1.0.0",
        "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}", f"Content-Length: {declared}",
    ]  # fmt: skip
    host, port = server.base.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)
    return connection


def stored_bytes(settings: Settings, upload_id: str) -> bytes:
    key = sql(settings.require_database_url(), "SELECT storage_key FROM upload WHERE id = $1::uuid", upload_id)[0]
    return (settings.media_root / key["storage_key"]).read_bytes()


def upload_id(location: str) -> str:
    return location.rsplit("/", 1)[1]


# --------------------------------------------------------------------------- no connection, no lock while streaming


def test_a_resuming_patch_is_answered_while_a_half_open_patch_stalls(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False)
    data = os.urandom(3 * MIB)
    location = create(server, len(data)).headers["location"]
    assert patch(server, location, 0, data[: 256 * KIB]).status_code == 204
    # The phone loses its network after 700 KiB of a 2 MiB PATCH; the server does not know yet.
    stalled = half_open_patch(server, location, 256 * KIB, 2 * MIB, data[256 * KIB : 956 * KIB])
    try:
        # On its new network, the client asks where to resume: every byte that arrived counts.
        wait_for(lambda: head(server, location).headers["upload-offset"] == str(956 * KIB), "the delivered bytes")
        started = time.monotonic()
        resumed = patch(server, location, 956 * KIB, data[956 * KIB :], timeout=30)
        answered_in = time.monotonic() - started
    finally:
        stalled.close()
    assert resumed.status_code == 204, resumed.text
    assert answered_in < 5, f"the resuming PATCH waited {answered_in:.1f} s for the stalled one"
    assert resumed.headers["upload-offset"] == str(len(data))
    assert server.state(location)["status"] == "uploaded"
    assert stored_bytes(server.settings, upload_id(location)) == data


def test_stalled_patches_hold_no_database_connection(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False, database_pool_size=2)
    sockets = []
    try:
        for _ in range(4):  # twice the pool
            location = create(server, MIB).headers["location"]
            sockets.append(half_open_patch(server, location, 0, MIB, b"x" * 1000))
        wait_for(lambda: head(server, location).headers["upload-offset"] == "1000", "the last PATCH to be under way")
        listing = httpx.get(server.uploads, headers=server.headers, timeout=10)
        assert listing.status_code == 200, listing.text
        assert listing.json()["total"] == 4
        another = create(server, MIB)
        assert another.status_code == 201, another.text
    finally:
        for connection in sockets:
            connection.close()


def test_a_silent_body_is_cut_after_the_body_timeout(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False, upload_body_timeout_seconds=1.0)
    location = create(server, MIB).headers["location"]
    stalled = half_open_patch(server, location, 0, MIB, b"y" * 5000)
    try:
        stalled.settimeout(30)
        answer = stalled.recv(4096)  # the server gives up on the silent body and answers (or closes)
    finally:
        stalled.close()
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer
    assert head(server, location).headers["upload-offset"] == "5000"


# --------------------------------------------------------------------------- a database failure at the end


def test_a_database_failure_at_the_end_of_the_last_patch_leaves_an_upload_that_completes(
    start: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    server = start(jobs_in_process=False)
    url = server.settings.require_database_url()
    data = os.urandom(600 * KIB)
    location = create(server, len(data)).headers["location"]
    assert patch(server, location, 0, data[: 300 * KIB]).status_code == 204
    # PostgreSQL goes away just as the last PATCH records the upload as complete.
    sql(
        url,
        "CREATE FUNCTION fail_on_completion() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$",
    )
    sql(
        url,
        "CREATE TRIGGER fail_on_completion BEFORE UPDATE ON upload FOR EACH ROW "
        "WHEN (NEW.status = 'uploaded') EXECUTE FUNCTION fail_on_completion()",
    )
    try:
        last = patch(server, location, 300 * KIB, data[300 * KIB :])
        assert last.status_code == 503, last.text
    finally:
        sql(url, "DROP TRIGGER fail_on_completion ON upload")
        sql(url, "DROP FUNCTION fail_on_completion()")
    caplog.clear()
    described = head(server, location)
    assert described.status_code == 200
    assert described.headers["upload-offset"] == described.headers["upload-length"] == str(len(data))
    again = patch(server, location, len(data), b"")
    assert again.status_code < 500
    state = httpx.get(location, headers=server.headers)
    assert state.status_code == 200
    assert state.json()["status"] == "uploaded"  # handed over to processing, not left uploading
    assert stored_bytes(server.settings, upload_id(location)) == data
    no_errors_logged(caplog)


# --------------------------------------------------------------------------- no orphans


def _refused_creations(server: Server) -> list[httpx.Response]:
    """Creations with upload refused for their type (415), their checksum (460), their size (413)."""
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()  # noqa: S324 — tus checksum
    headers = server.headers | TUS | {"Upload-Length": "10000", "Upload-Metadata": metadata()}
    refusals = (
        {"Content-Type": "text/plain"},
        STREAM | {"Upload-Checksum": f"sha1 {wrong}"},
        STREAM | {"Upload-Length": "3000"},
    )
    return [httpx.post(server.uploads, content=b"z" * 4000, headers=headers | extra, timeout=30) for extra in refusals]


def test_a_refused_creation_with_upload_leaves_nothing_behind(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False)
    answers = _refused_creations(server)
    assert [a.status_code for a in answers] == [415, 460, 413]
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    appends = server.settings.media_root / ".appends"
    assert not appends.exists() or not any(appends.iterdir())
    assert sql(server.settings.require_database_url(), "SELECT count(*) AS n FROM upload")[0]["n"] == 0


def test_a_refused_creation_with_upload_leaves_nothing_on_s3(
    start: Callable[..., Server], s3_server: MotoServer, s3_bucket: str
) -> None:
    server = start(jobs_in_process=False, **s3_server.settings(s3_bucket))
    assert [a.status_code for a in _refused_creations(server)] == [415, 460, 413]
    client = s3_server.client()
    assert client._list_multipart_uploads(s3_bucket).uploads == []
    assert list(client.list_objects(s3_bucket, recursive=True)) == []
    assert sql(server.settings.require_database_url(), "SELECT count(*) AS n FROM upload")[0]["n"] == 0


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_patch_over_the_length_keeps_nothing_on_s3(
    start: Callable[..., Server], s3_server: MotoServer, s3_bucket: str, declared: bool
) -> None:
    server = start(jobs_in_process=False, **s3_server.settings(s3_bucket))
    location = create(server, MIB).headers["location"]
    body = b"w" * (MIB + 1)

    def pieces() -> Iterator[bytes]:
        for start_at in range(0, len(body), 64 * KIB):
            yield body[start_at : start_at + 64 * KIB]

    over = patch(server, location, 0, body if declared else pieces())
    assert over.status_code == 413
    assert head(server, location).headers["upload-offset"] == "0"
    assert list(s3_server.client().list_objects(s3_bucket, prefix="incomplete/", recursive=True)) == []


# --------------------------------------------------------------------------- quota and free space


def test_creations_beyond_the_upload_quota_are_507(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False, upload_quota_bytes=3 * MIB)
    assert create(server, 2 * MIB).status_code == 201
    refused = create(server, 2 * MIB)
    assert refused.status_code == 507
    assert refused.headers["content-type"] == "application/problem+json"
    assert "quota" in refused.json()["detail"]
    assert create(server, MIB).status_code == 201  # what fits is still accepted


def test_creations_beyond_the_free_disk_space_are_507(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False, upload_free_space_reserve_bytes=2**62)
    refused = create(server, MIB)
    assert refused.status_code == 507
    assert "free" in refused.json()["detail"]
    assert sql(server.settings.require_database_url(), "SELECT count(*) AS n FROM upload")[0]["n"] == 0


# --------------------------------------------------------------------------- expired uploads swept


def test_expired_uploads_are_swept_by_the_app_running_jobs(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False)
    location = create(server, MIB).headers["location"]
    assert patch(server, location, 0, b"v" * 1000).status_code == 204
    url = server.settings.require_database_url()
    sql(url, "UPDATE upload SET expires_at = now() - interval '1 minute'")
    start()  # the default: jobs in process, as `learning serve` runs
    wait_for(lambda: sql(url, "SELECT count(*) AS n FROM upload")[0]["n"] == 0, "the expired upload's sweep")
    assert not any((server.settings.media_root / ".appends").iterdir())


# --------------------------------------------------------------------------- strict numeric headers, Location


@pytest.mark.parametrize(
    "value",
    ["²".encode("latin-1"), "9" * 5000, "1" * 19, "١٢".encode(), "+5"],
    ids=["superscript-two", "5000-digits", "19-digits", "arabic-indic-digits", "plus-sign"],
)
def test_tus_numbers_are_ascii_digits_of_bounded_length(
    start: Callable[..., Server], caplog: pytest.LogCaptureFixture, value: str | bytes
) -> None:
    server = start(jobs_in_process=False)
    created = httpx.post(
        server.uploads, headers=server.headers | TUS | {"Upload-Length": value, "Upload-Metadata": metadata()}
    )
    assert created.status_code == 400, created.text
    assert created.headers["content-type"] == "application/problem+json"
    location = create(server, 100).headers["location"]
    appended = httpx.patch(location, content=b"abc", headers=server.headers | TUS | STREAM | {"Upload-Offset": value})
    assert appended.status_code == 400, appended.text
    assert appended.headers["content-type"] == "application/problem+json"
    no_errors_logged(caplog)


def test_location_is_built_from_the_public_url_not_the_host_header(start: Callable[..., Server]) -> None:
    server = start(jobs_in_process=False)
    created = create(server, 100, Host="attacker.example")
    assert created.status_code == 201
    assert created.headers["location"].startswith(f"{server.settings.base_url}/api/v1/admin/uploads/")
    uuid.UUID(upload_id(created.headers["location"]))
