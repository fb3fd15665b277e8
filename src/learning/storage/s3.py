"""Objects in an S3-compatible store (MinIO in production) through the minio SDK.

The SDK is blocking: every call that may touch the network runs in a worker thread, so the event loop never
waits on it. Presigning is pure computation (the client knows its region) and runs inline.
"""

from __future__ import annotations

import functools
import http.client
import io
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import MinioException, S3Error

from learning.storage.protocol import (
    InvalidParts,
    ObjectInfo,
    ObjectNotFound,
    RangeNotSatisfiable,
    StorageUnavailable,
    UploadNotFound,
    check_key,
    check_part_number,
    check_parts,
    check_range,
)

T = TypeVar("T")

CHUNK_SIZE = 256 * 1024
PART_SIZE = 16 * 1024 * 1024  # put_file goes multipart above this size
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NotFound"}
_BAD_PARTS = {"EntityTooSmall", "InvalidPart", "InvalidPartOrder"}
# Socket-level failures that urllib3 does not wrap (a connection reset mid-body, a read timeout).
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, ConnectionError, TimeoutError)


PRESIGN_REUSE_SECONDS = 60


class S3Store:
    name = "s3"
    supports_presigned_urls = True

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
        if not region:
            raise ValueError("S3Store needs a region: without one, presigning asks the server for it")
        self.bucket = bucket
        self._presigned: dict[tuple[str, int, str | None, str | None], tuple[str, float]] = {}
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

    async def _call(self, function: Callable[[], T], key: str = "") -> T:
        """Run a blocking SDK call in a worker thread and translate its errors into ours."""
        try:
            return await anyio.to_thread.run_sync(function)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            if exc.code == "NoSuchUpload":
                raise UploadNotFound(f"{key}: no such multipart upload") from None
            if exc.code == "InvalidRange":
                raise RangeNotSatisfiable(f"{key}: the range starts past the end") from None
            if exc.code in _BAD_PARTS:
                raise InvalidParts(f"{key}: {exc.code}") from None
            raise StorageUnavailable(f"object store error: {exc.code}") from exc
        except (MinioException, *_NETWORK_ERRORS) as exc:
            raise StorageUnavailable(f"object store unreachable: {type(exc).__name__}") from exc

    async def open(self) -> None:
        def ensure_bucket() -> None:
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as exc:  # another process made it meanwhile
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise

        await self._call(ensure_bucket)

    async def close(self) -> None:
        self._http.clear()

    async def ping(self) -> None:
        if not await self._call(lambda: self.client.bucket_exists(self.bucket)):
            raise StorageUnavailable(f"bucket {self.bucket} is missing")

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        check_key(key)
        await self._call(
            lambda: self.client.fput_object(
                self.bucket, key, str(path), content_type=content_type, part_size=PART_SIZE
            ),
            key,
        )
        return await self.stat(key)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        check_key(key)
        await self._call(
            lambda: self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type),
            key,
        )
        return await self.stat(key)

    async def list_parts(self, key: str, upload_id: str) -> list[tuple[int, str, int]]:
        check_key(key)
        parts: list[tuple[int, str, int]] = []
        marker: str | None = None
        while True:
            page = await self._call(functools.partial(self._list_parts_page, key, upload_id, marker), key)
            parts.extend((part.part_number, part.etag.strip('"'), int(part.size or 0)) for part in page.parts)
            if not page.is_truncated:
                return sorted(parts)
            marker = str(page.next_part_number_marker)

    def _list_parts_page(self, key: str, upload_id: str, marker: str | None) -> Any:
        return self.client._list_parts(self.bucket, key, upload_id, part_number_marker=marker)

    async def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        result = await self._call(lambda: self.client.stat_object(self.bucket, key), key)
        modified = result.last_modified
        assert modified is not None  # noqa: S101 — S3 always reports it
        return ObjectInfo(
            key=key,
            size=int(result.size or 0),
            last_modified=modified.astimezone(UTC),
            content_type=result.content_type,
            etag=result.etag,
        )

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_key(key)
        check_range(start, end)
        # One GET with a Range header (none for the whole object); the body is read in chunks, one thread hop each.
        length = 0 if end is None else end - start + 1
        response = await self._call(lambda: self.client.get_object(self.bucket, key, offset=start, length=length), key)
        finished = False
        try:
            while chunk := await self._call(lambda: response.read(CHUNK_SIZE), key):
                yield chunk
            finished = True
        finally:
            if not finished:  # a reader that stops early: drop the connection rather than drain the body
                response.close()
            response.release_conn()

    async def delete(self, key: str) -> None:
        check_key(key)
        await self._call(lambda: self.client.remove_object(self.bucket, key), key)

    def presigned_get(
        self, key: str, *, expires_seconds: int, filename: str | None = None, content_type: str | None = None
    ) -> str:
        # Signing costs ~50 µs: a URL is handed out again while at least all but PRESIGN_REUSE_SECONDS of
        # its lifetime remain (immutable objects: the same URL serves the same bytes).
        cache_key = (key, expires_seconds, filename, content_type)
        now = time.monotonic()
        cached = self._presigned.get(cache_key)
        if cached is not None and now - cached[1] < min(PRESIGN_REUSE_SECONDS, expires_seconds / 10):
            return cached[0]
        url = self._presign(key, expires_seconds=expires_seconds, filename=filename, content_type=content_type)
        if len(self._presigned) >= 4096:
            self._presigned.clear()
        self._presigned[cache_key] = (url, now)
        return url

    def _presign(self, key: str, *, expires_seconds: int, filename: str | None, content_type: str | None) -> str:
        check_key(key)
        overrides: dict[str, str | list[str] | tuple[str]] = {}
        if content_type:
            overrides["response-content-type"] = content_type
        if filename:
            overrides["response-content-disposition"] = content_disposition(filename)
        url: str = self.client.presigned_get_object(
            self.bucket, key, expires=timedelta(seconds=expires_seconds), response_headers=overrides or None
        )
        return url

    # --- multipart uploads ------------------------------------------------------------------------

    async def begin_multipart(self, key: str, content_type: str) -> str:
        check_key(key)
        upload_id: str = await self._call(
            lambda: self.client._create_multipart_upload(self.bucket, key, {"Content-Type": content_type}), key
        )
        return upload_id

    async def put_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        check_key(key)
        check_part_number(part_number)
        etag: str = await self._call(
            lambda: self.client._upload_part(self.bucket, key, data, None, upload_id, part_number), key
        )
        return etag

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> ObjectInfo:
        check_key(key)
        check_parts(parts)
        listed = [Part(number, etag.strip('"')) for number, etag in parts]  # minio adds the quotes itself
        result = await self._call(
            lambda: self.client._complete_multipart_upload(self.bucket, key, upload_id, listed), key
        )
        if not result.etag:  # S3 may answer 200 with an <Error> body when completion fails late
            raise StorageUnavailable(f"{key}: the object store did not complete the upload")
        return await self.stat(key)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        check_key(key)
        try:
            await self._call(lambda: self.client._abort_multipart_upload(self.bucket, key, upload_id), key)
        except UploadNotFound:
            return


def content_disposition(filename: str) -> str:
    """``attachment`` with ``filename`` (an ASCII fallback) and ``filename*`` (RFC 6266 / RFC 8187, UTF-8)."""
    cleaned = "".join("_" if char in '/\\"' or not char.isprintable() else char for char in filename).strip()
    ascii_name = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(char if char.isalnum() or char in " ._-()" else "_" for char in ascii_name).strip() or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned or ascii_name, safe='')}"
