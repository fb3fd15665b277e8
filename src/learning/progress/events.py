"""Progress events: validated as a batch, applied once each, merged so that progress never goes back.

A batch is applied whole or not at all: one invalid event (422), one event for a lesson outside the
learner's enrollments (403), one id reused with other content (409) or new events beyond the learner's
quotas (429, per minute and per lesson per day) rejects the batch, and nothing of it is stored.
Replayed events (same id, same content) are recognised and skipped, so clients may retry freely.
Once PostgreSQL says a learner's minute is used up, this process refuses their batches (429) until the minute
ends without reading them (``minute_quota_refusal``, a guard): a flooding client costs next to nothing.
Segments are merged as a union, the resume position is the one with the latest client time, and
completion — decided here, not by the client — never regresses.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import anyio
import anyio.lowlevel

from learning.config import Settings
from learning.db import models as m
from learning.lib import clock
from learning.lib.clock import plausible
from learning.lib.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from learning.lib.pacing import Pacing
from learning.lib.ratelimit import Refusals
from learning.progress.repositories import (
    LessonFacts,
    ProgressRepository,
    ProgressState,
    QuizState,
    QuotaWindows,
    Verdict,
)
from learning.progress.xapi import (
    EVENTS,
    FIRST,
    Checkpoints,
    Key,
    LearnerActivity,
    StatementBuilder,
    activity_version,
    attempts_from,
    attended_from,
    cursor_of,
    key_of,
    union_before,
)

DURATION_TOLERANCE = 1.0  # seconds: players report positions a little past the end


class InvalidEvents(Unprocessable):
    title = "Invalid progress events"


class NotEnrolledInLesson(Forbidden):
    title = "Not enrolled"


class EventIdReused(Conflict):
    title = "Event id already used"


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    kind: m.EventKind
    lesson_id: uuid.UUID
    client_time: datetime
    start: float | None = None
    end: float | None = None
    position: float | None = None
    source: tuple[str, str] | None = None  # a podcast app's listening: the app's name and the device's id


@dataclass(frozen=True, slots=True)
class BatchResult:
    applied: int
    replayed: int
    lessons: list[tuple[LessonFacts, ProgressState]]


class EventQuotaExceeded(TooManyRequests):
    title = "Too many progress events"


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Events a learner may store: per minute, and per lesson per UTC day (settings)."""

    per_minute: int
    per_lesson_per_day: int


def quota_exceeded(limits: EventLimits, retry_after: int) -> EventQuotaExceeded:
    return EventQuotaExceeded(
        f"Too many progress events: at most {limits.per_minute} a minute, and "
        f"{limits.per_lesson_per_day} a day for one lesson; none of this batch was stored.",
        retry_after=retry_after,
    )


