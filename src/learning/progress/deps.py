"""Dependency providers of the progress domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.progress.events import EventLimits, ProgressService
from learning.progress.repositories import EnrollmentRepository, ProgressRepository
from learning.progress.services import EnrollmentService


def provide_enrollment_service(db_session: NamedDependency[AsyncSession]) -> EnrollmentService:
    return EnrollmentService(EnrollmentRepository(db_session))


def provide_progress_service(db_session: NamedDependency[AsyncSession], state: State) -> ProgressService:
    settings = state.settings
    limits = EventLimits(settings.progress_events_per_minute, settings.progress_events_per_lesson_per_day)
    return ProgressService(ProgressRepository(db_session, state.engine), limits)
