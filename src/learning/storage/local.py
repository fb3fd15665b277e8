"""Objects as files under a root folder; writes go through a temporary file and a rename."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio

from learning.storage.protocol import ObjectInfo, ObjectNotFound, StorageUnavailable

CHUNK_SIZE = 256 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,299}$")


class LocalStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        """The file behind ``key``; keys are ours, but a bad one must never escape the root."""
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid object key {key!r}")
        return self.root / key

    async def open(self) -> None:
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        if not await anyio.Path(self.root).is_dir():
            raise StorageUnavailable(f"storage root {self.root} is missing")

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        target = self.path_for(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out, path.open("rb") as source:
                    shutil.copyfileobj(source, out, CHUNK_SIZE)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

        await anyio.to_thread.run_sync(copy)
        return await self.stat(key)

    async def stat(self, key: str) -> ObjectInfo:
        try:
            status = await anyio.Path(self.path_for(key)).stat()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return ObjectInfo(key=key, size=status.st_size, last_modified=datetime.fromtimestamp(status.st_mtime, UTC))

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        try:
            handle = await anyio.open_file(self.path_for(key), "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        async with handle:
            await handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = await handle.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self.path_for(key)).unlink(missing_ok=True)
