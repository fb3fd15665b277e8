"""Objects in an S3-compatible store (MinIO in production) through the minio SDK.

The SDK is blocking: every call runs in a worker thread so the event loop never waits on the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC
from pathlib import Path
from typing import TypeVar

import anyio
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from learning.storage.protocol import ObjectInfo, ObjectNotFound, StorageUnavailable

T = TypeVar("T")

CHUNK_SIZE = 256 * 1024
PART_SIZE = 16 * 1024 * 1024  # multipart above this size
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NotFound"}


class S3Store:
    name = "s3"

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str,
        secure: bool,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.bucket = bucket
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout_seconds, read=60.0),
            maxsize=32,
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=secure,
            http_client=self._http,
        )

    async def _call(self, function: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(function)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(exc.object_name or "") from None
            raise StorageUnavailable(f"object store error: {exc.code}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(f"object store unreachable: {type(exc).__name__}") from exc

    async def open(self) -> None:
        def ensure_bucket() -> None:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)

        await self._call(ensure_bucket)

    async def close(self) -> None:
        self._http.clear()

    async def ping(self) -> None:
        if not await self._call(lambda: self.client.bucket_exists(self.bucket)):
            raise StorageUnavailable(f"bucket {self.bucket} is missing")

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        await self._call(
            lambda: self.client.fput_object(self.bucket, key, str(path), content_type=content_type, part_size=PART_SIZE)
        )
        return await self.stat(key)

    async def stat(self, key: str) -> ObjectInfo:
        result = await self._call(lambda: self.client.stat_object(self.bucket, key))
        modified = result.last_modified
        assert modified is not None  # noqa: S101 — S3 always reports it
        return ObjectInfo(
            key=key,
            size=int(result.size or 0),
            last_modified=modified.astimezone(UTC),
            content_type=result.content_type,
        )

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        length = 0 if end is None else end - start + 1
        response = await self._call(lambda: self.client.get_object(self.bucket, key, offset=start, length=length))
        try:
            while True:
                chunk = await self._call(lambda: response.read(CHUNK_SIZE))
                if not chunk:
                    return
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, key: str) -> None:
        await self._call(lambda: self.client.remove_object(self.bucket, key))
