"""Where the bytes of a resumable upload go, per store.

- ``LocalStore``: appended to a staging file; a finished upload is renamed into place.
- ``S3Store``: parts of a multipart upload (8 MiB each). Bytes that do not fill a part yet wait in an
  "incomplete part" object named after the part number it will open, so a crash at any point never
  counts a byte twice: an incomplete object whose number is not the next part number is stale.

In both cases the store is the truth about how many bytes arrived (``offset``); an upload therefore
resumes after an app restart, even one in the middle of a PATCH. Once ``finish`` made the bytes an object,
``offset`` reports the object's size and ``finish`` may run again (a crash between it and the database's
record of it is recovered that way).

An empty chunk in a body means "the client paused": the writers store what they hold, so HEAD reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Protocol

import anyio

from learning.db import models as m
from learning.storage import ObjectInfo, ObjectNotFound, ObjectStore, UploadNotFound
from learning.storage.local import LocalStore

PART_SIZE = 8 * 1024 * 1024
_OCTETS = "application/octet-stream"
WRITE_BLOCK = 4 * 1024 * 1024  # local appends are written in blocks of this size (one thread hop each)


class ChecksumMismatch(Exception):
    """The chunk's checksum differs from the client's ``Upload-Checksum``; the chunk was discarded."""


class TooManyBytes(Exception):
    """The client sent more bytes than the upload's declared length."""


class Checksum:
    """A running digest over one PATCH body, compared with the client's at the end."""

    def __init__(self, algorithm: str, expected: bytes) -> None:
        self._digest = hashlib.new(algorithm)
        self._expected = expected

    def update(self, data: bytes) -> None:
        self._digest.update(data)

    def matches(self) -> bool:
        return self._digest.digest() == self._expected


class UploadWriter(Protocol):
    async def begin(self, upload: m.Upload) -> None: ...

    async def offset(self, upload: m.Upload) -> int: ...

    async def append(
        self, upload: m.Upload, offset: int, body: AsyncIterator[bytes], checksum: Checksum | None, *, size: int | None
    ) -> int: ...

    async def free_bytes(self) -> int | None: ...

    async def finish(self, upload: m.Upload) -> ObjectInfo: ...

    async def discard(self, upload: m.Upload) -> None: ...

    async def completed_file_exists(self, upload: m.Upload) -> bool: ...


async def _exists(store: ObjectStore, key: str) -> bool:
    try:
        await store.stat(key)
    except ObjectNotFound:
        return False
    return True


def writer_for(store: ObjectStore) -> UploadWriter:
    if isinstance(store, LocalStore):
        return LocalAppendWriter(store)
    return MultipartWriter(store)


class LocalAppendWriter:
    def __init__(self, store: LocalStore) -> None:
        self.store = store

    def _staged(self, upload: m.Upload) -> Path:
        return self.store.staging_file(upload.id.hex)

    async def begin(self, upload: m.Upload) -> None:
        path = self._staged(upload)

        def create() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

        await anyio.to_thread.run_sync(create)

    async def offset(self, upload: m.Upload) -> int:
        try:
            return (await anyio.Path(self._staged(upload)).stat()).st_size
        except FileNotFoundError:
            return (await self.store.stat(upload.storage_key)).size  # finished: the object (or ObjectNotFound)

    async def free_bytes(self) -> int | None:
        return await self.store.free_bytes()

    async def append(
        self, upload: m.Upload, offset: int, body: AsyncIterator[bytes], checksum: Checksum | None, *, size: int | None
    ) -> int:
        path = self._staged(upload)
        fd = await anyio.to_thread.run_sync(os.open, path, os.O_WRONLY)
        position = offset  # where the next block goes
        received = offset  # bytes accepted so far, written or not
        pending: list[bytes] = []
        in_flight: asyncio.Future[int] | None = None
        try:
            try:
                async for chunk in body:
                    if received + len(chunk) > upload.length:
                        raise TooManyBytes
                    received += len(chunk)
                    if checksum is not None:
                        checksum.update(chunk)
                    pending.append(chunk)
                    if received - position >= WRITE_BLOCK or (not chunk and received > position):
                        # One block is written while the next one arrives; the chunks go to the file as
                        # they are (pwritev), never copied into a bigger buffer.
                        if in_flight is not None:
                            await in_flight
                        in_flight = asyncio.ensure_future(anyio.to_thread.run_sync(_write_all, fd, pending, position))
                        position, pending = received, []
            finally:
                # What arrived before a broken connection is kept (tus resumes from it)…
                if in_flight is not None:
                    await in_flight
                if pending:
                    await anyio.to_thread.run_sync(_write_all, fd, pending, position)
                    position = received
            if checksum is not None and not checksum.matches():
                # …but a chunk whose checksum fails is discarded whole.
                await anyio.to_thread.run_sync(os.ftruncate, fd, offset)
                raise ChecksumMismatch
            return position
        except TooManyBytes:
            await anyio.to_thread.run_sync(os.ftruncate, fd, offset)
            raise
        finally:
            os.close(fd)

    async def finish(self, upload: m.Upload) -> ObjectInfo:
        # Durable once, before the rename makes it the object (not after every PATCH: the staging file's
        # size is what HEAD reports, and the page cache outlives an app crash).
        staged = self._staged(upload)
        try:
            await anyio.to_thread.run_sync(_fsync_path, staged)
        except FileNotFoundError:  # renamed already: this finish was done, then not recorded
            return await self.store.stat(upload.storage_key)
        return await self.store.commit_staged(staged, upload.storage_key)

    async def discard(self, upload: m.Upload) -> None:
        await anyio.Path(self._staged(upload)).unlink(missing_ok=True)
        await self.store.delete(upload.storage_key)

    async def completed_file_exists(self, upload: m.Upload) -> bool:
        """Whether the finished upload's bytes are still stored (a rejected file is removed)."""
        return await _exists(self.store, upload.storage_key)


