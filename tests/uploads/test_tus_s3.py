"""Resumable uploads into S3 (moto over HTTP): multipart parts of 8 MiB, small PATCH bodies buffered in
an incomplete-part object, resumed after an interruption; the stored object is exactly the source."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tusclient import client as tus

from tests.helpers.database import sql
from tests.helpers.media import make_random_bytes
from tests.helpers.s3 import MotoServer
from tests.uploads.conftest import Server

CHUNK = 3 * 1024 * 1024  # smaller than a part: the server must buffer


@pytest.fixture
def s3_server_app(start_server: Callable[..., Server], s3_server: MotoServer, s3_bucket: str) -> Server:
    return start_server(jobs_in_process=False, **s3_server.settings(s3_bucket))


def test_a_large_upload_in_small_chunks_lands_whole_in_s3(
    s3_server_app: Server, s3_server: MotoServer, s3_bucket: str, media_dir: Path
) -> None:
    source = make_random_bytes(media_dir / "grand.bin", 19 * 1024 * 1024 + 123)
    data = source.read_bytes()
    client = tus.TusClient(s3_server_app.uploads, headers=s3_server_app.headers)
    metadata: dict[str, Any] = {"filename": "grand.mp4", "target": "session:2019-04"}
    first = client.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata=metadata)
    first.upload(stop_at=CHUNK * 3)  # 9 MiB: one part of 8 MiB and 1 MiB waiting
    head = httpx.head(first.url, headers=s3_server_app.headers | {"Tus-Resumable": "1.0.0"})
    assert head.headers["upload-offset"] == str(CHUNK * 3)
    resumed = tus.TusClient(s3_server_app.uploads, headers=s3_server_app.headers).uploader(
        file_stream=io.BytesIO(data), url=first.url, chunk_size=CHUNK
    )
    assert resumed.offset == CHUNK * 3
    resumed.upload()
    assert s3_server_app.state(first.url)["status"] == "uploaded"
    key = sql(s3_server_app.settings.require_database_url(), "SELECT storage_key FROM upload")[0]["storage_key"]
    stored = s3_server.client().get_object(s3_bucket, key)
    try:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        stored.close()
        stored.release_conn()
    leftovers = [
        o.object_name for o in s3_server.client().list_objects(s3_bucket, prefix="incomplete/", recursive=True)
    ]
    assert leftovers == []
