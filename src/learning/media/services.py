"""What the pages ask of media assets: a replay's poster, a chapters file, an episode's files."""

from __future__ import annotations

import uuid

from learning.db import models as m
from learning.media.repositories import MediaRepository
from learning.storage import ObjectNotFound, ObjectStore, StorageUnavailable


class MediaService:
    def __init__(self, media: MediaRepository, store: ObjectStore) -> None:
        self.media = media
        self.store = store

    async def poster(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        """The ready poster of a video, if it has one."""
        return await self.media.rendition(asset_id, m.Rendition.POSTER)

    async def side_file(self, asset_id: uuid.UUID, *, kind: m.MediaKind, max_bytes: int) -> bytes | None:
        """The bytes of a ready side file (chapters, transcript) of at most ``max_bytes``; None when absent,
        of another kind, too large, unreadable or the store is away."""
        asset = await self.media.get(asset_id)
        if asset is None or asset.kind is not kind or asset.status is not m.MediaStatus.READY:
            return None
        if asset.size_bytes > max_bytes:
            return None
        try:
            return b"".join([chunk async for chunk in self.store.read(asset.storage_key)])
        except (ObjectNotFound, StorageUnavailable):
            return None

    async def episode_files(self, asset_id: uuid.UUID) -> list[m.MediaAsset]:
        """An episode's original file and its downloadable renditions (not its poster)."""
        return await self.media.episode_files(asset_id)
