"""What the registrations API reads and answers."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from learning.registrations.repositories import Registered


class RegistrationRead(msgspec.Struct):
    id: uuid.UUID
    series: str
    session: str
    title: str
    scheduled_at: datetime
    registered_at: datetime
    calendar_url: str  # the session as an iCalendar event


class RegistrantRead(msgspec.Struct):
    email: str
    display_name: str | None
    registered_at: datetime
    attended_at: datetime | None


def registration_read(found: Registered, base_url: str) -> RegistrationRead:
    series, session = found.series.slug, found.session.slug
    return RegistrationRead(
        id=found.registration.id, series=series, session=session, title=found.session.title,
        scheduled_at=found.session.scheduled_at, registered_at=found.registration.created_at,
        calendar_url=f"{base_url}/api/v1/webinars/{series}/sessions/{session}.ics",
    )  # fmt: skip


def registrant_read(found: Registered) -> RegistrantRead:
    return RegistrantRead(
        email=found.email, display_name=found.name, registered_at=found.registration.created_at,
        attended_at=found.registration.attended_at,
    )  # fmt: skip
