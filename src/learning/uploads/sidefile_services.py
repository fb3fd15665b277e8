"""Side files of a webinar session or a lesson: its artwork (JPEG/PNG), its transcript (WebVTT/SRT) and its
chapters (Podcasting 2.0 JSON chapters), each sent whole in one request.

The body is spooled to a temporary file and counted as it arrives: past the kind's size limit the upload
stops at once (413). The file is then judged from its bytes, never from the client's claim: a picture is
what its signature and a PyAV decode say (a PNG sent as ``image/jpeg`` is stored as the PNG it is), at the
size Apple asks of podcast artwork; a transcript must parse cue by cue; chapters must follow the
Podcasting 2.0 JSON chapters format and fall within the target's replay (one module a format:
``sidefile_artwork``, ``sidefile_transcripts``, ``sidefile_chapters``). Only then is the file stored
under a generated key, made a media asset and attached; the asset it replaces is retired (its row stays
for its download history, and its URL stops answering).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import anyio

from learning.db import models as m
from learning.lib.errors import (
    LearningError,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from learning.media import formats
from learning.media.library import new_storage_key, url_name
from learning.media.repositories import MediaRepository, StoredFile
from learning.storage import ObjectStore, StorageUnavailable
from learning.uploads.repositories import UploadRepository
from learning.uploads.sidefile_artwork import InvalidArtwork, check_artwork
from learning.uploads.sidefile_chapters import InvalidChapters, check_chapters
from learning.uploads.sidefile_formats import CheckedFile
from learning.uploads.sidefile_transcripts import InvalidTranscript, check_transcript

MiB: Final = 1024 * 1024
_SPOOL_BLOCK: Final = MiB  # bytes gathered before each write to the temporary file (one thread hop)


class SideFileKind(StrEnum):
    ARTWORK = "artwork"
    TRANSCRIPT = "transcript"
    CHAPTERS = "chapters"


@dataclass(frozen=True, slots=True)
class _Rule:
    max_bytes: int
    content_types: tuple[str, ...]
    media_kind: m.MediaKind
    attribute: str  # the target's foreign key to the asset


RULES: Final[dict[SideFileKind, _Rule]] = {
    SideFileKind.ARTWORK: _Rule(
        10 * MiB, (formats.JPEG.mime_type, formats.PNG.mime_type), m.MediaKind.IMAGE, "artwork_id"
    ),
    SideFileKind.TRANSCRIPT: _Rule(
        2 * MiB,
        (formats.VTT.mime_type, formats.SRT.mime_type, formats.PLAIN_TEXT),
        m.MediaKind.TRANSCRIPT,
        "transcript_id",
    ),
    SideFileKind.CHAPTERS: _Rule(
        1 * MiB, (formats.CHAPTERS.mime_type, formats.JSON), m.MediaKind.CHAPTERS, "chapters_id"
    ),
}

_NOUNS: Final = {
    SideFileKind.ARTWORK: "Artwork",
    SideFileKind.TRANSCRIPT: "A transcript",
    SideFileKind.CHAPTERS: "A chapters file",
}


@dataclass(frozen=True, slots=True)
class SideFileTarget:
    """The session (``series/session``) or lesson (``module/lesson``) a side file belongs to."""

    kind: m.UploadTarget
    parent_slug: str
    slug: str


class SideFileTargetNotFound(NotFound):
    title = "Webinar session or lesson not found"


class SideFileTooLarge(LearningError):
    status_code = 413
    title = "File too large"


class UnsupportedSideFileType(UnsupportedMediaType):
    title = "Unsupported file type"


def media_type_of(content_type: str | None) -> str:
    """``Content-Type`` without its parameters, in lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


