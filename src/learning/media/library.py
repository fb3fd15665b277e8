"""Shipped media files imported into the object store (by ``learning content sync``)."""

from __future__ import annotations

import hashlib
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from learning.db import models as m
from learning.lib import identity
from learning.media.formats import M4A, kind_for
from learning.media.probe import probe
from learning.media.renditions import make_audio_rendition
from learning.media.repositories import MediaRepository, StoredFile
from learning.storage import ObjectStore


def new_storage_key(kind: m.MediaKind, extension: str) -> str:
    """A generated key, never derived from user input."""
    return f"{kind.value}/{uuid.uuid4().hex}.{extension}"


def url_name(ref: str) -> str:
    """The last URL segment for a shipped file: its name without extension, made URL-safe."""
    stem = ref.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "media"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(slots=True)
class ImportReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    # Assets retired by this import (their file changed): rows pointing at them move to the new asset.
    retired_ids: list[uuid.UUID] = field(default_factory=list)
    # Objects that the database no longer points to once the transaction commits.
    stale_keys: list[str] = field(default_factory=list)
    # Objects written by this import: to remove if the transaction does not commit.
    new_keys: list[str] = field(default_factory=list)


class MediaLibrary:
    def __init__(self, media: MediaRepository, store: ObjectStore | None) -> None:
        self.media = media
        self.store = store  # None: dry run, nothing is written to the store

    async def import_files(
        self, files: list[tuple[str, Path, str, str]], *, written: list[str]
    ) -> tuple[dict[str, m.MediaAsset], ImportReport]:
        """Make each (ref, path, extension, mime type) an asset; unchanged files (same sha256) are left alone.

        Keys of objects written to the store are appended to ``written`` as soon as they exist, so the
        caller can remove them if the transaction does not commit.
        """
        existing = await self.media.by_refs(ref for ref, *_ in files)
        report = ImportReport(new_keys=written)
        assets: dict[str, m.MediaAsset] = {}
        for ref, path, extension, mime_type in files:
            digest = await anyio.to_thread.run_sync(sha256_of, path)
            asset = existing.get(ref)
            if asset is not None and asset.sha256 == digest and asset.status is m.MediaStatus.READY:
                assets[ref] = asset
                await self._audio_rendition(asset, path, report)
                continue
            kind = kind_for(mime_type)
            key = new_storage_key(kind, extension)
            size = path.stat().st_size
            info = None
            if kind in {m.MediaKind.VIDEO, m.MediaKind.AUDIO, m.MediaKind.IMAGE}:
                info = await anyio.to_thread.run_sync(probe, path)
            if self.store is not None:
                size = (await self.store.put_file(key, path, mime_type)).size
                report.new_keys.append(key)
            if asset is None:
                report.created.append(ref)
            else:
                # A changed file is a new asset with a new URL: what was served under the old URL never
                # changes, so it can be cached as immutable. The old row stays for its download history.
                report.stale_keys.append(asset.storage_key)
                report.replaced.append(ref)
                asset.ref = None
                asset.status = m.MediaStatus.RETIRED
                report.retired_ids.append(asset.id)
                await self.media.flush()
            stored = StoredFile(
                kind=kind, name=url_name(ref), extension=extension, mime_type=mime_type, size_bytes=size,
                storage_key=key, sha256=digest, duration_seconds=info.duration_seconds if info else None,
                width=info.width if info else None, height=info.height if info else None,
            )  # fmt: skip
            asset = await self.media.register(stored, ref=ref, asset_id=identity.shipped_media_id(digest, ref))
            assets[ref] = asset
            await self._audio_rendition(asset, path, report)
        await self.media.flush()
        return assets, report

    async def _audio_rendition(self, video: m.MediaAsset, path: Path, report: ImportReport) -> None:
        """A shipped video gets the audio-only ``.m4a`` podcast feeds enclose, as an uploaded replay does."""
        if video.kind is not m.MediaKind.VIDEO or self.store is None:
            return
        if await self.media.rendition(video.id, m.Rendition.AUDIO) is not None:
            return
        with tempfile.TemporaryDirectory(prefix="learning-audio-") as work:
            target = Path(work) / f"audio.{M4A.extension}"
            info = await anyio.to_thread.run_sync(make_audio_rendition, path, target)
            key = new_storage_key(M4A.kind, M4A.extension)
            size = (await self.store.put_file(key, target, M4A.mime_type)).size
            report.new_keys.append(key)
            digest = await anyio.to_thread.run_sync(sha256_of, target)
        audio = StoredFile(
            kind=M4A.kind, name=video.name, extension=M4A.extension, mime_type=M4A.mime_type, size_bytes=size,
            storage_key=key, sha256=digest, duration_seconds=info.duration_seconds,
        )  # fmt: skip
        await self.media.register(
            audio, rendition=m.Rendition.AUDIO, parent_id=video.id, asset_id=identity.rendition_id(video.id, "audio")
        )
