"""Which asset is behind a stable media URL (a snapshot kept by the edge), and how a delivery is counted."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.edge import AnswerStore, Deliverable, media_key
from learning.lib.clock import utcnow
from learning.lib.errors import NotFound
from learning.media.downloads import DownloadRecorder
from learning.media.repositories import MediaRepository
from learning.storage import ObjectStore


class MediaNotFound(NotFound):
    title = "Media not found"


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
        storage_key=asset.storage_key,
        duration_seconds=asset.duration_seconds,
    )


class MediaDelivery:
    """Finds the asset behind a media URL: from the edge's snapshots, or (on a miss) from PostgreSQL through a
    session of its own, so a request for a known asset costs no database session at all."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], answers: AnswerStore) -> None:
        self.sessions = sessions
        self.answers = answers

    async def find(self, asset_id: uuid.UUID, filename: str) -> Deliverable:
        """The ready, published asset behind ``/media/{asset_id}/{filename}``; 404 for a wrong name or
        extension, and for the media of unpublished or scheduled content (the same answer as an unknown asset)."""

        async def load() -> Deliverable | None:
            async with self.sessions() as session:
                media = MediaRepository(session)
                asset = await media.get(asset_id)
                if asset is None or asset.status is not m.MediaStatus.READY:
                    return None  # nothing half-processed is ever served
                if not await media.is_published(asset, utcnow()):
                    return None  # not stored either: a scheduled lesson's media appears when it is due
                return _snapshot(asset)

        found = await self.answers.value(media_key(asset_id), load)
        if found is None or found.filename != filename:
            raise MediaNotFound("No such media file.")
        return found


def presigned_location(store: ObjectStore, expires_seconds: int, item: Deliverable) -> str:
    """Redirect mode's target: a short-lived presigned URL (signing is local computation, no request)."""
    return store.presigned_get(item.storage_key, expires_seconds=expires_seconds, content_type=item.mime_type)


def count_download(
    recorder: DownloadRecorder, item: Deliverable, client_ip: str, user_agent: str, ranges: list[tuple[int, int]]
) -> None:
    """Hand a GET to the download counter (IAB rules there: probes, HEAD and bots are not counted)."""
    if ranges:
        recorder.record(
            item.id,
            size_bytes=item.size,
            duration_seconds=item.duration_seconds,
            client_ip=client_ip,
            user_agent=user_agent,
            method="GET",
            ranges=ranges,
            at=utcnow(),
        )
