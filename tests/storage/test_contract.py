"""The ``ObjectStore`` contract: every test runs against ``LocalStore`` and against ``S3Store`` (moto over HTTP).

Range semantics (see ``learning.storage.protocol``): ``end`` is inclusive and clipped to the last byte; a range
starting at or past the size raises ``RangeNotSatisfiable``; ``read(key)`` without a range always works.
"""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from learning.storage import (
    MIN_PART_SIZE,
    InvalidParts,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    RangeNotSatisfiable,
    StorageUnavailable,
    UnsupportedOperation,
    UploadNotFound,
)
from tests.storage.conftest import SourceFile

DATA = bytes(range(256)) * 4  # 1,000+ bytes where every offset is recognisable
BAD_KEYS = ["../x", "a/../../x", "/etc/passwd", "", "a//b", "a/", ".multipart/x", "a/.tmp-x", "a\\b", "é", "k" * 301]
MOTO_NO_SUCH_UPLOAD = pytest.mark.xfail(
    strict=True,
    reason="moto answers 500 to an unknown upload id where S3 answers 404 NoSuchUpload",
    raises=StorageUnavailable,
)


def new_key(extension: str = "bin") -> str:
    return f"test/{uuid.uuid4().hex}.{extension}"


async def put_bytes(store: ObjectStore, tmp_path: Path, data: bytes, key: str | None = None) -> ObjectInfo:
    source = tmp_path / f"source-{uuid.uuid4().hex}"
    source.write_bytes(data)
    return await store.put_file(key or new_key(), source, "application/octet-stream")


async def read_all(store: ObjectStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def sha256_of_object(store: ObjectStore, key: str) -> str:
    digest = hashlib.sha256()
    async for chunk in store.read(key):
        digest.update(chunk)
    return digest.hexdigest()


def s3_only(backend: str, mark: pytest.MarkDecorator, request: pytest.FixtureRequest) -> None:
    if backend == "s3":
        request.applymarker(mark)


# --- lifecycle ---------------------------------------------------------------------------------------------


async def test_open_creates_the_bucket_or_root_idempotently(make_store: Callable[[], ObjectStore]) -> None:
    store = make_store()
    with pytest.raises(StorageUnavailable):
        await store.ping()
    await store.open()
    await store.ping()
    await store.open()
    await store.ping()


async def test_ping_answers_when_open(store: ObjectStore) -> None:
    await store.ping()


# --- put_file, stat, delete --------------------------------------------------------------------------------


async def test_put_file_then_stat_reports_size_and_an_aware_date(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "episode.mp3"
    source.write_bytes(DATA)
    key = new_key("mp3")

    written = await store.put_file(key, source, "audio/mpeg")
    info = await store.stat(key)

    assert (info.key, info.size) == (key, len(DATA))
    assert written.size == info.size
    assert info.last_modified.utcoffset() == timedelta(0)
    assert abs(info.last_modified - datetime.now(UTC)) < timedelta(minutes=1)
    assert info.content_type in {None, "audio/mpeg"}  # LocalStore keeps no metadata
    assert info.etag


async def test_put_file_replaces_an_object(store: ObjectStore, tmp_path: Path) -> None:
    key = new_key()
    await put_bytes(store, tmp_path, b"first version", key)
    await put_bytes(store, tmp_path, b"second", key)

    assert (await store.stat(key)).size == len(b"second")
    assert await read_all(store, key) == b"second"


async def test_put_file_of_a_missing_source_raises_and_stores_nothing(store: ObjectStore, tmp_path: Path) -> None:
    key = new_key()
    with pytest.raises(FileNotFoundError):
        await store.put_file(key, tmp_path / "missing", "text/plain")
    with pytest.raises(ObjectNotFound):
        await store.stat(key)


async def test_stat_of_a_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.stat(new_key())


async def test_delete_then_stat_raises_object_not_found(store: ObjectStore, tmp_path: Path) -> None:
    info = await put_bytes(store, tmp_path, DATA)
    await store.delete(info.key)

    with pytest.raises(ObjectNotFound):
        await store.stat(info.key)
    with pytest.raises(ObjectNotFound):
        await read_all(store, info.key)


async def test_delete_of_a_missing_key_is_fine(store: ObjectStore) -> None:
    await store.delete(new_key())


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_escape_the_store_are_rejected(store: ObjectStore, tmp_path: Path, key: str) -> None:
    source = tmp_path / "source"
    source.write_bytes(b"x")
    with pytest.raises(ValueError, match="invalid object key"):
        await store.put_file(key, source, "text/plain")
    with pytest.raises(ValueError, match="invalid object key"):
        await store.stat(key)
    with pytest.raises(ValueError, match="invalid object key"):
        await read_all(store, key)
    with pytest.raises(ValueError, match="invalid object key"):
        await store.delete(key)
    with pytest.raises(ValueError, match="invalid object key"):
        await store.begin_multipart(key, "text/plain")


# --- read --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, DATA),
        (100, None, DATA[100:]),
        (10, 19, DATA[10:20]),
        (0, 0, DATA[:1]),
        (len(DATA) - 1, None, DATA[-1:]),
        (len(DATA) - 1, len(DATA) - 1, DATA[-1:]),
        (len(DATA) - 10, len(DATA) + 5000, DATA[-10:]),  # an end past the last byte is clipped
    ],
    ids=["whole", "from-100", "10-19", "first-byte", "last-byte-open", "last-byte", "end-clipped"],
)
async def test_read_returns_the_inclusive_range(
    store: ObjectStore, tmp_path: Path, start: int, end: int | None, expected: bytes
) -> None:
    info = await put_bytes(store, tmp_path, DATA)
    assert await read_all(store, info.key, start, end) == expected


