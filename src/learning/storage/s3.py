"""Objects in an S3-compatible store (MinIO in production) through the minio SDK.

The SDK is blocking: every call runs in a worker thread so the event loop never waits on the network.
"""

from __future__ import annotations

import anyio
import urllib3
from minio import Minio
from minio.error import MinioException

from learning.storage.protocol import StorageUnavailable


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

    async def open(self) -> None:
        def ensure_bucket() -> None:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)

        try:
            await anyio.to_thread.run_sync(ensure_bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(f"object store unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        self._http.clear()

    async def ping(self) -> None:
        try:
            exists = await anyio.to_thread.run_sync(self.client.bucket_exists, self.bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(f"object store unreachable: {type(exc).__name__}") from exc
        if not exists:
            raise StorageUnavailable(f"bucket {self.bucket} is missing")