def _write_all(fd: int, chunks: list[bytes], position: int) -> int:
    """Write ``chunks`` at ``position`` (pwritev, looping over short writes); returns the bytes written."""
    total = sum(len(chunk) for chunk in chunks)
    done = os.pwritev(fd, chunks, position)
    while done < total:  # short writes are rare on regular files, but allowed
        rest = b"".join(chunks)[done:]
        done += os.pwrite(fd, rest, position + done)
    return total


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MultipartWriter:
    def __init__(self, store: ObjectStore, part_size: int = PART_SIZE) -> None:
        self.store = store
        self.part_size = part_size

    @staticmethod
    def _incomplete_key(upload: m.Upload, part_number: int) -> str:
        return f"incomplete/{upload.id.hex}.{part_number}"

    async def begin(self, upload: m.Upload) -> None:
        content_type = upload.declared_type or "application/octet-stream"
        upload.multipart_id = await self.store.begin_multipart(upload.storage_key, content_type)

    async def _state(self, upload: m.Upload) -> tuple[int, int, bytes]:
        """(bytes in parts, next part number, bytes of the incomplete part)."""
        assert upload.multipart_id is not None  # noqa: S101 — set at creation
        parts = await self.store.list_parts(upload.storage_key, upload.multipart_id)
        in_parts = sum(size for _, _, size in parts)
        next_number = (parts[-1][0] if parts else 0) + 1
        pending = b""
        with contextlib.suppress(ObjectNotFound):
            pending = b"".join([c async for c in self.store.read(self._incomplete_key(upload, next_number))])
        return in_parts, next_number, pending

    async def offset(self, upload: m.Upload) -> int:
        try:
            in_parts, _, pending = await self._state(upload)
        except UploadNotFound:  # completed (or aborted): the object, if any, holds every byte
            return (await self.store.stat(upload.storage_key)).size
        return in_parts + len(pending)

    async def free_bytes(self) -> int | None:
        return None  # the object store's own business

    async def append(
        self, upload: m.Upload, offset: int, body: AsyncIterator[bytes], checksum: Checksum | None, *, size: int | None
    ) -> int:
        in_parts, number, pending = await self._state(upload)
        if checksum is not None or size is None:
            # A chunk with a checksum, or of unknown size, is held back (on disk) until it is verified:
            # parts sent to S3 cannot be taken back.
            body = await _verified(body, checksum, upload.length - offset)
        buffer = bytearray(pending)
        saved = len(buffer)  # bytes of the buffer already in the incomplete object
        stale: list[str] = []
        overflow = False
        try:
            async for chunk in body:
                if in_parts + len(buffer) + len(chunk) > upload.length:
                    overflow = True
                    raise TooManyBytes
                if not chunk and len(buffer) > saved:  # the client paused: store what it sent
                    await self.store.put_bytes(self._incomplete_key(upload, number), bytes(buffer), _OCTETS)
                    saved = len(buffer)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    await self._put_part(upload, number, bytes(buffer[: self.part_size]))
                    stale.append(self._incomplete_key(upload, number))
                    del buffer[: self.part_size]
                    in_parts += self.part_size
                    number += 1
                    saved = 0
        finally:
            # Keep what arrived, even when the connection broke: the bytes that do not fill a part wait
            # in the incomplete object of the next part (but nothing of a body longer than the upload).
            if buffer and len(buffer) > saved and not overflow:
                await self.store.put_bytes(self._incomplete_key(upload, number), bytes(buffer), _OCTETS)
            for key in stale:
                with contextlib.suppress(ObjectNotFound):
                    await self.store.delete(key)
            if isinstance(body, AsyncGenerator):  # a spooled body's file closes now, even when a part failed
                await body.aclose()
        return in_parts + len(buffer)

    async def _put_part(self, upload: m.Upload, number: int, data: bytes) -> None:
        assert upload.multipart_id is not None  # noqa: S101 — set at creation
        await self.store.put_part(upload.storage_key, upload.multipart_id, number, data)

    async def finish(self, upload: m.Upload) -> ObjectInfo:
        assert upload.multipart_id is not None  # noqa: S101 — set at creation
        try:
            _, number, pending = await self._state(upload)
        except UploadNotFound:  # completed already: this finish was done, then not recorded
            info = await self.store.stat(upload.storage_key)
            await self._sweep_incomplete(upload, upload.length // self.part_size + 1)
            return info
        if pending or number == 1:  # the last part may be small (or the upload empty)
            await self._put_part(upload, number, pending)
        parts = await self.store.list_parts(upload.storage_key, upload.multipart_id)
        info = await self.store.complete_multipart(
            upload.storage_key, upload.multipart_id, [(n, etag) for n, etag, _ in parts]
        )
        await self._sweep_incomplete(upload, number)
        return info

    async def discard(self, upload: m.Upload) -> None:
        if upload.multipart_id is not None:
            with contextlib.suppress(ObjectNotFound):
                _, number, _ = await self._state(upload)
                await self._sweep_incomplete(upload, number)
            await self.store.abort_multipart(upload.storage_key, upload.multipart_id)
        await self.store.delete(upload.storage_key)

    async def completed_file_exists(self, upload: m.Upload) -> bool:
        """Whether the finished upload's bytes are still stored (a rejected file is removed)."""
        return await _exists(self.store, upload.storage_key)

    async def _sweep_incomplete(self, upload: m.Upload, up_to: int) -> None:
        """Remove the incomplete-part objects of parts 1..up_to. Normally only the last one exists, but a
        connection or a store that broke while a PATCH was saving its tail can leave an earlier one."""

        async def delete(number: int) -> None:
            with contextlib.suppress(ObjectNotFound):
                await self.store.delete(self._incomplete_key(upload, number))

        numbers = list(range(1, up_to + 1))
        for start in range(0, len(numbers), 16):  # a 2 GB upload has 256 parts: 16 requests at a time
            await asyncio.gather(*(delete(number) for number in numbers[start : start + 16]))


async def _verified(body: AsyncIterator[bytes], checksum: Checksum | None, limit: int) -> AsyncIterator[bytes]:
    """Spool ``body`` to a temporary file, check its size and checksum, then replay it; ``TooManyBytes`` or
    ``ChecksumMismatch`` otherwise."""
    spool = await anyio.to_thread.run_sync(tempfile.TemporaryFile)
    size = 0
    async for chunk in body:
        size += len(chunk)
        if size > limit:
            await anyio.to_thread.run_sync(spool.close)
            raise TooManyBytes
        if checksum is not None:
            checksum.update(chunk)
        if chunk:
            await anyio.to_thread.run_sync(spool.write, chunk)
    if checksum is not None and not checksum.matches():
        await anyio.to_thread.run_sync(spool.close)
        raise ChecksumMismatch
    await anyio.to_thread.run_sync(spool.seek, 0)
    return _replay(spool.read, spool.close)


async def _replay(read: Callable[[int], bytes], close: Callable[[], None]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(read, 1024 * 1024):
            yield chunk
    finally:
        close()
