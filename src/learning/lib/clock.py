"""The current time, in one place so that every part of the app agrees on UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


# Dates the service accepts from clients: far enough for any real course, webinar or player clock, and
# far from the calendar's ends, where PostgreSQL stores ±infinity and date arithmetic overflows.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def plausible(moment: datetime) -> bool:
    """Between 1900 and 2200 (a naive value is read as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return EARLIEST <= aware < LATEST
