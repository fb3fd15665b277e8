"""Resumable uploads with a real tus client (tuspy): resumed by a new client, across an app restart,
checksums, limits, termination, expiry, and who may upload."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError

from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.database import sql
from tests.helpers.media import make_random_bytes
from tests.uploads.conftest import Server

TARGET = "session:2019-03"
CHUNK = 256 * 1024


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stream(path: Path) -> io.BytesIO:
    # tuspy never closes a file it opened itself: hand it the bytes instead.
    return io.BytesIO(path.read_bytes())


def _uploader(server: Server, path: Path, **options: object) -> tus.Uploader:
    client = tus.TusClient(server.uploads, headers=server.headers)
    metadata = {"filename": path.name, "target": TARGET, "filetype": "video/mp4"}
    return client.uploader(file_stream=_stream(path), chunk_size=CHUNK, metadata=metadata, **options)  # type: ignore[arg-type]


def _resume(server: Server, path: Path, location: str) -> tus.Uploader:
    return tus.TusClient(server.uploads, headers=server.headers).uploader(
        file_stream=_stream(path), url=location, chunk_size=CHUNK
    )


def _stored_sha256(settings: Settings, upload_id: str) -> str:
    key = sql(settings.require_database_url(), "SELECT storage_key FROM upload WHERE id = $1::uuid", upload_id)[0]
    return _sha256(settings.media_root / key["storage_key"])


def _head(server: Server, location: str) -> httpx.Response:
    return httpx.head(location, headers=server.headers | {"Tus-Resumable": "1.0.0"})


def test_an_interrupted_upload_is_resumed_by_a_new_client(server: Server, media_dir: Path) -> None:
    source = make_random_bytes(media_dir / "replay.bin", 3 * 1024 * 1024 + 77)
    first = _uploader(server, source)
    first.upload(stop_at=CHUNK * 3)  # the connection "breaks" after three chunks
    location = first.url
    assert location is not None
    assert _head(server, location).headers["upload-offset"] == str(CHUNK * 3)
    # Another process (a new client) picks the upload up from the URL and the server's offset.
    second = _resume(server, source, location)
    assert second.offset == CHUNK * 3
    second.upload()
    state = server.state(location)
    assert state["offset"] == state["length"] == source.stat().st_size
    assert state["status"] in {"uploaded", "processing", "failed"}  # random bytes are no replay: see below
    upload_id = location.rsplit("/", 1)[1]
    stored = sql(
        server.settings.require_database_url(), "SELECT storage_key FROM upload WHERE id = $1::uuid", upload_id
    )
    assert stored


def test_an_upload_survives_an_app_restart(start_server: Callable[..., Server], media_dir: Path) -> None:
    source = make_random_bytes(media_dir / "long.bin", 2 * 1024 * 1024 + 5)
    first_server = start_server(jobs_in_process=False)
    uploader = _uploader(first_server, source)
    uploader.upload(stop_at=CHUNK * 2)
    location = uploader.url
    first_server.stop()  # the app goes away in the middle of the upload
    with pytest.raises(httpx.TransportError):
        httpx.head(location, headers={"Tus-Resumable": "1.0.0"})
    second_server = start_server(jobs_in_process=False)
    assert _head(second_server, location).headers["upload-offset"] == str(CHUNK * 2)
    resumed = _resume(second_server, source, location)
    resumed.upload()
    assert second_server.state(location)["status"] == "uploaded"
    assert _stored_sha256(second_server.settings, location.rsplit("/", 1)[1]) == _sha256(source)


def test_a_bad_checksum_is_460_and_the_chunk_is_discarded(server: Server) -> None:
    headers = server.headers | {"Tus-Resumable": "1.0.0"}
    metadata = f"filename {base64.b64encode(b'x.mp4').decode()},target {base64.b64encode(TARGET.encode()).decode()}"
    created = httpx.post(server.uploads, headers=headers | {"Upload-Length": "1000", "Upload-Metadata": metadata})
    assert created.status_code == 201
    location = created.headers["location"]
    chunk = b"a" * 400
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()  # noqa: S324 — tus checksum
    patch = headers | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    bad = httpx.patch(location, content=chunk, headers=patch | {"Upload-Checksum": f"sha1 {wrong}"})
    assert bad.status_code == 460
    assert bad.headers["tus-resumable"] == "1.0.0"
    assert _head(server, location).headers["upload-offset"] == "0"
    right = base64.b64encode(hashlib.sha1(chunk).digest()).decode()  # noqa: S324 — tus checksum
    good = httpx.patch(location, content=chunk, headers=patch | {"Upload-Checksum": f"sha1 {right}"})
    assert good.status_code == 204
    assert good.headers["upload-offset"] == "400"


def test_tuspy_with_checksums_uploads_everything(server: Server, media_dir: Path) -> None:
    source = make_random_bytes(media_dir / "checked.bin", 900 * 1024)
    uploader = _uploader(server, source, upload_checksum=True)
    uploader.upload()
    assert server.state(uploader.url)["offset"] == source.stat().st_size


def test_a_file_over_the_limit_is_413(server: Server) -> None:
    metadata = f"filename {base64.b64encode(b'gros.mp4').decode()},target {base64.b64encode(TARGET.encode()).decode()}"
    headers = server.headers | {"Tus-Resumable": "1.0.0", "Upload-Metadata": metadata}
    response = httpx.post(server.uploads, headers=headers | {"Upload-Length": str(64 * 1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    options = httpx.options(server.uploads)
    assert options.headers["tus-max-size"] == str(64 * 1024 * 1024)


def test_sending_more_bytes_than_declared_is_refused(server: Server) -> None:
    metadata = f"filename {base64.b64encode(b'x.mp4').decode()},target {base64.b64encode(TARGET.encode()).decode()}"
    headers = server.headers | {"Tus-Resumable": "1.0.0"}
    location = httpx.post(
        server.uploads, headers=headers | {"Upload-Length": "10", "Upload-Metadata": metadata}
    ).headers["location"]
    patch = headers | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert httpx.patch(location, content=b"x" * 11, headers=patch).status_code == 413
    assert _head(server, location).headers["upload-offset"] == "0"


def test_a_learner_cannot_upload_and_anonymous_is_401(server: Server, media_dir: Path) -> None:
    httpx.post(f"{server.base}/api/v1/auth/register", json={"email": "eleve@example.org", "password": PASSWORD})
    token = httpx.post(f"{server.base}/api/v1/auth/login", json={"email": "eleve@example.org", "password": PASSWORD})
    learner = {"Authorization": f"Bearer {token.json()['access_token']}"}
    source = make_random_bytes(media_dir / "x.bin", 1000)
    with pytest.raises(TusCommunicationError) as refused:
        tus.TusClient(server.uploads, headers=learner).uploader(
            file_stream=_stream(source), metadata={"target": TARGET}
        ).upload()
    assert refused.value.status_code == 403
    with pytest.raises(TusCommunicationError) as anonymous:
        tus.TusClient(server.uploads).uploader(file_stream=_stream(source), metadata={"target": TARGET}).upload()
    assert anonymous.value.status_code == 401
    assert httpx.get(server.uploads, headers=learner).status_code == 403


def test_protocol_rules(server: Server) -> None:
    headers = server.headers
    metadata = f"filename {base64.b64encode(b'x.mp4').decode()},target {base64.b64encode(TARGET.encode()).decode()}"
    no_version = httpx.post(server.uploads, headers=headers | {"Upload-Length": "10", "Upload-Metadata": metadata})
    assert no_version.status_code == 412
    assert no_version.headers["tus-version"] == "1.0.0"
    tus_headers = headers | {"Tus-Resumable": "1.0.0"}
    no_length = httpx.post(server.uploads, headers=tus_headers | {"Upload-Metadata": metadata})
    assert no_length.status_code == 400
    bad_target = httpx.post(
        server.uploads,
        headers=tus_headers
        | {
            "Upload-Length": "10",
            "Upload-Metadata": f"filename eA==,target {base64.b64encode(b'session:nowhere/x').decode()}",
        },
    )
    assert bad_target.status_code == 422
    location = httpx.post(
        server.uploads, headers=tus_headers | {"Upload-Length": "10", "Upload-Metadata": metadata}
    ).headers["location"]
    head = _head(server, location)
    assert (head.headers["upload-offset"], head.headers["upload-length"]) == ("0", "10")
    assert head.headers["cache-control"] == "no-store"
    assert "upload-expires" in head.headers
    patch = tus_headers | {"Upload-Offset": "0"}
    assert httpx.patch(location, content=b"12345", headers=patch | {"Content-Type": "text/plain"}).status_code == 415
    stream = patch | {"Content-Type": "application/offset+octet-stream"}
    assert httpx.patch(location, content=b"12345", headers=stream).status_code == 204
    stale = httpx.patch(location, content=b"12345", headers=stream)  # offset 0 again
    assert stale.status_code == 409
    options = httpx.options(server.uploads)
    assert set(options.headers["tus-extension"].split(",")) >= {
        "creation", "creation-with-upload", "termination", "expiration", "checksum",
    }  # fmt: skip


def test_creation_with_upload_takes_the_first_bytes(server: Server) -> None:
    metadata = f"filename {base64.b64encode(b'x.mp4').decode()},target {base64.b64encode(TARGET.encode()).decode()}"
    headers = server.headers | {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata}
    created = httpx.post(
        server.uploads, content=b"abcd", headers=headers | {"Content-Type": "application/offset+octet-stream"}
    )
    assert created.status_code == 201
    assert created.headers["upload-offset"] == "4"


def test_termination_removes_the_upload_and_its_bytes(server: Server, media_dir: Path) -> None:
    source = make_random_bytes(media_dir / "stop.bin", 600 * 1024)
    uploader = _uploader(server, source)
    uploader.upload(stop_at=CHUNK)
    location = uploader.url
    staged = list((server.settings.media_root / ".appends").iterdir())
    assert staged
    deleted = httpx.delete(location, headers=server.headers | {"Tus-Resumable": "1.0.0"})
    assert deleted.status_code == 204
    assert _head(server, location).status_code == 404
    assert not any((server.settings.media_root / ".appends").iterdir())
    rows = sql(server.settings.require_database_url(), "SELECT count(*) AS n FROM upload")
    assert rows[0]["n"] == 0


def test_an_expired_upload_is_gone_and_cleaned_up(server: Server, media_dir: Path) -> None:
    import asyncio

    from learning.db.session import create_engine, create_sessionmaker
    from learning.jobs.worker import run_maintenance
    from learning.storage import create_object_store

    source = make_random_bytes(media_dir / "old.bin", 600 * 1024)
    uploader = _uploader(server, source)
    uploader.upload(stop_at=CHUNK)
    url = server.settings.require_database_url()
    sql(url, "UPDATE upload SET expires_at = now() - interval '1 minute'")
    assert _head(server, uploader.url).status_code == 404

    async def sweep() -> dict[str, int]:
        engine = create_engine(url, pool_size=1)
        try:
            return await run_maintenance(create_sessionmaker(engine), create_object_store(server.settings))
        finally:
            await engine.dispose()

    assert asyncio.run(sweep())["expired_uploads"] == 1
    assert sql(url, "SELECT count(*) AS n FROM upload")[0]["n"] == 0
    assert not any((server.settings.media_root / ".appends").iterdir())
