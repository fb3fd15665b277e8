"""Processing an uploaded replay: from bytes in the store to a playable, attached (and maybe published)
episode, with no manual step.

Steps: check what the file really is (reject anything but mp4, m4a, mov, mp3 or webm, and remove its
bytes); probe it; move a video's index to its start (remuxed in place of the original, not re-encoded) when it
was written last; make the audio-only AAC ``.m4a`` for podcast feeds and a poster for videos; compute the
sha256; then, in one transaction, create the assets and attach them to the webinar session or lesson.
Until that transaction commits nothing of the replay is visible.

The job is idempotent: rendition keys and asset ids derive from the upload's id, so a job re-run after a
crash overwrites what a previous run left instead of duplicating it.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.media import formats
from learning.media.containers import MediaProcessingFailed, UnsupportedMedia
from learning.media.faststart import index_first, remux_faststart
from learning.media.inspection import MediaInfo, inspect
from learning.media.library import sha256_of, url_name
from learning.media.posters import make_poster
from learning.media.renditions import make_audio_rendition
from learning.media.repositories import MediaRepository, StoredFile
from learning.storage import ObjectNotFound, ObjectStore, StorageUnavailable
from learning.storage.local import LocalStore
from learning.uploads.deps import upload_service
from learning.uploads.services import TargetGone

logger = logging.getLogger("learning.jobs.replays")

RETRY_AFTER_OUTAGE = timedelta(seconds=30)
# What the desk says of a failure nobody foresaw (a bug, a crash of FFmpeg): the details go to the log.
UNEXPECTED = (
    "Le traitement a échoué sur une erreur inattendue : relancez-le, et si l’échec se répète, "
    "signalez-le à l’équipe technique."
)


def _asset_id(upload_id: uuid.UUID, role: str) -> uuid.UUID:
    return uuid.uuid5(upload_id, role)


class ReplayProcessor:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore) -> None:
        self.sessionmaker = sessionmaker
        self.store = store

    async def handle(self, payload: bytes) -> None:
        """The job entry point: the payload is the upload's id."""
        await self.process(uuid.UUID(bytes=payload))

    async def process(self, upload_id: uuid.UUID) -> None:
        upload = await self._start(upload_id)
        if upload is None:
            return
        try:
            await self._run(upload)
        except UnsupportedMedia as exc:
            await self._reject(upload_id, exc.reason)
        except (ObjectNotFound, FileNotFoundError):
            # Not an outage: the bytes are gone (removed with a refused file). Waiting would never help.
            await self._fail(upload_id, "Le fichier envoyé n’est plus stocké : envoyez-le à nouveau.")
        except (StorageUnavailable, OSError) as exc:
            # The store (or the database) is away: try again later, the upload keeps its place.
            logger.warning("replay %s waits for storage: %s", upload_id, type(exc).__name__)
            await self._again_later(upload_id, upload.attempts)
        except Exception as exc:
            logger.exception("replay %s failed", upload_id)
            await self._fail(upload_id, _describe(exc))

    async def _start(self, upload_id: uuid.UUID) -> m.Upload | None:
        async with self.sessionmaker.begin() as session:
            return await upload_service(session, self.store).start_processing(upload_id)

    async def _run(self, upload: m.Upload) -> None:
        with tempfile.TemporaryDirectory(prefix="replay-") as folder:
            work = Path(folder)
            source = await self._local_copy(upload, work)
            info = await anyio.to_thread.run_sync(inspect, source)
            source = await self._faststart(upload, source, info, work)
            digest = await anyio.to_thread.run_sync(sha256_of, source)
            audio_path = work / f"audio.{formats.M4A.extension}"
            audio = await anyio.to_thread.run_sync(make_audio_rendition, source, audio_path)
            audio_key = f"renditions/{upload.id.hex}/audio.{formats.M4A.extension}"
            audio_size = (await self.store.put_file(audio_key, audio_path, formats.M4A.mime_type)).size
            poster_key, poster = None, None
            if info.has_video:
                poster_path = work / f"poster.{formats.JPEG.extension}"
                poster = await anyio.to_thread.run_sync(
                    lambda: make_poster(source, poster_path, duration_seconds=info.duration_seconds)
                )
                poster_key = f"renditions/{upload.id.hex}/poster.{formats.JPEG.extension}"
                await self.store.put_file(poster_key, poster_path, formats.JPEG.mime_type)
            size = (await self.store.stat(upload.storage_key)).size

        name = url_name(upload.filename)
        async with self.sessionmaker.begin() as session:
            media = MediaRepository(session)
            original = await media.register(
                StoredFile(
                    kind=m.MediaKind.VIDEO if info.has_video else m.MediaKind.AUDIO, name=name,
                    extension=info.extension.lstrip("."), mime_type=info.mime_type, size_bytes=size,
                    storage_key=upload.storage_key, sha256=digest, duration_seconds=info.duration_seconds,
                    width=info.width, height=info.height,
                ),
                asset_id=_asset_id(upload.id, "original"),
            )  # fmt: skip
            await media.register(
                StoredFile(
                    kind=m.MediaKind.AUDIO, name=name, extension=formats.M4A.extension, mime_type=formats.M4A.mime_type,
                    size_bytes=audio_size,
                    storage_key=audio_key, duration_seconds=audio.duration_seconds,
                ),
                rendition=m.Rendition.AUDIO, parent_id=original.id, asset_id=_asset_id(upload.id, "audio"),
            )  # fmt: skip
            if poster is not None and poster_key is not None:
                await media.register(
                    StoredFile(
                        kind=m.MediaKind.IMAGE, name=name, extension=formats.JPEG.extension,
                        mime_type=formats.JPEG.mime_type, size_bytes=poster.size_bytes, storage_key=poster_key,
                        width=poster.width, height=poster.height,
                    ),
                    rendition=m.Rendition.POSTER, parent_id=original.id, asset_id=_asset_id(upload.id, "poster"),
                )  # fmt: skip
            await upload_service(session, self.store).replay_ready(upload.id, original.id, info.duration_seconds)
        logger.info("replay ready", extra={"fields": {"upload": str(upload.id), "format": info.format}})

    async def _faststart(self, upload: m.Upload, source: Path, info: MediaInfo, work: Path) -> Path:
        """A video whose index (``moov``) comes after its data makes players fetch its end before they play:
        it is remuxed with the index first and stored in place of the upload. The file to go on with."""
        if not info.has_video or info.format not in {"mp4", "mov"}:
            return source
        if await anyio.to_thread.run_sync(index_first, source):
            return source
        target = work / f"faststart{info.extension}"
        await anyio.to_thread.run_sync(lambda: remux_faststart(source, target, muxer=info.format))
        # The same key: a job run again finds the faststart file and leaves it as it is.
        await self.store.put_file(upload.storage_key, target, info.mime_type)
        return target

    async def _local_copy(self, upload: m.Upload, work: Path) -> Path:
        if isinstance(self.store, LocalStore):
            return self.store.path_for(upload.storage_key)
        target = work / "source"
        async with await anyio.open_file(target, "wb") as out:
            async for chunk in self.store.read(upload.storage_key):
                await out.write(chunk)
        return target

    async def _reject(self, upload_id: uuid.UUID, reason: str) -> None:
        """Not a replay we accept: say why, and remove its bytes."""
        async with self.sessionmaker.begin() as session:
            upload = await upload_service(session, self.store).fail(upload_id, reason)
            if upload is not None:
                with contextlib.suppress(ObjectNotFound):
                    await self.store.delete(upload.storage_key)

    async def _fail(self, upload_id: uuid.UUID, error: str) -> None:
        async with self.sessionmaker.begin() as session:
            await upload_service(session, self.store).fail(upload_id, error)

    async def _again_later(self, upload_id: uuid.UUID, attempt: int) -> None:
        try:
            async with self.sessionmaker.begin() as session:
                await upload_service(session, self.store).process_later(upload_id, attempt, RETRY_AFTER_OUTAGE)
        except OSError:
            # The database is away too: the upload stays in "processing"; the worker's sweep re-queues it.
            logger.warning("replay %s could not be re-queued now", upload_id)


def _describe(exc: Exception) -> str:
    """The failure as the desk shows it: one French sentence saying what to do (ours carry theirs)."""
    if isinstance(exc, MediaProcessingFailed | TargetGone) and exc.detail:
        return exc.detail
    return UNEXPECTED
