"""Dates as French readers write them, in Europe/Paris (the pages, the e-mails)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def date_fr(moment: datetime | date) -> str:
    """« 24 janvier 2019 » (a datetime is read in Europe/Paris)."""
    day = moment.astimezone(PARIS).date() if isinstance(moment, datetime) else moment
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def datetime_fr(moment: datetime) -> str:
    """« 24 janvier 2019 à 11 h 00 » in Europe/Paris."""
    local = moment.astimezone(PARIS)
    return f"{date_fr(local)} à {local.hour} h {local.minute:02d}"
