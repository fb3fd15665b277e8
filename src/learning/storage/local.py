"""Objects as files under a root folder."""

from __future__ import annotations

from pathlib import Path

import anyio

from learning.storage.protocol import StorageUnavailable


class LocalStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def open(self) -> None:
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        root = anyio.Path(self.root)
        if not await root.is_dir():
            raise StorageUnavailable(f"storage root {self.root} is missing")
