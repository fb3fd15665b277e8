"""Stores under test: every contract test runs once per store (``local``, ``s3`` against moto)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from learning.storage import ObjectStore
from learning.storage.local import LocalStore
from tests.helpers.s3 import MotoServer

LARGE_SIZE = 40 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    path: Path
    size: int
    sha256: str


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], ObjectStore]]:
    """Build unopened stores over one fresh root or bucket (moto starts only for the ``s3`` tests)."""
    made: list[ObjectStore] = []
    if backend == "s3":
        server: MotoServer = request.getfixturevalue("s3_server")
        bucket: str = request.getfixturevalue("s3_bucket")

    def make() -> ObjectStore:
        store: ObjectStore = LocalStore(tmp_path / "objects") if backend == "local" else server.store(bucket)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


@pytest.fixture
async def store(make_store: Callable[[], ObjectStore]) -> ObjectStore:
    store = make_store()
    await store.open()
    return store


@pytest.fixture(scope="session")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> SourceFile:
    """40 MiB of pseudo-random bytes, made once per session."""
    path = tmp_path_factory.mktemp("large") / "large.bin"
    generator = random.Random(4)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(LARGE_SIZE // (1024 * 1024)):
            block = generator.randbytes(1024 * 1024)
            digest.update(block)
            out.write(block)
    return SourceFile(path=path, size=LARGE_SIZE, sha256=digest.hexdigest())
