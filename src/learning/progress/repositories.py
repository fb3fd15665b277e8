"""Queries on enrollments and on learners' progress (and the sessions they came to, for the xAPI export)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, text, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import load_only

from learning.db import models as m
from learning.db.session import driver_connection, session_driver
from learning.db.sql import numbered
from learning.db.types import segments_of


class EnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID, module_id: uuid.UUID, *, lock: bool = False) -> m.Enrollment | None:
        query = select(m.Enrollment).where(m.Enrollment.user_id == user_id, m.Enrollment.module_id == module_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def active_with_modules(self, user_id: uuid.UUID) -> list[tuple[m.Enrollment, m.Module]]:
        rows = await self.session.execute(
            select(m.Enrollment, m.Module)
            .join(m.Module, m.Module.id == m.Enrollment.module_id)
            .where(m.Enrollment.user_id == user_id, m.Enrollment.status == m.EnrollmentStatus.ACTIVE)
            .order_by(m.Module.position, m.Module.slug)
        )
        return [(row[0], row[1]) for row in rows.all()]

    async def visible_module(self, slug: str) -> m.Module | None:
        query = select(m.Module).where(m.Module.slug == slug, m.Module.visible())
        return (await self.session.execute(query)).scalar_one_or_none()

    async def module(self, slug: str) -> m.Module | None:
        return (await self.session.execute(select(m.Module).where(m.Module.slug == slug))).scalar_one_or_none()

    async def add(self, enrollment: m.Enrollment) -> m.Enrollment:
        self.session.add(enrollment)
        await self.session.flush()
        return enrollment

    async def flush(self) -> None:
        await self.session.flush()


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """What applying events to a lesson needs, and whether the learner is enrolled in its module."""

    id: uuid.UUID
    module_id: uuid.UUID
    duration_seconds: int | None
    completion_rule: m.CompletionRule
    completion_threshold: float
    enrolled: bool


@dataclass(frozen=True, slots=True)
class ProgressState:
    """A learner's merged progress on a lesson, as the event ingestion leaves it."""

    lesson_id: uuid.UUID
    segments: list[list[float]]
    watched_seconds: float
    position_seconds: float | None
    completed: bool


@dataclass(slots=True)
class Verdict:
    """What the ingestion statement decided about a batch: nothing is stored unless it is valid, enrolled and
    reuses no id."""

    valid: bool = False  # every lesson exists and every event fits its lesson (duration, completion rule)
    enrolled: bool = False  # every lesson is in a module the learner is actively enrolled in
    reused_id: uuid.UUID | None = None  # an event id already stored with other content
    applied: int = 0  # events stored and merged by this batch
    replayed: int = 0  # events already stored with the same content: skipped
    over_minute: bool = False  # storing the batch's new events would pass the learner's quota for this minute
    over_day: bool = False  # … or one lesson's quota for this day
    minute_full: bool = False  # the learner's quota for this minute is used up: no new event fits until it ends


def _platform(app: str | None, device: str | None) -> str | None:
    """A podcast app as an xAPI ``platform``: its name, and the device it named (« AntennaPod (telephone) »)."""
    if app is None:
        return None
    return f"{app} ({device})" if device else app


@dataclass(frozen=True, slots=True)
class PlayedEvent:
    """A played segment as the xAPI export reads it."""

    id: uuid.UUID
    lesson_id: uuid.UUID
    client_time: datetime
    start_seconds: float | None
    end_seconds: float | None
    platform: str | None = None  # the podcast app (and its device) that reported it; None: the web player


@dataclass(frozen=True, slots=True)
class Attendance:
    """A webinar session the learner came to, as the xAPI export reads it."""

    session_id: uuid.UUID
    series_slug: str
    session_slug: str
    title: str
    attended_at: datetime


@dataclass(frozen=True, slots=True)
class QuizTaken:
    """An attempt at a module's quiz, with the quiz as it is, as the xAPI export reads it."""

    attempt: m.QuizAttempt
    module_slug: str
    quiz_title: str
    questions: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class QuotaWindows:
    """The quota windows a batch counts in, and their limits (events stored)."""

    minute: datetime  # the start of the current minute
    day: date  # the current UTC day
    per_minute: int  # per learner
    per_day: int  # per learner and lesson


