"""tus bodies (PATCH, creation-with-upload) streamed with no database connection and no row lock held.

A short transaction locks the upload to check the offset, and ends; the body streams to the store; another
short transaction locks the upload again to record the new offset (and, at the last byte, hands the upload to
processing). The store is the truth about the bytes, so a crash between the two leaves an upload that HEAD
describes truly, and that resumes or completes (``UploadService.current`` finishes the hand-over).
Like a job, this unit opens its own transactions; the request boundary has none to commit.
"""

from __future__ import annotations

import contextlib
import errno
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.db import models as m
from learning.lib.errors import LearningError
from learning.storage import ObjectStore, StorageError
from learning.uploads.services import (
    ChecksumFailed,
    InsufficientStorage,
    OffsetMismatch,
    UploadLimits,
    UploadService,
    UploadTooLarge,
    parse_checksum,
)
from learning.uploads.streams import StreamRegistry, guarded
from learning.uploads.writers import ChecksumMismatch, TooManyBytes, writer_for


@dataclass(frozen=True, slots=True)
class Body:
    """A request's body as it arrives, with its declared size (``Content-Length``) when there is one."""

    chunks: AsyncIterator[bytes]
    size: int | None


class UploadTransfers:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: ObjectStore,
        streams: StreamRegistry,
        limits: UploadLimits,
        *,
        body_timeout: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.store = store
        self.streams = streams
        self.limits = limits
        self.body_timeout = body_timeout
        self.writer = writer_for(store)

    def _service(self, session: AsyncSession) -> UploadService:
        return UploadService.on(session, self.store, self.limits)

    async def create(
        self,
        *,
        length: int,
        metadata: dict[str, str],
        created_by: uuid.UUID | None,
        body: Body | None,
        checksum_header: str | None,
    ) -> m.Upload:
        """A new upload (committed at once), then its first bytes if the request carries some. When those are
        refused (checksum, size, broken connection), the upload goes too: its client never learnt its URL."""
        parse_checksum(checksum_header)  # a malformed header refuses the request before anything exists
        async with self.sessionmaker.begin() as session:
            upload = await self._service(session).create(length=length, metadata=metadata, created_by=created_by)
        if body is None:
            return upload
        try:
            return await self.append(upload.id, 0, body, checksum_header)
        except Exception:
            await self._discard(upload.id)
            raise

    async def _discard(self, upload_id: uuid.UUID) -> None:
        # Best effort: if the database or the store is away, the upload expires and the sweep removes it.
        with contextlib.suppress(LearningError, StorageError, SQLAlchemyError, OSError):
            async with self.sessionmaker.begin() as session:
                await self._service(session).terminate(upload_id)

    async def append(self, upload_id: uuid.UUID, offset: int, body: Body, checksum_header: str | None) -> m.Upload:
        """Write one body at ``offset`` (a newer request for the same upload cuts this one)."""
        checksum = parse_checksum(checksum_header)
        async with self.streams.hold(upload_id) as stream:
            async with self.sessionmaker.begin() as session:
                upload = await self._service(session).ready_for(upload_id, offset, body.size)
            if upload.status is not m.UploadStatus.UPLOADING:
                raise OffsetMismatch("This upload is already complete.", headers={"Upload-Offset": str(upload.length)})
            chunks = guarded(body.chunks, stream, silence=self.body_timeout)
            try:
                received = await self.writer.append(upload, offset, chunks, checksum, size=body.size)
            except ChecksumMismatch:
                raise ChecksumFailed("The chunk does not match its Upload-Checksum; it was discarded.") from None
            except TooManyBytes:
                raise UploadTooLarge("More bytes than the declared Upload-Length; nothing was kept.") from None
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                raise InsufficientStorage("The disk is full; resume from the offset HEAD reports later.") from None
            async with self.sessionmaker.begin() as session:
                return await self._service(session).record(upload_id, received)