class SideFileService:
    def __init__(self, targets: UploadRepository, media: MediaRepository, store: ObjectStore) -> None:
        self.targets = targets
        self.media = media
        self.store = store

    async def attach(
        self,
        target: SideFileTarget,
        kind: SideFileKind,
        *,
        content_type: str | None,
        content_length: int | None,
        body: AsyncIterator[bytes],
    ) -> m.MediaAsset:
        """Receive, check, store and attach one side file; the asset it replaces is retired.

        415 for a type the kind does not take, 413 past the kind's size limit (checked on ``Content-Length``
        first, then on the bytes as they come), 404 for an unknown target, 422 for a file that is not what
        it must be, 503 when the store is away. Nothing is stored unless everything passed, and the object
        is removed again if the database change fails.
        """
        rule = RULES[kind]
        declared = media_type_of(content_type)
        if declared not in rule.content_types:
            raise UnsupportedSideFileType(
                f"{_NOUNS[kind]} is sent as {' or '.join(rule.content_types)} (got '{declared or 'nothing'}')."
            )
        if content_length is not None and content_length > rule.max_bytes:
            raise _too_large(kind, rule)
        with tempfile.TemporaryDirectory(prefix="side-file-") as folder:
            path = Path(folder) / "upload"
            size, digest = await _spool(body, path, kind, rule)
            owner = await self._target(target)
            checked = await self._check(kind, path, declared, await self._duration(owner))
            key = new_storage_key(rule.media_kind, checked.extension)
            try:
                await self.store.put_file(key, path, checked.mime_type)
            except StorageUnavailable:
                raise ServiceUnavailable("The file store is unavailable; send the file again shortly.") from None
        try:
            stored = StoredFile(
                kind=rule.media_kind, name=url_name(f"{owner.slug}-{kind.value}"), extension=checked.extension,
                mime_type=checked.mime_type, size_bytes=size, storage_key=key, sha256=digest,
                width=checked.width, height=checked.height,
            )  # fmt: skip
            asset = await self.media.register(stored)
            await self._replace(owner, rule, asset.id)
        except BaseException:
            # Nothing half-written: the database never pointed at the object, so remove it.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.store.delete(key)
            raise
        return asset

    async def detach(self, target: SideFileTarget, kind: SideFileKind) -> None:
        """Detach the target's file of this kind (if any) and retire its asset."""
        owner = await self._target(target)
        await self._replace(owner, RULES[kind], None)

    async def _target(self, target: SideFileTarget) -> m.WebinarSession | m.Lesson:
        found: m.WebinarSession | m.Lesson | None
        if target.kind is m.UploadTarget.WEBINAR_SESSION:
            found = await self.targets.session_target(target.parent_slug, target.slug)
            what = f"webinar session '{target.slug}' in series '{target.parent_slug}'"
        else:
            found = await self.targets.lesson_target(target.parent_slug, target.slug)
            what = f"lesson '{target.slug}' in module '{target.parent_slug}'"
        if found is None:
            raise SideFileTargetNotFound(f"No {what}.")
        return found

    async def _duration(self, owner: m.WebinarSession | m.Lesson) -> float | None:
        """The length of the target's replay or lesson media, when it has one."""
        media_id = owner.replay_id if isinstance(owner, m.WebinarSession) else owner.media_id
        if media_id is None:
            return None
        media = await self.media.get(media_id)
        if media is None or media.status is not m.MediaStatus.READY:
            return None
        return media.duration_seconds

    async def _replace(self, owner: m.WebinarSession | m.Lesson, rule: _Rule, asset_id: uuid.UUID | None) -> None:
        previous_id: uuid.UUID | None = getattr(owner, rule.attribute)
        setattr(owner, rule.attribute, asset_id)
        if previous_id is not None and previous_id != asset_id:
            previous = await self.media.get(previous_id)
            # The row stays (download history); the object is left in the store, which is always safe.
            if previous is not None and previous.status is m.MediaStatus.READY:
                previous.status = m.MediaStatus.RETIRED
        await self.media.flush()

    @staticmethod
    async def _check(kind: SideFileKind, path: Path, declared: str, duration: float | None) -> CheckedFile:
        if kind is SideFileKind.ARTWORK:
            return await anyio.to_thread.run_sync(check_artwork, path)
        data = await anyio.Path(path).read_bytes()  # at most the kind's limit (2 MiB)
        if kind is SideFileKind.TRANSCRIPT:
            return await anyio.to_thread.run_sync(check_transcript, data, declared)
        return await anyio.to_thread.run_sync(check_chapters, data, duration)


def _too_large(kind: SideFileKind, rule: _Rule) -> SideFileTooLarge:
    return SideFileTooLarge(f"{_NOUNS[kind]} may be at most {rule.max_bytes // MiB} MiB ({rule.max_bytes} bytes).")


async def _spool(body: AsyncIterator[bytes], path: Path, kind: SideFileKind, rule: _Rule) -> tuple[int, str]:
    """Write ``body`` to ``path``; (size, sha256). Stops with 413 as soon as the limit is passed."""
    digest = hashlib.sha256()
    size = 0
    block = bytearray()
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in body:
            size += len(chunk)
            if size > rule.max_bytes:
                raise _too_large(kind, rule)
            digest.update(chunk)
            block += chunk
            if len(block) >= _SPOOL_BLOCK:
                await out.write(bytes(block))
                block.clear()
        if block:
            await out.write(bytes(block))
    if size == 0:
        raise _invalid(kind, "The file is empty.")
    return size, digest.hexdigest()


def _invalid(kind: SideFileKind, detail: str) -> Unprocessable:
    error = {SideFileKind.ARTWORK: InvalidArtwork, SideFileKind.TRANSCRIPT: InvalidTranscript}.get(
        kind, InvalidChapters
    )
    return error(detail)
