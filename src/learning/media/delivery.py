"""Which bytes of which asset to deliver: the asset behind a stable URL, and RFC 9110 range decisions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from learning.db import models as m
from learning.lib.cache import ResponseCache
from learning.lib.errors import NotFound
from learning.lib.http_ranges import Decision, evaluate, http_date
from learning.media.repositories import MediaRepository

# Objects never change under an asset: a changed file becomes a new asset with a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"


class MediaNotFound(NotFound):
    title = "Media not found"


@dataclass(frozen=True, slots=True)
class Deliverable:
    """What delivery needs to know of an asset; a plain snapshot, safe to keep in the cache."""

    id: uuid.UUID
    name: str
    extension: str
    mime_type: str
    size: int
    etag: str
    last_modified: datetime
    last_modified_http: str
    storage_key: str
    duration_seconds: float | None

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.extension}"


def _snapshot(asset: m.MediaAsset) -> Deliverable:
    tag = asset.sha256[:32] if asset.sha256 else f"{asset.size_bytes:x}-{asset.updated_at.timestamp():.0f}"
    return Deliverable(
        id=asset.id,
        name=asset.name,
        extension=asset.extension,
        mime_type=asset.mime_type,
        size=asset.size_bytes,
        etag=f'"{tag}"',
        last_modified=asset.updated_at.replace(microsecond=0),
        last_modified_http=http_date(asset.updated_at),
        storage_key=asset.storage_key,
        duration_seconds=asset.duration_seconds,
    )


class MediaDelivery:
    def __init__(self, media: MediaRepository, cache: ResponseCache) -> None:
        self.media = media
        self.cache = cache

    @staticmethod
    def cached(cache: ResponseCache, asset_id: object, filename: str) -> Deliverable | None:
        """The asset from the cache alone (no database): None when it is not there."""
        found = cache.peek(f"media:{asset_id}")
        if not isinstance(found, Deliverable):
            return None
        if found.filename != filename:
            raise MediaNotFound("No such media file.")
        return found

    async def find(self, asset_id: uuid.UUID, filename: str) -> Deliverable:
        """The ready asset behind ``/media/{asset_id}/{filename}``; 404 for a wrong name or extension."""

        async def load() -> Deliverable | None:
            asset = await self.media.get(asset_id)
            if asset is None or asset.status is not m.MediaStatus.READY:
                return None  # nothing half-processed is ever served
            return _snapshot(asset)

        found = await self.cache.value(f"media:{asset_id}", load)
        if found is None or found.filename != filename:
            raise MediaNotFound("No such media file.")
        return found

    @staticmethod
    def decide(method: str, headers: Mapping[str, str], item: Deliverable) -> Decision:
        return evaluate(
            method=method, headers=headers, size=item.size, etag=item.etag, last_modified=item.last_modified
        )
