"""Episode actions become progress: an app's ``play`` actions, once kept, are the web player's segments of the
lesson they name (by episode guid, the lesson's id in our feeds, then by the media URL of the enclosure, private
feeds' included), credited as ``progress/listening.py`` allows, and the app's position becomes the resume point.
The web player's rules then apply unchanged: union of segments, coverage, completion that never regresses.
``download`` and ``delete`` actions are kept but earn nothing."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from learning.db import models as m
from learning.podsync.repositories import ListeningContext, SyncRepository
from learning.progress.events import Event, ProgressService
from learning.progress.listening import PlayAction, credited

MEDIA_PATH = re.compile(r"/media/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/")
# Earlier play actions further back than this give more time than any lesson lasts: not read.
LOOK_BACK = timedelta(days=1)
POSITION_NAMESPACE = uuid.UUID("5a0f1c8e-2b7d-5e43-8c1a-706f736974e9")  # fixed: the events' ids never change


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _media_id(url: str) -> uuid.UUID | None:
    found = MEDIA_PATH.search(url)
    return uuid.UUID(found.group(1)) if found else None


class AppListening:
    def __init__(self, sync: SyncRepository, progress: ProgressService) -> None:
        self.sync = sync
        self.progress = progress

    async def keep(
        self, user_id: uuid.UUID, app_password_id: uuid.UUID, rows: list[dict[str, Any]], now: datetime
    ) -> None:
        """Keep the actions (``rows``, sent with ``app_password_id``; each once) and turn the new ``play`` ones into
        progress, each played segment carrying its app and device (for the xAPI export). All in the session's
        transaction: the actions and their progress commit together."""
        plays = [
            (row, _uuid(row["guid"]), _media_id(row["episode"]))
            for row in rows
            if row["action"] == "play" and row["timestamp"] is not None
        ]
        known = None
        if plays:  # read before the insert, which the read would otherwise have to leave out row by row
            known = await self.sync.listening_context(
                user_id, app_password_id,
                lesson_ids={guid for _, guid, _ in plays if guid is not None},
                media_ids={media for _, _, media in plays if media is not None},
                moments={row["timestamp"] for row, _, _ in plays},
                start=min(row["timestamp"] for row, _, _ in plays) - LOOK_BACK,
                leaving_out={row["digest"] for row in rows},
            )  # fmt: skip
        inserted = await self.sync.add_actions(user_id, app_password_id, rows)
        if known is not None:
            await self._credit(user_id, [play for play in plays if play[0]["digest"] in inserted], known, now)

    async def _credit(
        self, user_id: uuid.UUID, plays: list[tuple[dict[str, Any], uuid.UUID | None, uuid.UUID | None]],
        known: ListeningContext, now: datetime,
    ) -> None:  # fmt: skip
        """Record what the new play actions (each with the lesson id and media id it names) earn."""
        if not plays:
            return
        first = min(row["timestamp"] for row, _, _ in plays)
        by_lesson = {lesson_id: (lesson_id, duration) for lesson_id, _, duration in known.lessons}
        by_media = {media_id: (lesson_id, duration) for lesson_id, media_id, duration in known.lessons if media_id}
        # An action's key: its digest within the account (two learners' identical actions are two events).
        named: dict[str, tuple[uuid.UUID, int]] = {}
        devices: dict[str, str] = {}
        actions: list[PlayAction] = []
        for row, guid, media in plays:
            lesson = (by_lesson.get(guid) if guid else None) or (by_media.get(media) if media else None)
            if lesson is not None:
                key = f"{user_id}:{row['digest']}"
                named[key], devices[key] = lesson, row["device"]
                actions.append(PlayAction(key, row["timestamp"], row["started"], row["position"]))
        if not actions:
            return
        floor = max(known.account_created, first - LOOK_BACK)
        events: list[Event] = []
        for credit in credited(actions, account_created=floor, earlier=known.moments, now=now):
            lesson_id, duration = named[credit.action.digest]
            end = min(credit.end, float(duration)) if duration else credit.end
            if end > credit.start:
                source = (known.app, devices[credit.action.digest])
                events.append(Event(credit.event_id, m.EventKind.PLAYED, lesson_id, credit.action.timestamp,
                                    start=credit.start, end=end, source=source))  # fmt: skip
        # Where the app got to: the web player resumes there. Only the latest position counts (the ingest keeps
        # the latest by time), so one position event per lesson: the upload's latest action of that lesson.
        latest: dict[uuid.UUID, PlayAction] = {}
        for action in sorted(actions, key=lambda found: (found.timestamp, found.digest)):
            if action.position is not None and action.position >= 0:
                latest[named[action.digest][0]] = action
        for lesson_id, action in latest.items():
            duration = named[action.digest][1]
            position = float(action.position or 0)
            position = min(position, float(duration)) if duration else position
            event_id = uuid.uuid5(POSITION_NAMESPACE, action.digest)
            events.append(Event(event_id, m.EventKind.POSITION, lesson_id, action.timestamp, position=position))
        await self.progress.record(user_id, events, in_session=True)