@dataclass(slots=True)
class Ingested:
    verdict: Verdict = field(default_factory=Verdict)
    lessons: dict[uuid.UUID, LessonFacts] = field(default_factory=dict)
    progress: list[ProgressState] = field(default_factory=list)  # the rows this batch changed, by lesson id


# Event ingestion is the hottest write path: one statement per batch, sent by asyncpg itself on a pooled
# connection in autocommit, so a batch costs one round trip and is atomic without BEGIN/COMMIT. In order:
#   e         the batch (arrays bound as parameters; n keeps the client's order);
#   facts     its lessons, and whether the learner is actively enrolled in each one's module;
#   checked   each event against its lesson (the rules ``events._fact_problem`` words for the client; the
#             rules that need no lesson were checked before) and against an event already stored with its id;
#   verdict   valid / enrolled / the first id reused with other content / how many replays;
#   quota     whether the batch's new events would pass the learner's quota for this minute (the counters of
#             the learner's progress rows for this minute, summed) or a lesson's quota for this day;
#   inserted  the event log, only when the verdict accepts the batch and the quotas allow it; replays skipped;
#   batch     the inserted events per lesson: their segments (clipped to the duration) as one multirange,
#             the position with the latest client time, a mark-done, the seconds that complete the lesson,
#             how many events;
#   saved     the learner's progress rows, upserted in lesson order (concurrent batches never deadlock):
#             the segments are unioned with the stored ones under the row lock of ON CONFLICT DO UPDATE, the
#             position only moves to a later client time, completion never goes back, the quota counters
#             add the batch's events (or restart in a new window).
# The quotas are read on the statement's snapshot: concurrent batches of one learner may pass a limit by what
# they store together (at most their own events), which a quota far above a real player tolerates.
# If a concurrent request stored one of the batch's ids after this statement's snapshot, ON CONFLICT skips it
# without telling whether its content is the same: ``retry_unless`` then aborts the whole statement (SQLSTATE
# 40001) and the repository runs it again, on a snapshot that sees that event.
# Column lists follow ``m.ProgressEvent`` and ``m.LessonProgress``; segments are ``seconds_multirange``.
_APPLY, _APPLY_PARAMETERS = numbered(
    "WITH e AS ("
    " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:lesson_ids AS uuid[]), CAST(:kinds AS progress_event_kind[]),"
    " CAST(:client_times AS timestamptz[]), CAST(:starts AS float8[]), CAST(:ends AS float8[]),"
    " CAST(:positions AS float8[]), CAST(:source_apps AS text[]), CAST(:source_devices AS text[])) WITH ORDINALITY"
    " AS e(id, lesson_id, kind, client_time, start_seconds, end_seconds, position_seconds, source_app,"
    " source_device, n)"
    "), facts AS ("
    " SELECT l.id, l.module_id, l.duration_seconds, l.completion_rule, l.completion_threshold,"
    " EXISTS (SELECT 1 FROM enrollment en WHERE en.user_id = :user_id AND en.module_id = l.module_id"
    " AND en.status = 'active') AS enrolled"
    " FROM lesson l WHERE l.id IN (SELECT lesson_id FROM e)"
    "), checked AS ("
    " SELECT e.*, f.duration_seconds AS duration, f.completion_rule, f.completion_threshold, f.enrolled,"
    " f.id IS NOT NULL AND CASE e.kind"
    " WHEN 'played' THEN coalesce(f.duration_seconds, 0) = 0 OR e.end_seconds <= f.duration_seconds + :tolerance"
    " WHEN 'position' THEN coalesce(f.duration_seconds, 0) = 0"
    " OR e.position_seconds <= f.duration_seconds + :tolerance"
    " ELSE f.completion_rule = 'mark_done' END AS valid,"
    # A correlated lookup, not a join: an index scan whatever the statistics say (a generic plan made while
    # progress_event was small would otherwise keep scanning the whole table as it grows).
    " (SELECT p.user_id = :user_id AND p.lesson_id = e.lesson_id AND p.kind = e.kind AND p.client_time = e.client_time"
    " AND p.start_seconds IS NOT DISTINCT FROM e.start_seconds AND p.end_seconds IS NOT DISTINCT FROM e.end_seconds"
    " AND p.position_seconds IS NOT DISTINCT FROM e.position_seconds FROM progress_event p WHERE p.id = e.id)"
    " AS same"  # NULL: not stored yet; true: stored with the same content (a replay); false: id reused
    " FROM e LEFT JOIN facts f ON f.id = e.lesson_id"
    "), verdict AS ("
    " SELECT bool_and(valid) AS valid, bool_and(coalesce(enrolled, true)) AS enrolled,"
    " (array_agg(id ORDER BY n) FILTER (WHERE NOT same))[1] AS reused_id,"
    " count(*) FILTER (WHERE same) AS replayed, count(*) AS events"
    " FROM checked"
    "), quota AS ("
    " SELECT count(*) FILTER (WHERE same IS NULL) > 0 AND count(*) FILTER (WHERE same IS NULL)"
    " + (SELECT coalesce(sum(p.minute_events), 0) FROM lesson_progress p"
    " WHERE p.user_id = :user_id AND p.quota_minute = :minute) > :per_minute AS over_minute,"
    " (SELECT coalesce(sum(p.minute_events), 0) FROM lesson_progress p"
    " WHERE p.user_id = :user_id AND p.quota_minute = :minute) >= :per_minute AS minute_full,"
    " EXISTS (SELECT FROM checked c LEFT JOIN lesson_progress p ON p.user_id = :user_id"
    " AND p.lesson_id = c.lesson_id AND p.quota_day = :day WHERE c.same IS NULL GROUP BY c.lesson_id"
    " HAVING count(*) + coalesce(max(p.day_events), 0) > :per_day) AS over_day"
    " FROM checked"
    "), inserted AS ("
    " INSERT INTO progress_event (id, user_id, lesson_id, kind, client_time, start_seconds, end_seconds,"
    " position_seconds, source_app, source_device)"
    " SELECT id, :user_id, lesson_id, kind, client_time, start_seconds, end_seconds, position_seconds, source_app,"
    " source_device FROM checked"
    " WHERE same IS NULL AND (SELECT valid AND enrolled AND reused_id IS NULL FROM verdict)"
    " AND (SELECT NOT (over_minute OR over_day) FROM quota) ORDER BY n"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
    "), batch AS ("
    " SELECT c.lesson_id,"
    " coalesce(range_agg(seconds_range(least(c.start_seconds, nullif(c.duration, 0)),"
    " least(c.end_seconds, nullif(c.duration, 0)))) FILTER (WHERE c.kind = 'played'), '{}') AS segments,"
    " (array_agg(c.position_seconds ORDER BY c.client_time DESC, c.n) FILTER (WHERE c.kind = 'position'))[1]"
    " AS position_seconds,"
    " max(c.client_time) FILTER (WHERE c.kind = 'position') AS position_time,"
    " bool_or(c.kind = 'completed') AS marked,"
    " CASE WHEN min(c.completion_rule) = 'coverage' AND min(c.duration) > 0"
    " THEN min(c.completion_threshold) * min(c.duration) END AS needed, count(*) AS events"
    " FROM checked c JOIN inserted i ON i.id = c.id GROUP BY c.lesson_id"
    "), saved AS ("
    " INSERT INTO lesson_progress AS p (user_id, lesson_id, segments, watched_seconds, position_seconds,"
    " position_time, completed, completed_at, updated_at, quota_minute, minute_events, quota_day, day_events)"
    " SELECT :user_id, b.lesson_id, b.segments, seconds_watched(b.segments), b.position_seconds, b.position_time,"
    " b.marked OR coalesce(seconds_watched(b.segments) >= b.needed, false),"
    " CASE WHEN b.marked OR coalesce(seconds_watched(b.segments) >= b.needed, false) THEN now() END, now(),"
    " :minute, b.events, :day, b.events"
    " FROM batch b ORDER BY b.lesson_id"
    " ON CONFLICT (user_id, lesson_id) DO UPDATE SET"
    " segments = p.segments + excluded.segments,"
    " watched_seconds = seconds_watched(p.segments + excluded.segments),"
    " position_seconds = CASE WHEN excluded.position_time > coalesce(p.position_time, '-infinity')"
    " THEN excluded.position_seconds ELSE p.position_seconds END,"
    " position_time = greatest(p.position_time, excluded.position_time),"
    " completed = p.completed OR excluded.completed OR coalesce(seconds_watched(p.segments + excluded.segments)"
    " >= (SELECT b.needed FROM batch b WHERE b.lesson_id = excluded.lesson_id), false),"
    " completed_at = CASE WHEN p.completed THEN p.completed_at"
    " WHEN excluded.completed OR coalesce(seconds_watched(p.segments + excluded.segments)"
    " >= (SELECT b.needed FROM batch b WHERE b.lesson_id = excluded.lesson_id), false) THEN now() END,"
    " updated_at = now(),"
    # A window's counter adds up; a newer window restarts it; a request late on another process's clock
    # leaves the newer window alone.
    " minute_events = CASE WHEN p.quota_minute = excluded.quota_minute THEN p.minute_events + excluded.minute_events"
    " WHEN p.quota_minute > excluded.quota_minute THEN p.minute_events ELSE excluded.minute_events END,"
    " quota_minute = greatest(p.quota_minute, excluded.quota_minute),"
    " day_events = CASE WHEN p.quota_day = excluded.quota_day THEN p.day_events + excluded.day_events"
    " WHEN p.quota_day > excluded.quota_day THEN p.day_events ELSE excluded.day_events END,"
    " quota_day = greatest(p.quota_day, excluded.quota_day)"
    " RETURNING p.lesson_id, p.segments, p.watched_seconds, p.position_seconds, p.completed"
    ")"
    " SELECT 'verdict' AS part, CAST(v.reused_id AS uuid) AS id, CAST(NULL AS uuid) AS module_id,"
    " CAST(v.valid AS boolean) AS flag, CAST(v.enrolled AS boolean) AS enrolled,"
    " CAST(NULL AS integer) AS duration_seconds, CAST(NULL AS text) AS rule, CAST(NULL AS float8) AS number,"
    " CAST(v.replayed AS integer) AS replayed, CAST((SELECT count(*) FROM inserted) AS integer) AS applied,"
    " CAST(NULL AS seconds_multirange) AS segments, CAST(NULL AS float8) AS position_seconds,"
    " q.over_minute, q.over_day, q.minute_full FROM verdict v, quota q"
    " WHERE retry_unless(NOT (v.valid AND v.enrolled AND v.reused_id IS NULL AND NOT (q.over_minute OR q.over_day))"
    " OR (SELECT count(*) FROM inserted) + v.replayed = v.events, 'an event of the batch was stored meanwhile')"
    " UNION ALL SELECT 'lesson', f.id, f.module_id, NULL, f.enrolled, f.duration_seconds,"
    " CAST(f.completion_rule AS text), f.completion_threshold, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM facts f"
    " UNION ALL SELECT 'progress', s.lesson_id, NULL, s.completed, NULL, NULL, NULL, s.watched_seconds, NULL, NULL,"
    " s.segments, s.position_seconds, NULL, NULL, NULL FROM saved s"
)
_FACTS = text(
    "SELECT l.id, l.module_id, l.duration_seconds, CAST(l.completion_rule AS text) AS rule, l.completion_threshold,"
    " EXISTS (SELECT 1 FROM enrollment en WHERE en.user_id = :user_id AND en.module_id = l.module_id"
    " AND en.status = 'active') AS enrolled"
    " FROM lesson l WHERE l.id = ANY(CAST(:lessons AS uuid[]))"
)
_ATTEMPTS = 5
_PLAYED_BEFORE = text(
    "SELECT lesson_id, range_agg(seconds_range(start_seconds, end_seconds)) AS segments FROM progress_event"
    " WHERE user_id = :user_id AND lesson_id = ANY(CAST(:lessons AS uuid[])) AND kind = 'played'"
    " AND start_seconds IS NOT NULL AND end_seconds IS NOT NULL AND (client_time, id) < (:time, :id)"
    " GROUP BY lesson_id"
)