def _minute_key(user_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    return ("progress:minute", user_id)


def minute_quota_refusal(refusals: Refusals, limits: EventLimits, user_id: uuid.UUID) -> EventQuotaExceeded | None:
    """The 429 for a learner whose minute PostgreSQL said is used up, until it ends (None otherwise)."""
    retry_after = refusals.retry_after(_minute_key(user_id), clock.utcnow())
    return None if retry_after is None else quota_exceeded(limits, retry_after)


def _retry_after(now: datetime, windows: QuotaWindows, verdict: Verdict) -> int:
    """Seconds until every window the batch would overflow has ended."""
    ends = []
    if verdict.over_minute:
        ends.append(windows.minute + timedelta(minutes=1))
    if verdict.over_day:
        ends.append(datetime.combine(windows.day + timedelta(days=1), time(), tzinfo=UTC))
    return math.ceil((max(ends) - now).total_seconds())


def xapi_pacing(settings: Settings) -> Pacing:
    """Each caller's pace through xAPI export pages (the learner for their own, the admin for a learner's)."""
    return Pacing(
        per_second=settings.xapi_pages_per_second,
        burst=settings.xapi_page_burst,
        wait_seconds=settings.client_wait_seconds,
        detail=(
            f"Too many xAPI pages at once: {settings.xapi_page_burst} at once, then "
            f"{settings.xapi_pages_per_second:g} a second; follow `more` at that pace."
        ),
    )


class ProgressService:
    def __init__(
        self,
        progress: ProgressRepository,
        limits: EventLimits,
        refusals: Refusals | None = None,
        checkpoints: Checkpoints | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        self.progress = progress
        self.limits = limits
        self.refusals = refusals if refusals is not None else Refusals()
        self.checkpoints = checkpoints if checkpoints is not None else Checkpoints()
        self.pacing = pacing

    async def record(self, user_id: uuid.UUID, events: list[Event], *, in_session: bool = False) -> BatchResult:
        """Apply a batch of events (all or nothing; see the module's docstring); ``in_session``: in the
        session's transaction, to commit with the changes that caused them."""
        if len({event.id for event in events}) != len(events) or any(
            _shape_problem(index, event) for index, event in enumerate(events)
        ):  # the full list of problems also names those that need the lessons' facts
            lessons = await self.progress.lesson_facts(user_id, sorted({event.lesson_id for event in events}))
            raise InvalidEvents("Some events are invalid; none was applied.", errors=_problems(events, lessons))
        now = clock.utcnow()
        windows = QuotaWindows(
            minute=now.replace(second=0, microsecond=0), day=now.date(),
            per_minute=self.limits.per_minute, per_day=self.limits.per_lesson_per_day,
        )  # fmt: skip
        rows = [_row(event) for event in events]
        found = await self.progress.ingest(
            user_id, rows, tolerance=DURATION_TOLERANCE, quota=windows, in_session=in_session
        )
        verdict, lessons = found.verdict, found.lessons
        if not verdict.valid:
            raise InvalidEvents("Some events are invalid; none was applied.", errors=_problems(events, lessons))
        if not verdict.enrolled:
            raise NotEnrolledInLesson("Some events are for lessons of modules you are not enrolled in.")
        if verdict.reused_id is not None:
            raise EventIdReused(f"Event {verdict.reused_id} was already sent with other content.")
        if verdict.minute_full:  # no new event fits until the minute ends: refused here until then
            self.refusals.refuse(_minute_key(user_id), windows.minute + timedelta(minutes=1), now)
        if verdict.over_minute or verdict.over_day:
            raise quota_exceeded(self.limits, _retry_after(now, windows, verdict))
        return BatchResult(
            applied=verdict.applied,
            replayed=verdict.replayed,
            lessons=[(lessons[state.lesson_id], state) for state in found.progress],
        )

    async def module(self, user_id: uuid.UUID, module_slug: str) -> ModuleProgress:
        """Each lesson's state in a module, the share completed and the next lesson to take."""
        return await module_progress(self.progress, user_id, module_slug)

    async def overview(self, user_id: uuid.UUID) -> list[ModuleProgress]:
        """Progress in every module the learner is enrolled in."""
        enrollments = await self.progress.active_with_modules(user_id)
        return [await module_progress(self.progress, user_id, module.slug) for _, module in enrollments]

    async def module_analytics(self) -> list[ModuleAnalytics]:
        """Per module: learners enrolled, started, completed, and the median completion (%). PostgreSQL
        aggregates the learners' rows; only one row per module reaches the app."""
        return [
            ModuleAnalytics(
                module=f.module, enrolled=f.enrolled, started=f.started, completed=f.completed,
                median_completion=round(100 * f.median_done / f.lessons, 1) if f.median_done and f.lessons else 0.0,
            )
            for f in await self.progress.module_figures()
        ]  # fmt: skip

    async def statements(
        self, user_id: uuid.UUID, base_url: str, *, limit: int, cursor: str | None, caller: uuid.UUID
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the learner's xAPI statements (stable ids; the registration of each enrollment in context)
        and the cursor of the next page (None after the last). See ``xapi``'s docstring for the order.
        ``caller`` (the learner, or the admin reading a learner's) goes at its pace (``xapi_pacing``)."""
        start = key_of(cursor) if cursor else FIRST
        if self.pacing is not None:
            await self.pacing.turn(caller)
        enrollments, modules, lessons, rows = await self.progress.xapi_context(user_id)
        activity = LearnerActivity(
            user_id=user_id,
            lessons={lesson.id: lesson for lesson in lessons},
            modules={module.id: module for module in modules},
            registrations={enrollment.module_id: enrollment.registration for enrollment in enrollments},
            progress={row.lesson_id: row for row in rows},
            required_quizzes=await self.progress.required_quizzes(user_id),
        )
        builder = StatementBuilder(base_url, activity)
        keyed: list[tuple[Key, dict[str, Any]]] = []
        events_done = start[0] != EVENTS
        if not events_done:
            wanted = limit // 2 + 2  # two statements an event: enough for the page and a look at the next one
            first = (start[1], start[2]) if len(start) > 1 else None
            events = await self.progress.played_events(user_id, list(activity.lessons), first, wanted)
            before: dict[uuid.UUID, list[list[float]]] = {}
            version = activity_version(activity.progress)
            if events:
                start_at = (events[0].client_time, events[0].id)
                found = self.checkpoints.take((user_id, version, *start_at))
                # Every lesson's union, not only this page's: it is also where the next page starts.
                before = (
                    found
                    if found is not None
                    else await self.progress.played_before(user_id, sorted(activity.lessons), start_at)
                )
            # Up to XAPI_MAX_LIMIT statements, built a few at a time: other requests run between the steps.
            for step in builder.played(events, before):
                keyed += [item for item in step if item[0] >= start]
                await anyio.lowlevel.checkpoint()
            events_done = len(events) < wanted
            if len(keyed) > limit and keyed[limit][0][0] == EVENTS:  # the next page starts among these events
                end = (keyed[limit][0][1], keyed[limit][0][2])
                self.checkpoints.leave((user_id, version, *end), union_before(before, events, end))
        if events_done:  # the other sections are bounded by the catalog
            attended = await self.progress.attended_sessions(user_id, attended_from(start), limit + 1)
            taken = await self.progress.quiz_attempts(user_id, attempts_from(start))
            keyed += builder.completions() + builder.modules() + builder.attended(attended) + builder.quizzes(taken)
        keyed = [item for item in keyed if item[0] >= start]
        following = cursor_of(keyed[limit][0]) if len(keyed) > limit else None
        return [statement for _, statement in keyed[:limit]], following

    async def lesson(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> tuple[m.Lesson, m.LessonProgress | None]:
        """A lesson and the learner's progress on it (None before the first event)."""
        lesson = (await self.progress.lessons([lesson_id])).get(lesson_id)
        if lesson is None:
            raise LessonMissing("No such lesson.")
        return lesson, await self.progress.progress(user_id, lesson_id)


class LessonMissing(NotFound):
    title = "Lesson not found"


def _row(event: Event) -> dict[str, Any]:
    return {
        "id": event.id, "lesson_id": event.lesson_id, "kind": event.kind,
        "client_time": event.client_time, "start_seconds": event.start, "end_seconds": event.end,
        "position_seconds": event.position,
        "source_app": event.source[0] if event.source else None,
        "source_device": event.source[1] if event.source else None,
    }  # fmt: skip


def _shape_problem(index: int, event: Event) -> dict[str, str] | None:
    """What is wrong with an event whatever its lesson."""
    key = f"events[{index}]"
    if event.client_time.tzinfo is None:
        return {"message": "client_time needs a UTC offset", "key": key}
    if not plausible(event.client_time):
        return {"message": "client_time must be between 1900 and 2200", "key": key}
    if event.kind is m.EventKind.PLAYED:
        if event.start is None or event.end is None or not 0 <= event.start < event.end:
            return {"message": "a played segment needs 0 ≤ from < to", "key": key}
    elif event.kind is m.EventKind.POSITION and (event.position is None or event.position < 0):
        return {"message": "a position must be ≥ 0", "key": key}
    return None


def _fact_problem(index: int, event: Event, lesson: LessonFacts | None) -> dict[str, str] | None:
    """What is wrong with an event for its lesson (the ingestion statement checks the same rules)."""
    key = f"events[{index}]"
    if lesson is None:
        return {"message": "no such lesson", "key": key}
    limit = (lesson.duration_seconds or 0) + DURATION_TOLERANCE
    if event.kind is m.EventKind.PLAYED:
        if lesson.duration_seconds and event.end is not None and event.end > limit:
            return {"message": f"the segment ends after the lesson ({lesson.duration_seconds} s)", "key": key}
    elif event.kind is m.EventKind.POSITION:
        if lesson.duration_seconds and event.position is not None and event.position > limit:
            return {"message": f"the position is after the end ({lesson.duration_seconds} s)", "key": key}
    elif lesson.completion_rule is not m.CompletionRule.MARK_DONE:
        return {"message": "only a text lesson is marked done; media lessons complete by watching", "key": key}
    return None


def _problems(events: list[Event], lessons: dict[uuid.UUID, LessonFacts]) -> list[dict[str, str]]:
    problems = [
        problem
        for index, event in enumerate(events)
        if (problem := _shape_problem(index, event) or _fact_problem(index, event, lessons.get(event.lesson_id)))
    ]
    if len({event.id for event in events}) != len(events):
        problems.append({"message": "an event id appears twice in the batch", "key": "events"})
    if not problems:  # the statement and _fact_problem disagree: a bug, never the client's fault
        raise RuntimeError("the batch was refused as invalid, yet no rule explains why")
    return problems


RESTART_BELOW = 0.05  # resume from 0 before 5 % …
NEXT_ABOVE = 0.95  # … and move on after 95 %


def resume_point(position: float | None, duration: int) -> tuple[float, bool]:
    """Where to resume, and whether to go to the next lesson instead (Jellyfin-style thresholds)."""
    if position is None or duration <= 0:
        return 0.0, False
    share = position / duration
    if share < RESTART_BELOW:
        return 0.0, False
    if share > NEXT_ABOVE:
        return 0.0, True
    return position, False


@dataclass(frozen=True, slots=True)
class ModuleAnalytics:
    module: m.Module
    enrolled: int
    started: int
    completed: int
    median_completion: float


@dataclass(frozen=True, slots=True)
class ModuleProgress:
    module: m.Module
    enrollment: m.Enrollment | None
    lessons: list[tuple[m.Lesson, m.LessonProgress | None]]
    quiz: QuizState | None = None  # the module's quiz, when completing the module asks for it passed

    @property
    def percent_complete(self) -> float:
        """The share of the module done: its lessons completed, and its required quiz passed as one more."""
        if not self.lessons:
            return 0.0
        done = sum(1 for _, row in self.lessons if row is not None and row.completed)
        steps = len(self.lessons)
        if self.quiz is not None:
            done, steps = done + self.quiz.passed, steps + 1
        return round(100 * done / steps, 1)

    @property
    def completed(self) -> bool:
        """The module is done: every lesson completed and, where the module asks for it, its quiz passed (the
        one rule of completion; attestations read it)."""
        lessons_done = bool(self.lessons) and all(row is not None and row.completed for _, row in self.lessons)
        return lessons_done and (self.quiz is None or self.quiz.passed)

    @property
    def next_lesson(self) -> m.Lesson | None:
        return next((lesson for lesson, row in self.lessons if row is None or not row.completed), None)


async def module_progress(progress: ProgressRepository, user_id: uuid.UUID, module_slug: str) -> ModuleProgress:
    found = await progress.module_lessons(module_slug)
    if found is None:
        raise LessonMissing(f"No published module '{module_slug}'.")
    module, lessons = found
    rows = await progress.progress_rows(user_id, [lesson.id for lesson in lessons])
    enrollment = await progress.get(user_id, module.id)
    quiz = await progress.required_quiz(user_id, module.id)
    return ModuleProgress(module, enrollment, [(lesson, rows.get(lesson.id)) for lesson in lessons], quiz)
