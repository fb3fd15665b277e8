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

    async def add(self, asset: m.MediaAsset) -> m.MediaAsset:
        self.session.add(asset)
        await self.session.flush()
        return asset

    async def flush(self) -> None:
        await self.session.flush()