@dataclass(frozen=True, slots=True)
class ModuleFigures:
    module: m.Module
    lessons: int  # visible lessons
    enrolled: int
    started: int
    completed: int
    median_done: float | None  # lessons completed by the median learner (None without learners)


@dataclass(frozen=True, slots=True)
class QuizState:
    """A quiz that completing its module asks for, and whether the learner passed it."""

    passed: bool


class ProgressRepository(EnrollmentRepository):
    """Progress queries; enrollment queries come from ``EnrollmentRepository``."""

    def __init__(self, session: AsyncSession, engine: AsyncEngine) -> None:
        super().__init__(session)
        self.engine = engine

    async def ingest(
        self,
        user_id: uuid.UUID,
        events: list[dict[str, Any]],
        *,
        tolerance: float,
        quota: QuotaWindows,
        in_session: bool = False,
    ) -> Ingested:
        """Apply a batch in one atomic statement (see ``_APPLY``) and say what was decided and changed: on a
        connection of its own that commits at once, or (``in_session``) in the session's transaction, so the
        batch commits with the changes that caused it (a podcast app's actions)."""
        any_source = any(event["source_app"] is not None for event in events)
        values = {
            "user_id": user_id, "tolerance": tolerance, "minute": quota.minute, "day": quota.day,
            "per_minute": quota.per_minute, "per_day": quota.per_day,
            "ids": [event["id"] for event in events], "lesson_ids": [event["lesson_id"] for event in events],
            "kinds": [event["kind"].value for event in events],
            "client_times": [event["client_time"] for event in events],
            "starts": [event["start_seconds"] for event in events],
            "ends": [event["end_seconds"] for event in events],
            "positions": [event["position_seconds"] for event in events],
            # The web player's events have none: a NULL array, which unnest pads with NULLs.
            "source_apps": [event["source_app"] for event in events] if any_source else None,
            "source_devices": [event["source_device"] for event in events] if any_source else None,
        }  # fmt: skip
        arguments = [values[name] for name in _APPLY_PARAMETERS]
        if in_session:
            # With the session's other changes, once: a concurrent batch that stored one of these ids first
            # (``retry_unless``) fails the whole transaction, answered 503 + Retry-After like any such conflict.
            # The podcast apps' events cannot meet one: their ids come from actions this transaction inserted.
            connection = await session_driver(self.session)
            return _ingested(await connection.fetch(_APPLY, *arguments))
        async with driver_connection(self.engine) as connection:
            attempt = 1
            while True:
                try:
                    return _ingested(await connection.fetch(_APPLY, *arguments))
                except asyncpg.SerializationError:  # raised by retry_unless: nothing was stored; again
                    if attempt == _ATTEMPTS:
                        raise
                attempt += 1

    async def lesson_facts(self, user_id: uuid.UUID, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, LessonFacts]:
        """The lessons that exist among ``lesson_ids``, and whether the learner is enrolled in each one's module."""
        rows = await self.session.execute(_FACTS, {"user_id": user_id, "lessons": lesson_ids})
        return {row.id: _facts(row) for row in rows}

    async def lessons(self, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.Lesson]:
        rows = await self.session.execute(select(m.Lesson).where(m.Lesson.id.in_(lesson_ids)))
        return {lesson.id: lesson for lesson in rows.scalars()}

    async def progress(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> m.LessonProgress | None:
        return await self.session.get(m.LessonProgress, (user_id, lesson_id))

    async def flush(self) -> None:
        await self.session.flush()

    async def module_lessons(self, module_slug: str) -> tuple[m.Module, list[m.Lesson]] | None:
        """A published module and its published lessons, in order."""
        module = (
            await self.session.execute(select(m.Module).where(m.Module.slug == module_slug, m.Module.visible()))
        ).scalar_one_or_none()
        if module is None:
            return None
        rows = await self.session.execute(
            select(m.Lesson).where(m.Lesson.module_id == module.id, m.Lesson.visible()).order_by(m.Lesson.position)
        )
        return module, list(rows.scalars())

    async def required_quiz(self, user_id: uuid.UUID, module_id: uuid.UUID) -> QuizState | None:
        """The module's quiz when completing the module asks for it, and whether the learner passed it."""
        passed = (
            select(m.QuizAttempt.id)
            .where(m.QuizAttempt.user_id == user_id, m.QuizAttempt.module_id == module_id, m.QuizAttempt.passed)
            .exists()
        )
        query = select(passed).where(m.Quiz.module_id == module_id, m.Quiz.required)
        found = (await self.session.execute(query)).scalar_one_or_none()
        return None if found is None else QuizState(passed=bool(found))

    async def progress_rows(self, user_id: uuid.UUID, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, m.LessonProgress]:
        if not lesson_ids:
            return {}
        rows = await self.session.execute(
            select(m.LessonProgress).where(
                m.LessonProgress.user_id == user_id, m.LessonProgress.lesson_id.in_(lesson_ids)
            )
        )
        return {row.lesson_id: row for row in rows.scalars()}

    async def xapi_context(
        self, user_id: uuid.UUID
    ) -> tuple[list[m.Enrollment], list[m.Module], list[m.Lesson], list[m.LessonProgress]]:
        """What every page of a learner's xAPI export needs (bounded by the catalog, not by the activity)."""
        enrollments = list(
            (await self.session.execute(select(m.Enrollment).where(m.Enrollment.user_id == user_id))).scalars()
        )
        module_ids = [enrollment.module_id for enrollment in enrollments]
        # Only the columns statements name: a lesson's body and search vector are most of its row, and every
        # page reads every lesson of the learner's modules.
        module, lesson = m.Module, m.Lesson
        modules = list(
            (
                await self.session.execute(
                    select(module)
                    .options(load_only(module.id, module.slug, module.title, raiseload=True))
                    .where(module.id.in_(module_ids))
                )
            ).scalars()
        )
        lesson_columns = (lesson.id, lesson.module_id, lesson.slug, lesson.title, lesson.kind,
                          lesson.duration_seconds, lesson.completion_threshold)  # fmt: skip
        lessons = list(
            (
                await self.session.execute(
                    select(lesson)
                    .options(load_only(*lesson_columns, raiseload=True))
                    .where(lesson.module_id.in_(module_ids))
                )
            ).scalars()
        )
        rows = list(
            (await self.session.execute(select(m.LessonProgress).where(m.LessonProgress.user_id == user_id))).scalars()
        )
        return enrollments, modules, lessons, rows

    async def played_events(
        self, user_id: uuid.UUID, lesson_ids: list[uuid.UUID], start: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[PlayedEvent]:
        """At most ``limit`` played segments of these lessons, in (client time, id) order from ``start`` on.

        A keyset page: ``ix_progress_event_user_client_time`` reads it in order, whatever the learner stored.
        Plain rows, not ORM objects: a page is read once and never changed.
        """
        event = m.ProgressEvent
        query = (
            select(event.id, event.lesson_id, event.client_time, event.start_seconds, event.end_seconds,
                   event.source_app, event.source_device)
            .where(
                event.user_id == user_id, event.lesson_id.in_(lesson_ids), event.kind == m.EventKind.PLAYED,
                event.start_seconds.is_not(None), event.end_seconds.is_not(None),
            )
        )  # fmt: skip
        if start is not None:
            query = query.where(tuple_(event.client_time, event.id) >= tuple_(*start))
        rows = await self.session.execute(query.order_by(event.client_time, event.id).limit(limit))
        return [
            PlayedEvent(found_id, lesson_id, moment, low, high, _platform(app, device))
            for found_id, lesson_id, moment, low, high, app, device in rows.all()
        ]

    async def played_before(
        self, user_id: uuid.UUID, lesson_ids: list[uuid.UUID], end: tuple[datetime, uuid.UUID]
    ) -> dict[uuid.UUID, list[list[float]]]:
        """Per lesson, the union of the segments played before ``end`` (what a page's first ``paused`` adds to).

        PostgreSQL unions them (``range_agg``): only the union, a few ranges, reaches the app.
        """
        rows = await self.session.execute(_PLAYED_BEFORE, {"user_id": user_id, "lessons": lesson_ids,
                                                           "time": end[0], "id": end[1]})  # fmt: skip
        return {row.lesson_id: segments_of(row.segments) for row in rows}

    async def attended_sessions(self, user_id: uuid.UUID, start: uuid.UUID | None, limit: int) -> list[Attendance]:
        """At most ``limit`` sessions the learner came to (and is still registered for), by session id from
        ``start`` on. One registration per learner and session: bounded by the catalog."""
        registration, session, series = m.SessionRegistration, m.WebinarSession, m.WebinarSeries
        query = (
            select(registration.session_id, series.slug, session.slug, session.title, registration.attended_at)
            .join(session, session.id == registration.session_id)
            .join(series, series.id == session.series_id)
            .where(
                registration.user_id == user_id,
                registration.attended_at.is_not(None),
                registration.cancelled_at.is_(None),
            )
        )
        if start is not None:
            query = query.where(registration.session_id >= start)
        rows = await self.session.execute(query.order_by(registration.session_id).limit(limit))
        found = []
        for session_id, series_slug, session_slug, title, attended_at in rows.all():
            if attended_at is not None:  # always (the query asks for it): said for mypy
                found.append(Attendance(session_id, series_slug, session_slug, title, attended_at))
        return found

    async def required_quizzes(self, user_id: uuid.UUID) -> dict[uuid.UUID, bool]:
        """Module id → whether the learner passed its quiz, for every module whose completion asks for it."""
        passed = (
            select(m.QuizAttempt.id)
            .where(m.QuizAttempt.user_id == user_id, m.QuizAttempt.module_id == m.Quiz.module_id, m.QuizAttempt.passed)
            .exists()
        )
        rows = await self.session.execute(select(m.Quiz.module_id, passed).where(m.Quiz.required))
        return {module_id: bool(done) for module_id, done in rows.all()}

    async def quiz_attempts(self, user_id: uuid.UUID, start: tuple[datetime, uuid.UUID] | None) -> list[QuizTaken]:
        """The learner's quiz attempts by (moment, id) from ``start`` on. Each quiz allows at most 20 attempts:
        bounded by the catalog."""
        attempt = m.QuizAttempt
        query = (
            select(attempt, m.Module.slug, m.Quiz.title, m.Quiz.questions)
            .join(m.Module, m.Module.id == attempt.module_id)
            .join(m.Quiz, m.Quiz.module_id == attempt.module_id)
            .where(attempt.user_id == user_id)
        )
        if start is not None:
            query = query.where(tuple_(attempt.submitted_at, attempt.id) >= tuple_(*start))
        rows = await self.session.execute(query.order_by(attempt.submitted_at, attempt.id))
        return [QuizTaken(row[0], row[1], row[2], row[3]) for row in rows.all()]

    async def module_figures(self) -> list[ModuleFigures]:
        """Per module, in the catalog's order: its visible lessons, learners actively enrolled, those who touched
        a lesson, those who completed them all, and the median of the lessons completed per learner (None
        without learners). Read from the tally the database keeps as learners progress (the progress-tally
        migration): a few rows per module, whatever the number of learners."""
        tally, change, lesson = m.ModuleProgressTally, m.ModuleProgressChange, m.Lesson
        buckets = union_all(
            select(tally.module_id, tally.lessons_done, tally.started, tally.learners),
            select(change.module_id, change.lessons_done, change.started, change.learners),
        ).subquery("buckets")
        learners = func.sum(buckets.c.learners)
        rows = await self.session.execute(
            select(buckets.c.module_id, buckets.c.lessons_done, buckets.c.started, learners)
            .group_by(buckets.c.module_id, buckets.c.lessons_done, buckets.c.started)
            .having(learners != 0)
        )
        per_module: dict[uuid.UUID, list[tuple[int, bool, int]]] = {}
        for module_id, done, started, count in rows.all():
            per_module.setdefault(module_id, []).append((int(done), bool(started), int(count)))
        visible = await self.session.execute(
            select(lesson.module_id, func.count()).where(lesson.visible()).group_by(lesson.module_id)
        )
        counts: dict[uuid.UUID, int] = {module_id: int(n) for module_id, n in visible.all()}
        modules = await self.session.scalars(select(m.Module).order_by(m.Module.position, m.Module.slug))
        return [_figures(module, counts.get(module.id, 0), per_module.get(module.id, [])) for module in modules]


class TallyRepository:
    """The admin figures' tally (``ModuleProgressTally``) and its appended changes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def fold(self) -> int:
        """Fold the appended changes into the tally (the worker's maintenance); return how many were folded.
        Concurrent folds take disjoint changes (each deletes what it folds)."""
        folded = await self.session.execute(_FOLD)
        return int(folded.scalar_one())


_FOLD = text(
    "WITH moved AS (DELETE FROM module_progress_change RETURNING module_id, lessons_done, started, learners),"
    " summed AS (SELECT module_id, lessons_done, started, sum(learners) AS learners FROM moved"
    "  GROUP BY module_id, lessons_done, started),"
    " kept AS (INSERT INTO module_progress_tally (module_id, lessons_done, started, learners)"
    "  SELECT module_id, lessons_done, started, learners FROM summed"
    "  ON CONFLICT (module_id, lessons_done, started)"
    "  DO UPDATE SET learners = module_progress_tally.learners + excluded.learners)"
    " SELECT count(*) FROM moved"
)


def _figures(module: m.Module, lessons: int, buckets: list[tuple[int, bool, int]]) -> ModuleFigures:
    """A module's figures from its tally's buckets (lessons done, started, learners)."""
    enrolled = sum(count for _, _, count in buckets)
    started = sum(count for _, began, count in buckets if began)
    completed = sum(count for done, _, count in buckets if done >= lessons) if lessons else 0
    return ModuleFigures(module, lessons, enrolled, started, completed, _median(buckets))


def _median(buckets: list[tuple[int, bool, int]]) -> float | None:
    """The median of the lessons done per learner, as PostgreSQL's ``percentile_cont(0.5)`` gives it (halfway
    between the two middle learners of an even count), from counts per number of lessons done."""
    counts: dict[int, int] = {}
    for done, _, count in buckets:
        counts[done] = counts.get(done, 0) + count
    total = sum(counts.values())
    if total <= 0:
        return None

    def at(index: int) -> float:  # the learner at ``index`` (from 0) in the order of lessons done
        seen = 0
        for done in sorted(counts):
            seen += counts[done]
            if seen > index:
                return float(done)
        raise AssertionError(index)

    position = (total - 1) / 2
    low, high = at(math.floor(position)), at(math.ceil(position))
    return low + (high - low) * (position - math.floor(position))


def _facts(row: Any) -> LessonFacts:
    return LessonFacts(
        row.id, row.module_id, row.duration_seconds, m.CompletionRule(row.rule), row.completion_threshold, row.enrolled
    )


def _ingested(rows: Sequence[Any]) -> Ingested:
    found = Ingested()
    for row in rows:
        if row["part"] == "verdict":
            found.verdict = Verdict(
                valid=bool(row["flag"]), enrolled=bool(row["enrolled"]), reused_id=row["id"],
                applied=row["applied"], replayed=row["replayed"], over_minute=bool(row["over_minute"]),
                over_day=bool(row["over_day"]), minute_full=bool(row["minute_full"]),
            )  # fmt: skip
        elif row["part"] == "lesson":
            found.lessons[row["id"]] = LessonFacts(
                row["id"], row["module_id"], row["duration_seconds"], m.CompletionRule(row["rule"]), row["number"],
                row["enrolled"],
            )  # fmt: skip
        else:
            found.progress.append(
                ProgressState(
                    row["id"], segments_of(row["segments"]), row["number"], row["position_seconds"], bool(row["flag"])
                )
            )
    found.progress.sort(key=lambda state: state.lesson_id)
    return found
