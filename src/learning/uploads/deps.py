"""Dependency providers of the uploads domain, and the service as the worker's jobs build it."""

from __future__ import annotations

import math

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.config import Settings
from learning.media.repositories import MediaRepository
from learning.storage import ObjectStore
from learning.uploads.repositories import UploadRepository
from learning.uploads.services import UploadLimits, UploadService
from learning.uploads.sidefile_services import SideFileService
from learning.uploads.streams import StreamRegistry
from learning.uploads.transfers import UploadTransfers


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        max_size=settings.upload_max_bytes,
        quota=settings.upload_quota_bytes,
        free_space_reserve=settings.upload_free_space_reserve_bytes,
    )


def upload_service(session: AsyncSession, store: ObjectStore, limits: UploadLimits | None = None) -> UploadService:
    """The upload service on ``session`` (``limits`` only matter to creating uploads)."""
    return UploadService.on(session, store, limits)


def provide_upload_service(db_session: NamedDependency[AsyncSession], state: State) -> UploadService:
    return upload_service(db_session, state.store, upload_limits(state.settings))


def provide_upload_transfers(state: State) -> UploadTransfers:
    """Bodies streamed with no connection held: the service opens its own short transactions."""
    settings: Settings = state.settings
    streams = state.get("upload_streams")
    if streams is None:  # one registry per app (it knows this process's streams), made on first use
        retry_after = math.ceil(settings.upload_body_timeout_seconds)
        streams = state["upload_streams"] = StreamRegistry(settings.data_dir / "upload-locks", retry_after=retry_after)
    return UploadTransfers(
        state.sessionmaker,
        state.store,
        streams,
        upload_limits(settings),
        body_timeout=settings.upload_body_timeout_seconds,
    )


def provide_side_file_service(db_session: NamedDependency[AsyncSession], state: State) -> SideFileService:
    return SideFileService(UploadRepository(db_session), MediaRepository(db_session), state.store)
