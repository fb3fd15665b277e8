"""Queries on media assets."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db import models as m


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, asset_id: uuid.UUID) -> m.MediaAsset | None:
        return await self.session.get(m.MediaAsset, asset_id)

    async def by_refs(self, refs: Iterable[str]) -> dict[str, m.MediaAsset]:
        wanted = list(refs)
        if not wanted:
            return {}
        rows = await self.session.execute(select(m.MediaAsset).where(m.MediaAsset.ref.in_(wanted)))
        return {asset.ref: asset for asset in rows.scalars() if asset.ref is not None}

    async def rendition(self, parent_id: uuid.UUID, rendition: m.Rendition) -> m.MediaAsset | None:
        """A ready rendition (the audio ``.m4a``, the poster) of an asset."""
        query = select(m.MediaAsset).where(
            m.MediaAsset.parent_id == parent_id,
            m.MediaAsset.rendition == rendition,
            m.MediaAsset.status == m.MediaStatus.READY,
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def add(self, asset: m.MediaAsset) -> m.MediaAsset:
        self.session.add(asset)
        await self.session.flush()
        return asset

    async def flush(self) -> None:
        await self.session.flush()