async def test_read_range_across_chunk_boundaries(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 123)
    info = await put_bytes(store, tmp_path, data)

    assert await read_all(store, info.key, 262_143, 1_048_577) == data[262_143:1_048_578]
    assert await read_all(store, info.key, 1_000_000) == data[1_000_000:]


@pytest.mark.parametrize(("start", "end"), [(1024, None), (1024, 2000), (5000, None)])
async def test_read_range_starting_past_the_end_is_not_satisfiable(
    store: ObjectStore, tmp_path: Path, start: int, end: int | None
) -> None:
    info = await put_bytes(store, tmp_path, DATA)
    assert info.size == 1024
    with pytest.raises(RangeNotSatisfiable):
        await read_all(store, info.key, start, end)


async def test_read_of_an_empty_object(store: ObjectStore, tmp_path: Path) -> None:
    info = await put_bytes(store, tmp_path, b"")

    assert info.size == 0
    assert await read_all(store, info.key) == b""
    with pytest.raises(RangeNotSatisfiable):
        await read_all(store, info.key, 0, 10)


@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 9)])
async def test_read_rejects_a_malformed_range(store: ObjectStore, tmp_path: Path, start: int, end: int | None) -> None:
    info = await put_bytes(store, tmp_path, DATA)
    with pytest.raises(ValueError, match="invalid byte range"):
        await read_all(store, info.key, start, end)


async def test_read_of_a_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await read_all(store, new_key())


async def test_a_reader_may_stop_early(store: ObjectStore, tmp_path: Path) -> None:
    info = await put_bytes(store, tmp_path, os.urandom(2 * 1024 * 1024))
    chunks = store.read(info.key)
    first = await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]

    assert first
    assert len(await read_all(store, info.key)) == info.size  # the store still works after an abandoned read


# --- large objects -----------------------------------------------------------------------------------------


async def test_put_file_of_a_large_file_round_trips(store: ObjectStore, backend: str, large_file: SourceFile) -> None:
    key = new_key("mp4")
    info = await store.put_file(key, large_file.path, "video/mp4")

    assert info.size == large_file.size
    assert await sha256_of_object(store, key) == large_file.sha256
    if backend == "s3":
        assert info.etag is not None
        assert "-" in info.etag  # S3's ETag of a multipart object: "<md5 of the part md5s>-<part count>"


async def test_reading_a_large_object_streams_bounded_chunks(store: ObjectStore, large_file: SourceFile) -> None:
    key = new_key("mp4")
    await store.put_file(key, large_file.path, "video/mp4")

    tracemalloc.start()
    try:
        sizes = [len(chunk) async for chunk in store.read(key)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sum(sizes) == large_file.size
    assert max(sizes) <= 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"reading 40 MiB allocated up to {peak / 2**20:.1f} MiB at once"


async def test_large_transfers_leave_the_event_loop_free(store: ObjectStore, large_file: SourceFile) -> None:
    """Every blocking call runs in a worker thread: a ticker on the loop never stalls for long."""
    gaps: list[float] = []
    done = anyio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await anyio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    key = new_key("mp4")
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        await store.put_file(key, large_file.path, "video/mp4")
        assert await sha256_of_object(store, key) == large_file.sha256
        done.set()

    assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.3f} s"


# --- multipart uploads -------------------------------------------------------------------------------------


