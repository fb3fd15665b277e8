"""Build the configured object store."""

from __future__ import annotations

from learning.config import Settings, StorageBackend
from learning.storage.local import LocalStore
from learning.storage.protocol import ObjectStore
from learning.storage.s3 import S3Store


def create_object_store(settings: Settings) -> ObjectStore:
    if settings.storage_backend is StorageBackend.S3:
        return S3Store(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            secure=settings.s3_secure,
        )
    return LocalStore(settings.media_root)
