"""Stable public URLs of media: /media/{asset_id}/{name}.{ext} (ends with the extension, as Apple asks)."""

from __future__ import annotations

from learning.db import models as m


def media_path(asset: m.MediaAsset) -> str:
    return f"/media/{asset.id}/{asset.name}.{asset.extension}"


def media_url(base_url: str, asset: m.MediaAsset) -> str:
    return base_url.rstrip("/") + media_path(asset)
