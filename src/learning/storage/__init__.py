"""Object storage: the ``ObjectStore`` protocol and its S3 and local-file implementations."""

from learning.storage.factory import create_object_store
from learning.storage.protocol import (
    MIN_PART_SIZE,
    InvalidParts,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    RangeNotSatisfiable,
    StorageError,
    StorageUnavailable,
    UnsupportedOperation,
    UploadNotFound,
)

__all__ = [
    "MIN_PART_SIZE",
    "InvalidParts",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "RangeNotSatisfiable",
    "StorageError",
    "StorageUnavailable",
    "UnsupportedOperation",
    "UploadNotFound",
    "create_object_store",
]