async def test_multipart_upload_assembles_the_parts(store: ObjectStore) -> None:
    parts = [os.urandom(MIN_PART_SIZE), os.urandom(MIN_PART_SIZE), os.urandom(123_457)]
    key = new_key("mp4")

    upload_id = await store.begin_multipart(key, "video/mp4")
    etags = {}
    for number in (3, 1, 2):  # parts may arrive in any order
        etags[number] = await store.put_part(key, upload_id, number, parts[number - 1])
    info = await store.complete_multipart(key, upload_id, [(number, etags[number]) for number in (1, 2, 3)])

    assert info.size == sum(map(len, parts))
    assert await sha256_of_object(store, key) == hashlib.sha256(b"".join(parts)).hexdigest()
    assert await read_all(store, key, MIN_PART_SIZE - 2, MIN_PART_SIZE + 1) == parts[0][-2:] + parts[1][:2]


async def test_multipart_part_uploaded_again_replaces_the_first(store: ObjectStore) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    await store.put_part(key, upload_id, 1, b"first attempt")
    etag = await store.put_part(key, upload_id, 1, b"second attempt")
    await store.complete_multipart(key, upload_id, [(1, etag)])

    assert await read_all(store, key) == b"second attempt"


async def test_multipart_rejects_a_small_part_before_the_last(store: ObjectStore) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    first = await store.put_part(key, upload_id, 1, b"too small")
    second = await store.put_part(key, upload_id, 2, b"last")

    with pytest.raises(InvalidParts):
        await store.complete_multipart(key, upload_id, [(1, first), (2, second)])
    await store.abort_multipart(key, upload_id)


async def test_multipart_rejects_an_unknown_etag(store: ObjectStore) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    await store.put_part(key, upload_id, 1, b"data")

    with pytest.raises(InvalidParts):
        await store.complete_multipart(key, upload_id, [(1, "0" * 32)])
    with pytest.raises(InvalidParts):
        await store.complete_multipart(key, upload_id, [(2, "0" * 32)])  # a part never uploaded
    await store.abort_multipart(key, upload_id)


@pytest.mark.parametrize("parts", [[], [(2, "a"), (1, "b")], [(1, "a"), (1, "a")]], ids=["none", "descending", "twice"])
async def test_multipart_rejects_a_malformed_part_list(store: ObjectStore, parts: list[tuple[int, str]]) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    with pytest.raises(InvalidParts):
        await store.complete_multipart(key, upload_id, parts)
    await store.abort_multipart(key, upload_id)


@pytest.mark.parametrize("number", [0, 10_001])
async def test_multipart_rejects_a_part_number_out_of_range(store: ObjectStore, number: int) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    with pytest.raises(ValueError, match="part number"):
        await store.put_part(key, upload_id, number, b"data")
    await store.abort_multipart(key, upload_id)


async def test_abort_leaves_nothing_readable(store: ObjectStore) -> None:
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    await store.put_part(key, upload_id, 1, os.urandom(1000))
    await store.abort_multipart(key, upload_id)

    with pytest.raises(ObjectNotFound):
        await store.stat(key)
    with pytest.raises(ObjectNotFound):
        await read_all(store, key)
    await store.abort_multipart(key, upload_id)  # aborting again is fine


async def test_put_part_after_abort_raises_upload_not_found(
    store: ObjectStore, backend: str, request: pytest.FixtureRequest
) -> None:
    s3_only(backend, MOTO_NO_SUCH_UPLOAD, request)
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    await store.abort_multipart(key, upload_id)

    with pytest.raises(UploadNotFound):
        await store.put_part(key, upload_id, 1, b"data")


async def test_complete_after_abort_raises_upload_not_found(
    store: ObjectStore, backend: str, request: pytest.FixtureRequest
) -> None:
    s3_only(backend, MOTO_NO_SUCH_UPLOAD, request)
    key = new_key()
    upload_id = await store.begin_multipart(key, "application/octet-stream")
    etag = await store.put_part(key, upload_id, 1, b"data")
    await store.abort_multipart(key, upload_id)

    with pytest.raises(UploadNotFound):
        await store.complete_multipart(key, upload_id, [(1, etag)])


# --- presigned URLs ----------------------------------------------------------------------------------------


async def test_presigned_get_serves_the_object_or_is_unsupported(store: ObjectStore, tmp_path: Path) -> None:
    info = await put_bytes(store, tmp_path, DATA)
    if not store.supports_presigned_urls:
        with pytest.raises(UnsupportedOperation):
            store.presigned_get(info.key, expires_seconds=60)
        return

    url = store.presigned_get(info.key, expires_seconds=60, filename="Épisode 1.mp3", content_type="audio/mpeg")
    query = parse_qs(urlsplit(url).query)
    async with httpx.AsyncClient() as client:
        response = await client.get(url)

    assert response.status_code == 200
    assert response.content == DATA
    assert "X-Amz-Signature" in query
    assert query["X-Amz-Expires"] == ["60"]
    assert query["response-content-type"] == ["audio/mpeg"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"Episode 1.mp3\"; filename*=UTF-8''%C3%89pisode%201.mp3"
    ]
