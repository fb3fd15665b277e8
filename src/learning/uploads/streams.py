"""The bodies of tus requests while they stream: one at a time per upload, a newer one cutting an older one,
a silent one cut after a timeout, and what arrived made visible when the client goes quiet.

- ``StreamRegistry.hold(upload_id)``: a PATCH (or a creation-with-upload) holds its upload while it streams.
  A newer request for the same upload in this process *cuts* the older one (its body ends where it stands:
  the bytes it delivered are kept) and waits until the older one has recorded them. Across processes (several
  server workers on one host) an exclusive ``flock`` on a file named after the upload does the same job
  without a database connection; the newer request is then refused (423) until the older one ends, which the
  body timeout bounds.
- ``guarded(body, stream, silence)``: the body's chunks, ending early when the stream is cut, raising
  ``BodyTimeout`` when no byte came for ``silence`` seconds, and yielding an empty chunk when the client has
  been quiet for ``FLUSH_AFTER_SECONDS`` (the writers then store what they buffer, so HEAD reports it).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from learning.lib.errors import LearningError

FLUSH_AFTER_SECONDS = 0.5


class BodyTimeout(LearningError):
    status_code = 408
    title = "Request body timeout"


class UploadBusy(LearningError):
    status_code = 423
    title = "Upload busy"


@dataclass(eq=False)
class Stream:
    """One request streaming into an upload."""

    cut: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class StreamRegistry:
    """Who streams into which upload, in this process (and, through lock files, on this host)."""

    def __init__(self, lock_folder: Path, *, retry_after: int) -> None:
        self.lock_folder = lock_folder
        self.retry_after = retry_after
        self._active: dict[uuid.UUID, Stream] = {}

    @contextlib.asynccontextmanager
    async def hold(self, upload_id: uuid.UUID) -> AsyncIterator[Stream]:
        """Hold ``upload_id`` for one request's body; an older request of this process is cut first."""
        while (older := self._active.get(upload_id)) is not None:
            older.cut.set()
            await older.done.wait()
        mine = self._active[upload_id] = Stream()
        try:
            fd = await anyio.to_thread.run_sync(_lock, self.lock_folder / upload_id.hex)
            if fd is None:
                raise UploadBusy(
                    "Another request is sending bytes to this upload; retry once it ends.",
                    headers={"Retry-After": str(self.retry_after)},
                )
            try:
                yield mine
            finally:
                await anyio.to_thread.run_sync(_unlock, fd, self.lock_folder / upload_id.hex)
        finally:
            del self._active[upload_id]
            mine.done.set()


def _lock(path: Path) -> int | None:
    """An exclusive lock on ``path`` (None when another holds it), on the file the path names now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)  # its holder removed it meanwhile: lock the file that replaces it


def _unlock(fd: int, path: Path) -> None:
    # Removed while still locked: whoever opened it meanwhile sees it gone and locks a new one.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(fd)


async def guarded(body: AsyncIterator[bytes], stream: Stream, *, silence: float) -> AsyncIterator[bytes]:
    """``body`` cut by ``stream.cut``, bounded by ``silence`` seconds without a byte, with an empty chunk on a pause."""
    chunks = aiter(body)
    cut = asyncio.ensure_future(stream.cut.wait())
    flushed = True
    try:
        while True:
            arriving = asyncio.ensure_future(anext(chunks))
            silent_since = time.monotonic()
            while not arriving.done():
                wait = silence - (time.monotonic() - silent_since)
                if wait <= 0:
                    break
                if not flushed:
                    wait = min(wait, FLUSH_AFTER_SECONDS)
                await asyncio.wait({arriving, cut}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                if cut.done():
                    break
                if not arriving.done() and not flushed:
                    flushed = True
                    yield b""
            if not arriving.done():
                arriving.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, LearningError):
                    await arriving
                if cut.done():
                    return  # superseded: what arrived so far is the whole of this body
                raise BodyTimeout(f"No bytes for {silence:g} seconds: resume from the offset HEAD reports.")
            try:
                chunk = arriving.result()
            except StopAsyncIteration:
                return
            flushed = False
            yield chunk
    finally:
        cut.cancel()
