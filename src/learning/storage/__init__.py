"""Object storage: the ``ObjectStore`` protocol and its S3 and local-file implementations."""

from learning.storage.factory import create_object_store
from learning.storage.protocol import ObjectInfo, ObjectNotFound, ObjectStore, StorageUnavailable

__all__ = ["ObjectInfo", "ObjectNotFound", "ObjectStore", "StorageUnavailable", "create_object_store"]
