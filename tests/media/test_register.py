"""A stored file becomes a media asset in one place, ``MediaRepository.register``: shipped files (content sync),
processed replays and their renditions (the replay job) and side files all go through it."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import func, select

from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker
from learning.media.repositories import MediaRepository, StoredFile

FILE = StoredFile(
    kind=m.MediaKind.VIDEO, name="webinaire", extension="mp4", mime_type="video/mp4", size_bytes=1234,
    storage_key="video/abc.mp4", sha256="0" * 64, duration_seconds=12.5, width=640, height=360,
)  # fmt: skip


async def test_a_registered_file_is_a_ready_asset_with_everything_the_file_says(clean_database: str) -> None:
    engine = create_engine(clean_database, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            media = MediaRepository(session)
            original = await media.register(FILE, ref="webinaire.mp4")
            audio = await media.register(
                StoredFile(kind=m.MediaKind.AUDIO, name="webinaire", extension="m4a", mime_type="audio/x-m4a",
                           size_bytes=99, storage_key="audio/abc.m4a", duration_seconds=12.4),
                rendition=m.Rendition.AUDIO, parent_id=original.id,
            )  # fmt: skip
        async with create_sessionmaker(engine)() as session:
            stored = await session.get(m.MediaAsset, original.id)
            assert stored is not None
            assert (stored.status, stored.rendition, stored.ref, stored.parent_id) == (
                m.MediaStatus.READY, m.Rendition.ORIGINAL, "webinaire.mp4", None,
            )  # fmt: skip
            assert (stored.kind, stored.name, stored.extension, stored.mime_type) == (
                m.MediaKind.VIDEO, "webinaire", "mp4", "video/mp4",
            )  # fmt: skip
            assert (stored.size_bytes, stored.storage_key, stored.sha256) == (1234, "video/abc.mp4", "0" * 64)
            assert (stored.duration_seconds, stored.width, stored.height) == (12.5, 640, 360)
            rendition = await MediaRepository(session).rendition(original.id, m.Rendition.AUDIO)
            assert rendition is not None
            assert rendition.id == audio.id
    finally:
        await engine.dispose()


async def test_registering_again_under_the_same_id_updates_the_asset_in_place(clean_database: str) -> None:
    asset_id = uuid.uuid5(uuid.NAMESPACE_URL, "upload/original")
    engine = create_engine(clean_database, pool_size=1)
    try:
        for size in (1234, 4321):  # a job run twice (after a crash) derives the same id
            async with create_sessionmaker(engine).begin() as session:
                await MediaRepository(session).register(replace(FILE, size_bytes=size), asset_id=asset_id)
        async with create_sessionmaker(engine)() as session:
            count = (await session.execute(select(func.count()).select_from(m.MediaAsset))).scalar_one()
            stored = await session.get(m.MediaAsset, asset_id)
            assert count == 1
            assert stored is not None
            assert stored.size_bytes == 4321
    finally:
        await engine.dispose()
