"""Listening reported by a podcast app (gPodder episode actions) as the web player's ``played`` segments.

A ``play`` action says: the app played the episode from ``started`` to ``position`` (seconds), ending at
``timestamp``. Nothing proves it, so it earns at most what the clock allows: the wall-clock time since the
learner's previous play action (any episode, any app, by its timestamp; one at the same instant counts) — or,
for the first, since the account was made — times ``MAX_SPEED`` (apps play up to three times faster). A segment
longer than that keeps its end (where the learner got to) and loses its start. An action from the future,
without ``started``, or going backwards earns nothing, and a bare « position = total » with no time behind it
completes nothing. The segments then go through the web player's rules unchanged (union, coverage, completion),
as events whose ids are derived from the action, so an action sent twice counts once.
"""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_SPEED = 3.0  # the fastest playback apps offer, as a multiple of real time
CLOCK_SKEW = timedelta(minutes=5)  # an app's clock ahead of ours by this much is still believed
NAMESPACE = uuid.UUID("0b7f5c52-6a52-5d1c-9f0e-6c697374656e")  # fixed: the events' ids must never change


@dataclass(frozen=True, slots=True)
class PlayAction:
    digest: str  # what identifies the action as the app sent it (the same action twice: the same digest)
    timestamp: datetime
    started: int | None
    position: int | None


@dataclass(frozen=True, slots=True)
class Credit:
    action: PlayAction
    start: float
    end: float

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, self.action.digest)


def credited(
    actions: list[PlayAction], *, account_created: datetime, earlier: list[datetime], now: datetime
) -> list[Credit]:
    """The segments ``actions`` (one learner's new play actions, any order) earn, in time order.

    ``earlier``: the moments of the learner's play actions already kept. Each action's clock budget runs from
    the latest play action before it — already kept, or among these — or from the account's creation: a device
    syncing old listening late still gets the time it had."""
    moments = sorted(earlier)
    credits: list[Credit] = []
    for action in sorted(actions, key=lambda found: (found.timestamp, found.digest)):
        if action.timestamp > now + CLOCK_SKEW:
            continue  # from the future: believed never, and it bounds nothing
        before = bisect.bisect_right(moments, action.timestamp)
        previous = max(account_created, moments[before - 1]) if before else account_created
        bisect.insort(moments, action.timestamp)
        if action.started is None or action.position is None or action.started < 0:
            continue
        allowed = max(0.0, (action.timestamp - previous).total_seconds()) * MAX_SPEED
        end = float(action.position)
        start = max(float(action.started), end - allowed)
        if end > start:
            credits.append(Credit(action, start, end))
    return credits
