"""Resumable uploads of replays: creation, appends, termination, expiry, and hand-over to processing."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, LearningError, NotFound, Unprocessable
from learning.lib.queue import PROCESS_UPLOAD, JobQueue
from learning.media.library import new_storage_key
from learning.storage import ObjectNotFound, ObjectStore, StorageUnavailable
from learning.uploads.repositories import UploadRepository
from learning.uploads.writers import Checksum, UploadWriter, writer_for

UPLOAD_LIFETIME = timedelta(hours=24)
CHECKSUM_ALGORITHMS = {"sha1": "sha1", "md5": "md5", "sha256": "sha256"}


class UploadGone(NotFound):
    title = "Upload not found"


class OffsetMismatch(Conflict):
    title = "Offset mismatch"


class UploadTooLarge(LearningError):
    status_code = 413
    title = "Upload too large"


class InsufficientStorage(LearningError):
    status_code = 507
    title = "Insufficient storage"


class ChecksumFailed(LearningError):
    status_code = 460
    title = "Checksum mismatch"


class BadUpload(LearningError):
    status_code = 400
    title = "Invalid upload request"


class UnknownTarget(Unprocessable):
    title = "Unknown upload target"


class NotRetryable(Conflict):
    title = "Upload cannot be retried"


class TargetGone(Unprocessable):
    title = "Upload target gone"


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What creations may take: one upload's size, the unfinished uploads' total, the disk space kept free."""

    max_size: int = 0
    quota: int | None = None
    free_space_reserve: int = 0


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """What ``Upload-Metadata`` carries: the file's name and type, its target, whether to publish."""

    filename: str
    declared_type: str
    target: str
    publish: bool


def parse_metadata(header: str | None) -> dict[str, str]:
    """``key base64value`` pairs separated by commas (a key may come without value)."""
    values: dict[str, str] = {}
    if not header:
        return values
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2 or parts[0] in values:
            raise BadUpload("Upload-Metadata must be comma-separated 'key base64value' pairs with distinct keys.")
        try:
            values[parts[0]] = base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadUpload(f"Upload-Metadata '{parts[0]}' is not base64-encoded UTF-8.") from None
    return values


def upload_request(metadata: dict[str, str]) -> UploadRequest:
    filename = (metadata.get("filename") or metadata.get("name") or "").strip()
    target = (metadata.get("target") or "").strip()
    if not filename or len(filename) > 255 or any(ord(c) < 32 for c in filename):
        raise BadUpload("Upload-Metadata needs a 'filename' (at most 255 printable characters).")
    if not target:
        raise BadUpload("Upload-Metadata needs a 'target': 'session:<series>/<session>' or 'lesson:<module>/<lesson>'.")
    declared = (metadata.get("filetype") or metadata.get("content_type") or "")[:100]
    publish = metadata.get("publish", "").strip().lower() in {"1", "true", "yes"}
    return UploadRequest(filename=filename, declared_type=declared, target=target, publish=publish)


