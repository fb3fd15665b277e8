"""How the pages write dates, durations and feed links, in French."""

from __future__ import annotations

from learning.lib.dates import MONTHS, PARIS, date_fr, datetime_fr

__all__ = [
    "MONTHS", "PARIS", "SESSION_STATES", "clock", "date_fr", "datetime_fr", "duration_fr", "podcast_link",
    "session_state_fr", "size_fr",
]  # fmt: skip


def duration_fr(seconds: float | int | None) -> str:
    """« 25 s », « 3 min 05 s », « 1 h 02 min »; empty when unknown."""
    if not seconds or seconds <= 0:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


def clock(seconds: float | int | None) -> str:
    """A media position: « 0:12 », « 1:02:03 »."""
    total = max(0, round(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size_fr(size: int) -> str:
    """« 512 octets », « 1,5 Mo » (decimal units, French decimal comma)."""
    units = (("Go", 10**9), ("Mo", 10**6), ("ko", 10**3))
    for unit, factor in units:
        if size >= factor:
            return f"{size / factor:.1f}".replace(".", ",") + f" {unit}"
    return f"{size} octets"


def podcast_link(feed_url: str) -> str:
    """The ``podcast://`` link podcast apps register for: the feed's address without its scheme."""
    return "podcast://" + feed_url.split("://", 1)[-1]


SESSION_STATES = {
    "upcoming": "à venir",
    "live": "en direct",
    "ended": "terminée",
    "replay_available": "rediffusion disponible",
    "cancelled": "annulée",
}


def session_state_fr(status: str) -> str:
    """A webinar session's state, as the pages say it."""
    return SESSION_STATES.get(str(status), str(status))
