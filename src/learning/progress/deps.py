"""Dependency providers of the progress domain."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.repositories import UserRepository
from learning.config import Settings
from learning.progress.events import EventLimits, ProgressService, minute_quota_refusal
from learning.progress.repositories import EnrollmentRepository, ProgressRepository
from learning.progress.services import EnrollmentService


def provide_enrollment_service(db_session: NamedDependency[AsyncSession], state: State) -> EnrollmentService:
    verified_by = UserRepository(db_session) if state.settings.require_verified_email else None
    return EnrollmentService(EnrollmentRepository(db_session), verified_by=verified_by)


def _limits(settings: Settings) -> EventLimits:
    return EventLimits(settings.progress_events_per_minute, settings.progress_events_per_lesson_per_day)


def provide_progress_service(db_session: NamedDependency[AsyncSession], state: State) -> ProgressService:
    return ProgressService(
        ProgressRepository(db_session, state.engine),
        _limits(state.settings),
        state.refusals,
        state.xapi_checkpoints,
        state.xapi_pacing,
    )


def requires_minute_quota_left(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """429 before the body is read for a learner whose minute of events is used up (see ``events``)."""
    state = connection.app.state
    refusal = minute_quota_refusal(state.refusals, _limits(state.settings), connection.user.id)
    if refusal is not None:
        raise refusal