def parse_checksum(header: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadUpload(f"Unsupported checksum algorithm '{algorithm}'; use one of {', '.join(CHECKSUM_ALGORITHMS)}.")
    try:
        expected = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise BadUpload("Upload-Checksum must carry a base64 digest.") from None
    return Checksum(CHECKSUM_ALGORITHMS[algorithm], expected)


class UploadService:
    def __init__(
        self, uploads: UploadRepository, writer: UploadWriter, jobs: JobQueue, limits: UploadLimits | None = None
    ) -> None:
        self.uploads = uploads
        self.writer = writer
        self.jobs = jobs
        self.limits = limits or UploadLimits()

    @classmethod
    def on(cls, session: AsyncSession, store: ObjectStore, limits: UploadLimits | None = None) -> UploadService:
        """The service on ``session``, writing to ``store``."""
        return cls(UploadRepository(session), writer_for(store), JobQueue(session), limits)

    async def _target(self, target: str) -> tuple[m.UploadTarget, uuid.UUID]:
        kind, _, path = target.partition(":")
        first, _, second = path.partition("/")
        if kind == "session":
            if second:
                found = await self.uploads.session_target(first, second)
                if found is not None:
                    return m.UploadTarget.WEBINAR_SESSION, found.id
            else:
                matches = await self.uploads.sessions_matching(first)
                if len(matches) == 1:
                    return m.UploadTarget.WEBINAR_SESSION, matches[0].id
        elif kind == "lesson" and second:
            lesson = await self.uploads.lesson_target(first, second)
            if lesson is not None:
                return m.UploadTarget.LESSON, lesson.id
        raise UnknownTarget(
            f"No target '{target}': use 'session:<series>/<session>', 'session:<YYYY-MM>' "
            "or 'lesson:<module>/<lesson>'."
        )

    async def create(self, *, length: int, metadata: dict[str, str], created_by: uuid.UUID | None) -> m.Upload:
        """A new upload (tus creation): checks the size and the target, prepares the storage."""
        if length < 1:
            raise BadUpload("Upload-Length must be a positive number of bytes.")
        if length > self.limits.max_size:
            raise UploadTooLarge(f"The upload is larger than the limit of {self.limits.max_size} bytes.")
        request = upload_request(metadata)
        target_kind, target_id = await self._target(request.target)
        await self._check_room(length)
        upload = m.Upload(
            id=uuid.uuid4(),
            created_by=created_by,
            status=m.UploadStatus.UPLOADING,
            length=length,
            offset=0,
            filename=request.filename,
            declared_type=request.declared_type,
            target_kind=target_kind,
            target_id=target_id,
            publish_on_ready=request.publish,
            storage_key=new_storage_key(m.MediaKind.VIDEO, "upload").replace("video/", "uploads/", 1),
            expires_at=utcnow() + UPLOAD_LIFETIME,
            attempts=0,
        )
        await self.writer.begin(upload)
        return await self.uploads.add(upload)

    async def _check_room(self, length: int) -> None:
        declared, remaining = await self.uploads.unfinished_bytes(utcnow())
        quota = self.limits.quota
        if quota is not None and declared + length > quota:
            raise InsufficientStorage(
                f"The unfinished uploads already declare {declared} bytes of the {quota}-byte upload quota: "
                "finish or terminate some before starting another."
            )
        free = await self.writer.free_bytes()
        if free is not None and free - remaining - length < self.limits.free_space_reserve:
            raise InsufficientStorage(
                f"Not enough free disk space: {free} bytes free, {remaining} still to come for unfinished uploads, "
                f"{self.limits.free_space_reserve} kept free; this upload needs {length}."
            )

    async def get(self, upload_id: uuid.UUID, *, lock: bool = False) -> m.Upload:
        upload = await self.uploads.get(upload_id, lock=lock)
        if upload is None:
            raise UploadGone("No such upload (it may have been terminated).")
        if upload.status is m.UploadStatus.UPLOADING and upload.expires_at <= utcnow():
            raise UploadGone("This upload has expired.")
        return upload

    async def current(self, upload_id: uuid.UUID) -> m.Upload:
        """The upload with its offset as the store has it (bytes may have arrived after the last update)."""
        upload = await self.get(upload_id)
        if upload.status is m.UploadStatus.UPLOADING:
            offset = await self.writer.offset(upload)
            if offset >= upload.length:
                # Every byte is stored but the hand-over was lost (the database failed at the end of the last
                # PATCH): finish it now, unless a PATCH is recording it at this moment.
                locked = await self.uploads.get(upload_id, lock=True, skip_locked=True)
                if locked is not None and locked.status is m.UploadStatus.UPLOADING:
                    await self._hand_over(locked)
                    await self.uploads.flush()
                    return locked
            # Shown, not written: a reader never waits for a row lock.
            set_committed_value(upload, "offset", offset)
        return upload

    async def ready_for(self, upload_id: uuid.UUID, offset: int, size: int | None) -> m.Upload:
        """Check a body of ``size`` bytes (None: unknown) may be written at ``offset`` (the offset the store
        holds). An upload whose bytes are all stored is handed over and returned as it now is."""
        upload = await self.get(upload_id, lock=True)
        if upload.status is not m.UploadStatus.UPLOADING:
            return upload
        current = await self.writer.offset(upload)
        if current >= upload.length:
            await self._hand_over(upload)
            await self.uploads.flush()
            return upload
        if offset != current:
            raise OffsetMismatch(f"Upload-Offset is {offset} but the upload holds {current} bytes.")
        if size is not None and offset + size > upload.length:
            raise UploadTooLarge("More bytes than the declared Upload-Length; nothing was kept.")
        return upload

    async def record(self, upload_id: uuid.UUID, received: int) -> m.Upload:
        """Record that the store holds ``received`` bytes; at the last byte, hand the upload to processing."""
        upload = await self.get(upload_id, lock=True)
        if upload.status is not m.UploadStatus.UPLOADING:
            return upload  # handed over meanwhile (by a HEAD that found every byte stored)
        upload.offset = received
        upload.expires_at = utcnow() + UPLOAD_LIFETIME
        if upload.offset < upload.length:
            await self.uploads.skip_commit_flush()  # only the offset mirror changes
        else:
            await self._hand_over(upload)
        await self.uploads.flush()
        return upload

    async def _hand_over(self, upload: m.Upload) -> None:
        """Every byte is stored: make it the object, and queue its processing (idempotent)."""
        await self.writer.finish(upload)
        upload.status = m.UploadStatus.UPLOADED
        upload.offset = upload.length
        await self.jobs.enqueue(PROCESS_UPLOAD, upload.id.bytes, dedupe_key=f"upload:{upload.id}")

    async def terminate(self, upload_id: uuid.UUID) -> None:
        """Remove an upload that is still receiving bytes: its bytes and its row."""
        upload = await self.get(upload_id, lock=True)
        if upload.status is not m.UploadStatus.UPLOADING:
            raise Conflict("Only an upload still receiving bytes can be terminated.")
        await self.writer.discard(upload)
        await self.uploads.delete(upload)

    async def retryable(self, upload_id: uuid.UUID) -> bool:
        """Whether ``retry`` would queue this upload again (see ``retryable_among``)."""
        upload = await self.get(upload_id)
        return upload.id in await self.retryable_among([upload])

    async def retryable_among(self, uploads: Iterable[m.Upload]) -> set[uuid.UUID]:
        """Of these uploads, the failed ones that processing them again can help: their file is still stored (a
        refused file was removed: it has to be sent again) and their session or lesson still exists. A store
        that does not answer now leaves the question open: the upload is counted in (a retry then says)."""
        found: set[uuid.UUID] = set()
        for upload in uploads:
            if upload.status is not m.UploadStatus.FAILED:
                continue
            if await self.uploads.target(upload.target_kind, upload.target_id) is None:
                continue
            try:
                stored = await self.writer.completed_file_exists(upload)
            except StorageUnavailable:
                stored = True
            if stored:
                found.add(upload.id)
        return found

    async def retry(self, upload_id: uuid.UUID) -> m.Upload:
        """Process a failed upload again, when that can help (409 otherwise: see ``retryable_among``)."""
        upload = await self.get(upload_id, lock=True)
        if upload.status is not m.UploadStatus.FAILED:
            raise NotRetryable("Only a failed upload can be retried.")
        if not await self.writer.completed_file_exists(upload):
            raise NotRetryable("This file was refused and removed; upload it again.")
        if await self.uploads.target(upload.target_kind, upload.target_id) is None:
            raise NotRetryable("The webinar session or lesson of this upload no longer exists; upload it for another.")
        upload.status = m.UploadStatus.UPLOADED
        upload.error = None
        await self.jobs.enqueue(PROCESS_UPLOAD, upload.id.bytes, dedupe_key=f"upload:{upload.id}")
        await self.uploads.flush()
        return upload

    async def listing(self, *, limit: int, offset: int) -> tuple[list[m.Upload], int]:
        return await self.uploads.listing(limit=limit, offset=offset)

    async def latest_per_target(self) -> dict[uuid.UUID, m.Upload]:
        """Each webinar session's or lesson's most recent upload, by target id."""
        return await self.uploads.latest_per_target()

    async def requeue_stalled(self, older_than: timedelta) -> int:
        """Queue again the processing of uploads nothing has touched for a while (a lost job)."""
        stalled = await self.uploads.stalled(utcnow() - older_than)
        for upload in stalled:
            await self.jobs.enqueue(PROCESS_UPLOAD, upload.id.bytes, dedupe_key=f"upload:{upload.id}")
        return len(stalled)

    async def remove_expired(self) -> int:
        """Remove uploads that stopped receiving bytes before completing (their bytes and rows)."""
        expired = await self.uploads.expired(utcnow())
        removed = 0
        for upload in expired:
            try:
                complete = await self.writer.offset(upload) >= upload.length
            except ObjectNotFound:
                complete = False
            if complete:  # its last PATCH stored every byte, then the database failed: finish it instead
                await self._hand_over(upload)
                continue
            await self.writer.discard(upload)
            await self.uploads.delete(upload)
            removed += 1
        await self.uploads.flush()
        return removed

    # --- processing (the replay job) -------------------------------------------------------------
    async def start_processing(self, upload_id: uuid.UUID) -> m.Upload | None:
        """Mark an upload as being processed (one more attempt); None when there is nothing to process
        (terminated, already done, or failed: an admin retries those)."""
        upload = await self.uploads.get(upload_id, lock=True)
        if upload is None or upload.status not in {m.UploadStatus.UPLOADED, m.UploadStatus.PROCESSING}:
            return None
        upload.status = m.UploadStatus.PROCESSING
        upload.attempts += 1
        upload.error = None
        return upload

    async def replay_ready(self, upload_id: uuid.UUID, asset_id: uuid.UUID, duration_seconds: float) -> None:
        """Attach the processed replay to its webinar session or lesson (publishing it if asked) and
        mark the upload ready."""
        upload = await self.uploads.get(upload_id, lock=True)
        if upload is None:
            return
        target = await self.uploads.target(upload.target_kind, upload.target_id)
        if target is None:
            raise TargetGone(
                "La séance ou la leçon de cet envoi n’existe plus : recréez-la, puis relancez le traitement."
            )
        if isinstance(target, m.WebinarSession):
            target.replay_id = asset_id
            target.status = m.SessionStatus.REPLAY_AVAILABLE
        else:
            target.media_id = asset_id
            target.duration_seconds = round(duration_seconds)
        if upload.publish_on_ready:
            target.publication = m.Publication.PUBLISHED
            target.publish_at = target.publish_at or utcnow()
        upload.status = m.UploadStatus.READY
        upload.asset_id = asset_id
        upload.offset = upload.length
        await self.uploads.flush()

    async def fail(self, upload_id: uuid.UUID, error: str) -> m.Upload | None:
        """Mark an upload failed, saying why (an admin may retry it while its file is stored)."""
        upload = await self.uploads.get(upload_id, lock=True)
        if upload is not None:
            upload.status = m.UploadStatus.FAILED
            upload.error = error
        return upload

    async def process_later(self, upload_id: uuid.UUID, attempt: int, after: timedelta) -> None:
        """Queue the processing again after ``after`` (the store or the database was away)."""
        await self.jobs.enqueue(
            PROCESS_UPLOAD, upload_id.bytes, dedupe_key=f"upload:{upload_id}:after:{attempt}", execute_after=after
        )
