"""Dependency providers of the media domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.media.delivery import MediaDelivery
from learning.media.downloads import DownloadRecorder, DownloadRepository, DownloadStatsService
from learning.media.repositories import MediaRepository
from learning.media.services import MediaService


def provide_media_delivery(state: State) -> MediaDelivery:
    return MediaDelivery(state.sessionmaker, state.edge.answers)


def provide_download_stats(db_session: NamedDependency[AsyncSession]) -> DownloadStatsService:
    return DownloadStatsService(DownloadRepository(db_session))


def provide_download_recorder(state: State) -> DownloadRecorder:
    recorder: DownloadRecorder = state.downloads
    return recorder


def provide_media_service(db_session: NamedDependency[AsyncSession], state: State) -> MediaService:
    return MediaService(MediaRepository(db_session), state.store)
