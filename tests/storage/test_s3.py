"""What only ``S3Store`` does: failures of the network, the server going away, presigned URL details."""

from __future__ import annotations

import time

import pytest

from learning.storage import StorageUnavailable
from learning.storage.s3 import S3Store, content_disposition
from tests.helpers.s3 import MotoServer, free_port


def unreachable_store() -> S3Store:
    return S3Store(
        endpoint=f"127.0.0.1:{free_port()}",  # nothing listens there
        access_key="testing",
        secret_key="testing",
        bucket="learning-test-unreachable",
        region="us-east-1",
        secure=False,
        timeout_seconds=1.0,
    )


async def test_an_unreachable_server_raises_storage_unavailable() -> None:
    store = unreachable_store()
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store.ping()
    with pytest.raises(StorageUnavailable):
        await store.open()
    with pytest.raises(StorageUnavailable):
        await store.stat("audio/x.mp3")
    with pytest.raises(StorageUnavailable):
        await anext(store.read("audio/x.mp3"))
    with pytest.raises(StorageUnavailable):
        await store.begin_multipart("audio/x.mp3", "audio/mpeg")
    await store.close()
    assert time.monotonic() - started < 10  # a few quick retries, no long hang


def test_presigning_needs_no_network() -> None:
    url = unreachable_store().presigned_get("audio/x.mp3", expires_seconds=900)
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=900" in url


@pytest.mark.parametrize("seconds", [0, 7 * 24 * 3600 + 1])
def test_presigned_expiry_must_be_between_a_second_and_a_week(seconds: int) -> None:
    with pytest.raises(ValueError, match="expires"):
        unreachable_store().presigned_get("audio/x.mp3", expires_seconds=seconds)


def test_a_region_is_required() -> None:
    with pytest.raises(ValueError, match="region"):
        S3Store(
            endpoint="127.0.0.1:9", access_key="a", secret_key="b", bucket="learning-test-x", region="", secure=False
        )


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("replay.mp4", "attachment; filename=\"replay.mp4\"; filename*=UTF-8''replay.mp4"),
        ('a "quoted"/name.mp3', "attachment; filename=\"a _quoted__name.mp3\"; filename*=UTF-8''a%20_quoted__name.mp3"),
        ("données\r\n.pdf", "attachment; filename=\"donnees__.pdf\"; filename*=UTF-8''donn%C3%A9es__.pdf"),
        ("日本", "attachment; filename=\"file\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"),
    ],
)
def test_content_disposition_has_an_ascii_fallback_and_utf8_name(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected


async def test_the_server_can_stop_and_start_again_on_the_same_port(s3_server: MotoServer, s3_bucket: str) -> None:
    """The fixture's stop/start, which fault tests rely on; moto forgets everything when it stops."""
    store = s3_server.store(s3_bucket, timeout_seconds=1.0)
    await store.open()
    port = s3_server.port
    s3_server.stop()
    try:
        with pytest.raises(StorageUnavailable):
            await store.ping()
    finally:
        s3_server.start()
    assert s3_server.port == port
    with pytest.raises(StorageUnavailable):  # the bucket went with moto's memory
        await store.ping()
    await store.open()
    await store.ping()
    await store.close()
