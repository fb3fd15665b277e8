"""Dependency providers of the registrations domain."""

from __future__ import annotations

from datetime import timedelta

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.config import Settings
from learning.lib.queue import JobQueue
from learning.mail.repositories import MailRepository
from learning.mail.services import MailService
from learning.registrations.repositories import RegistrationRepository
from learning.registrations.services import RegistrationService, ReminderPolicy


def reminder_policy(settings: Settings) -> ReminderPolicy:
    return ReminderPolicy(
        first=timedelta(hours=settings.reminder_first_hours), second=timedelta(minutes=settings.reminder_second_minutes)
    )


def registration_service(session: AsyncSession, settings: Settings) -> RegistrationService:
    """The service on ``session`` (its messages are queued in that session's transaction)."""
    mail = MailService(MailRepository(session), JobQueue(session), settings.mail_from)
    return RegistrationService(
        RegistrationRepository(session), mail, settings.base_url, settings.signing_key(), reminder_policy(settings)
    )


def provide_registration_service(db_session: NamedDependency[AsyncSession], state: State) -> RegistrationService:
    return registration_service(db_session, state.settings)
