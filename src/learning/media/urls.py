"""Stable public URLs of media: /media/{asset_id}/{name}.{ext} (ends with the extension, as Apple asks)."""

from __future__ import annotations

import uuid
from typing import Protocol


class Addressable(Protocol):
    """An asset row or a lighter snapshot of one: what its URL is made of."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def extension(self) -> str: ...


def media_path(asset: Addressable) -> str:
    return f"/media/{asset.id}/{asset.name}.{asset.extension}"


def media_url(base_url: str, asset: Addressable) -> str:
    return base_url.rstrip("/") + media_path(asset)
