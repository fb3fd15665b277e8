"""Dependency providers of the uploads domain, and the service as the worker's jobs build it."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.lib.queue import JobQueue
from learning.media.repositories import MediaRepository
from learning.storage import ObjectStore
from learning.uploads.repositories import UploadRepository
from learning.uploads.services import UploadService
from learning.uploads.sidefile_services import SideFileService
from learning.uploads.writers import writer_for


def upload_service(session: AsyncSession, store: ObjectStore, *, max_size: int = 0) -> UploadService:
    """The upload service on ``session`` (``max_size`` only matters to creating uploads)."""
    return UploadService(UploadRepository(session), writer_for(store), JobQueue(session), max_size=max_size)


def provide_upload_service(db_session: NamedDependency[AsyncSession], state: State) -> UploadService:
    return upload_service(db_session, state.store, max_size=state.settings.upload_max_bytes)


def provide_side_file_service(db_session: NamedDependency[AsyncSession], state: State) -> SideFileService:
    return SideFileService(UploadRepository(db_session), MediaRepository(db_session), state.store)
