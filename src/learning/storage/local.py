"""Objects as files under a root folder; every write goes through a temporary file and a rename.

Multipart uploads are staged under ``<root>/.multipart/<upload id>/`` (one file per part) and concatenated on
completion. Keys cannot name that folder or the ``.tmp-*`` files: every key segment starts with a letter or digit.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import stat as stat_module
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import anyio

from learning.storage.protocol import (
    MIN_PART_SIZE,
    InvalidParts,
    ObjectInfo,
    ObjectNotFound,
    RangeNotSatisfiable,
    StorageUnavailable,
    UnsupportedOperation,
    UploadNotFound,
    check_key,
    check_part_number,
    check_parts,
    check_range,
)

CHUNK_SIZE = 256 * 1024
SINGLE_READ_LIMIT = 2 * 1024 * 1024
OPEN_FILES = 128  # descriptors kept for small cached reads
SMALL_READ = 64 * 1024  # players' probes (bytes=0-1) and index reads: served without a thread trip when cached
_STAGING = ".multipart"
_APPENDS = ".appends"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_OWNER = "key"  # in a staging folder: the key the upload belongs to


class LocalStore:
    name = "local"
    supports_presigned_urls = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open_files: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def path_for(self, key: str) -> Path:
        """The file behind ``key``; keys are ours, but a bad one must never escape the root."""
        return self.root / check_key(key)

    async def open(self) -> None:
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        while self._open_files:
            os.close(self._open_files.popitem()[1][0])

    async def ping(self) -> None:
        if not await anyio.Path(self.root).is_dir():
            raise StorageUnavailable(f"storage root {self.root} is missing")

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        target = self.path_for(key)

        def copy() -> None:
            with path.open("rb") as source:
                _write_atomically(target, lambda out: shutil.copyfileobj(source, out, CHUNK_SIZE))

        await anyio.to_thread.run_sync(copy)
        return await self.stat(key)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        target = self.path_for(key)
        await anyio.to_thread.run_sync(lambda: _write_atomically(target, lambda out: out.write(data)))
        return await self.stat(key)

    async def list_parts(self, key: str, upload_id: str) -> list[tuple[int, str, int]]:
        check_key(key)

        def listing() -> list[tuple[int, str, int]]:
            staging = self._upload(key, upload_id)
            parts = []
            for path in staging.iterdir():
                if path.name.isdigit():
                    data = path.read_bytes()
                    parts.append((int(path.name), hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data)))
            return sorted(parts)

        return await anyio.to_thread.run_sync(listing)

    def read_cached(self, key: str, start: int, end: int) -> bytes | None:
        """A small range (< SMALL_READ bytes) if it is in the page cache, read right here (no thread);
        None when reading it could block (then use ``read``).

        Objects never change once written (a new file is a new key), so open descriptors are kept for
        the most recently read keys: a probe costs one ``preadv``.
        """
        flags = getattr(os, "RWF_NOWAIT", None)
        if end - start >= SMALL_READ or flags is None:
            return None
        opened = self._open_files.get(key)
        if opened is None:
            opened = self._open_file(key)
        else:
            self._open_files.move_to_end(key)
        fd, size = opened
        if start >= size:
            raise RangeNotSatisfiable(f"{key}: range starts at {start}, size is {size}")
        buffer = bytearray(min(end, size - 1) - start + 1)
        try:
            read = os.preadv(fd, [buffer], start, flags)
        except OSError:  # EAGAIN: not in memory (or the file system cannot tell): use a thread
            return None
        return bytes(buffer) if read == len(buffer) else None

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` (inclusive, at most ``SINGLE_READ_LIMIT``) in one read on a worker thread:
        the range a seeking player asks for, answered by the edge. Shorter if the object is.

        The thread opens its own descriptor (a kept one could be closed by the LRU while it reads), and the
        trip is ``run_in_executor`` rather than ``anyio.to_thread``: at a thousand 1 MiB ranges a second,
        anyio's task and cancel-scope bookkeeping was a tenth of the event loop's time.
        """
        check_range(start, end)
        if end - start >= SINGLE_READ_LIMIT:
            raise ValueError(f"read_range reads at most {SINGLE_READ_LIMIT} bytes; use read()")
        path = self.path_for(key)
        return await asyncio.get_running_loop().run_in_executor(None, _read_once, path, key, start, end - start + 1)

    def _open_file(self, key: str) -> tuple[int, int]:
        try:
            fd = os.open(self.path_for(key), os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        opened = (fd, os.fstat(fd).st_size)
        self._open_files[key] = opened
        if len(self._open_files) > OPEN_FILES:
            old_fd, _ = self._open_files.popitem(last=False)[1]
            os.close(old_fd)
        return opened

    def _forget(self, key: str) -> None:
        opened = self._open_files.pop(key, None)
        if opened is not None:
            os.close(opened[0])

    def staging_file(self, name: str) -> Path:
        """A file outside every key, for data being appended (resumable uploads); ``name`` is ours."""
        return self.root / _APPENDS / check_key(name)

    async def free_bytes(self) -> int:
        """Bytes free on the file system holding the store (for unprivileged writers)."""
        root = self.root

        def measure() -> int:
            root.mkdir(parents=True, exist_ok=True)
            return shutil.disk_usage(root).free

        return await anyio.to_thread.run_sync(measure)

    async def commit_staged(self, staged: Path, key: str) -> ObjectInfo:
        """Move a finished staging file to ``key`` (one rename: readers never see part of it)."""
        target = self.path_for(key)

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)

        await anyio.to_thread.run_sync(move)
        return await self.stat(key)

    async def stat(self, key: str) -> ObjectInfo:
        try:
            status = await anyio.Path(self.path_for(key)).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat_module.S_ISREG(status.st_mode):  # a folder is a key prefix, not an object
            raise ObjectNotFound(key)
        return ObjectInfo(
            key=key,
            size=status.st_size,
            last_modified=datetime.fromtimestamp(status.st_mtime, UTC),
            etag=f"{status.st_mtime_ns:x}-{status.st_size:x}",
        )

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_range(start, end)
        path = self.path_for(key)
        # One worker-thread trip opens the file and reads the first chunk; then one trip per chunk. A
        # bounded range up to SINGLE_READ_LIMIT is read at once (seeking players ask for such ranges);
        # long streams go in CHUNK_SIZE pieces so memory stays flat whatever the file size.
        first, fd, position, last = await anyio.to_thread.run_sync(_open_and_read, path, key, start, end)
        try:
            if first:
                yield first
            chunk = CHUNK_SIZE
            while position <= last:
                data = await anyio.to_thread.run_sync(os.pread, fd, min(chunk, last - position + 1), position)
                if not data:  # cannot happen with atomic writes; do not loop forever if it does
                    return
                position += len(data)
                yield data
        finally:
            os.close(fd)

    async def delete(self, key: str) -> None:
        self._forget(key)
        try:
            await anyio.Path(self.path_for(key)).unlink(missing_ok=True)
        except (NotADirectoryError, IsADirectoryError):
            return  # no object there: a prefix, or a path through an object

    def presigned_get(
        self, key: str, *, expires_seconds: int, filename: str | None = None, content_type: str | None = None
    ) -> str:
        raise UnsupportedOperation("LocalStore cannot presign URLs: the app streams its objects")

    # --- multipart uploads ------------------------------------------------------------------------

    async def begin_multipart(self, key: str, content_type: str) -> str:
        check_key(key)
        upload_id = uuid.uuid4().hex
        staging = self._staging(upload_id)

        def create() -> None:
            staging.mkdir(parents=True)
            (staging / _OWNER).write_text(key, encoding="utf-8")

        await anyio.to_thread.run_sync(create)
        return upload_id

    async def put_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        check_key(key)
        check_part_number(part_number)

        def write() -> str:
            staging = self._upload(key, upload_id)
            try:
                # no make_parents: an upload aborted meanwhile must not come back to life
                _write_atomically(staging / _part_name(part_number), lambda out: out.write(data), make_parents=False)
            except FileNotFoundError:
                raise UploadNotFound(upload_id) from None
            return hashlib.md5(data, usedforsecurity=False).hexdigest()

        return await anyio.to_thread.run_sync(write)

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> ObjectInfo:
        target = self.path_for(key)
        check_parts(parts)

        def assemble() -> None:
            staging = self._upload(key, upload_id)
            files: list[tuple[int, str, Path]] = []
            for index, (number, etag) in enumerate(parts):
                part = staging / _part_name(number)
                try:
                    size = part.stat().st_size
                except FileNotFoundError:
                    raise InvalidParts(f"part {number} was not uploaded") from None
                if size < MIN_PART_SIZE and index < len(parts) - 1:
                    raise InvalidParts(f"part {number} has {size} bytes; all but the last need {MIN_PART_SIZE}")
                files.append((number, etag.strip('"'), part))

            def concatenate(out: BinaryIO) -> None:
                for number, etag, part in files:
                    digest = hashlib.md5(usedforsecurity=False)
                    with part.open("rb") as source:
                        while block := source.read(CHUNK_SIZE):
                            digest.update(block)
                            out.write(block)
                    if digest.hexdigest() != etag:
                        raise InvalidParts(f"part {number}: the ETag does not match")

            _write_atomically(target, concatenate)
            shutil.rmtree(staging, ignore_errors=True)

        await anyio.to_thread.run_sync(assemble)
        return await self.stat(key)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        check_key(key)

        def remove() -> None:
            try:
                staging = self._upload(key, upload_id)
            except UploadNotFound:
                return
            shutil.rmtree(staging, ignore_errors=True)

        await anyio.to_thread.run_sync(remove)

    def _staging(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):  # ids are ours; anything else names no upload
            raise UploadNotFound(upload_id)
        return self.root / _STAGING / upload_id

    def _upload(self, key: str, upload_id: str) -> Path:
        """The staging folder of an upload begun for ``key`` (blocking: call it in a worker thread)."""
        staging = self._staging(upload_id)
        try:
            owner = (staging / _OWNER).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        if owner != key:
            raise UploadNotFound(upload_id)
        return staging


def _part_name(part_number: int) -> str:
    return f"{part_number:05d}.part"


def _write_atomically(target: Path, write: Callable[[BinaryIO], object], *, make_parents: bool = True) -> None:
    """Write ``target`` through a temporary file in its folder, then rename: readers never see half a file."""
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # make the rename itself durable
    finally:
        os.close(folder)


def _read_once(path: Path, key: str, start: int, length: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise ObjectNotFound(key) from None
    try:
        return os.pread(fd, length, start)
    finally:
        os.close(fd)


def _open_and_read(path: Path, key: str, start: int, end: int | None) -> tuple[bytes, int, int, int]:
    """Open, check the range and read its first piece: (data, fd, next position, last byte)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise ObjectNotFound(key) from None
    try:
        size = os.fstat(fd).st_size
        if (start or end is not None) and start >= size:
            raise RangeNotSatisfiable(f"{key}: range starts at {start}, size is {size}")
        last = size - 1 if end is None else min(end, size - 1)
        length = last - start + 1
        first = os.pread(fd, length if length <= SINGLE_READ_LIMIT else CHUNK_SIZE, start) if length > 0 else b""
        return first, fd, start + len(first), last
    except BaseException:
        os.close(fd)
        raise
