"""Webinar sessions as an iCalendar document (RFC 5545, built with ``icalendar``): one VEVENT per session, its
UID the session's stable id, its SEQUENCE raised on every change of time, room or state, cancelled
sessions kept with STATUS:CANCELLED (so calendars remove them), times in the series' zone with its VTIMEZONE.
Nothing in it depends on the moment it is built: the same rows give the same bytes (and ETag)."""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import icalendar

from learning.db import models as m

PRODID = "-//learning//Les alliances qui changent les territoires//FR"
# Europe/Paris as calendar servers write it: the EU rule (last Sunday of March and of October) as RRULEs. icalendar
# would list every change as RDATEs from 1970, which vobject (and some calendar apps) read wrong in summer.
_RULES = {
    "Europe/Paris": """BEGIN:VTIMEZONE
TZID:Europe/Paris
X-LIC-LOCATION:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
""",
}
CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What a calendar says of one session."""

    uid: str  # the session's stable id
    slug: str
    title: str
    summary: str
    start: datetime
    duration_minutes: int
    cancelled: bool
    cancel_reason: str
    join_url: str | None
    sequence: int
    created: datetime
    updated: datetime
    page: str  # the session's page on this site


class SessionLike(Protocol):
    """A webinar session as a row or a model: what its event is made of (read only)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def slug(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def scheduled_at(self) -> datetime: ...

    @property
    def duration_minutes(self) -> int: ...

    @property
    def status(self) -> m.SessionStatus: ...

    @property
    def cancel_reason(self) -> str: ...

    @property
    def join_url(self) -> str | None: ...

    @property
    def sequence(self) -> int: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...


def session_event(session: SessionLike, page: str) -> CalendarEvent:
    """The event of a session whose page is ``page``."""
    return CalendarEvent(
        uid=str(session.id), slug=session.slug, title=session.title, summary=session.summary,
        start=session.scheduled_at, duration_minutes=session.duration_minutes,
        cancelled=session.status is m.SessionStatus.CANCELLED, cancel_reason=session.cancel_reason,
        join_url=session.join_url, sequence=session.sequence, created=session.created_at,
        updated=session.updated_at, page=page,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CalendarView:
    body: bytes
    updated: datetime | None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def _event(found: CalendarEvent, zone: zoneinfo.ZoneInfo) -> icalendar.Event:
    start = found.start.astimezone(zone)
    event = icalendar.Event()
    event.add("uid", found.uid)
    event.add("dtstamp", found.updated)
    event.add("last-modified", found.updated)
    event.add("created", found.created)
    event.add("sequence", found.sequence)
    event.add("summary", found.title)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=found.duration_minutes))
    event.add("url", found.page)
    event.add("status", "CANCELLED" if found.cancelled else "CONFIRMED")
    event.add("location", found.join_url or "En ligne")
    lines = [found.summary] if found.summary else []
    if found.cancelled:
        lines.append("Séance annulée" + (f" : {found.cancel_reason}" if found.cancel_reason else "."))
    elif found.join_url:
        lines.append(f"Pour rejoindre la séance : {found.join_url}")
    lines.append(f"Programme et rediffusion : {found.page}")
    event.add("description", "\n\n".join(lines))
    return event


def render_calendar(name: str, timezone: str, events: list[CalendarEvent]) -> CalendarView:
    zone = zoneinfo.ZoneInfo(timezone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    if timezone in _RULES:
        calendar.add_component(icalendar.Timezone.from_ical(_RULES[timezone].replace("\n", "\r\n")))
    for found in sorted(events, key=lambda event: (event.start, event.slug)):
        calendar.add_component(_event(found, zone))
    calendar.add_missing_timezones()  # any other zone: icalendar's own VTIMEZONE
    updated = max((event.updated for event in events), default=None)
    return CalendarView(body=calendar.to_ical(), updated=updated)
