"""xAPI 1.0.3 statements of a learner's activity, built from what was stored (events and progress).

Media lessons follow the ADL video profile: each watched segment is a ``played`` statement (at its start)
and a ``paused`` one (at its end, with the played segments so far and the progress), and a completed
media lesson a ``completed`` statement with the time, progress, played segments, length and threshold.
Text lessons and modules get cmi5-style ``completed`` / ``progressed`` statements. A webinar session the
learner came to (``attended_at``: they opened its room during it) is a ``joined`` statement of the xAPI
virtual-classroom profile (https://w3id.org/xapi/virtual-classroom: the profile says "joined", with the ADL
verb ``attended`` nowhere in it). Statement ids are UUIDv5 of what they describe, so exporting again gives the
same ids; the enrollment's registration is in every context of a lesson or module.

The export is read in pages (an xAPI StatementResult with a ``more`` link): statements have a total order —
the played segments by (client time, event id), each as ``played`` then ``paused``; then the completed
lessons by id; then the modules by id; then the sessions attended by session id — and a page starts at the
``Key`` its cursor names. A page reads at most its own events plus, per lesson, the union of the segments
played before it (computed by PostgreSQL), so its cost does not grow with what the learner stored; the other
sections are bounded by the catalog (a learner has one registration per session).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from learning.db import models as m
from learning.lib.pagination import BadCursor, decode_cursor, encode_cursor
from learning.progress.repositories import Attendance, PlayedEvent, QuizTaken
from learning.progress.segments import add, merge

NAMESPACE = uuid.UUID("6f5b1f0e-2c0a-5d1e-9c3b-6c6561726e69")  # fixed: statement ids must never change
PLAYED_STEP = 25  # played events built at once (50 statements, about 0.3 ms) before other requests may run
VIDEO = "https://w3id.org/xapi/video"
VIDEO_ACTIVITY = f"{VIDEO}/activity-type/video"
EXT = f"{VIDEO}/extensions"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
CMI5_SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
PLANNED_DURATION = "http://id.tincanapi.com/extension/planned-duration"
PROFILE = "http://adlnet.gov/expapi/activities/profile"
CLASSROOM = "https://w3id.org/xapi/virtual-classroom"
CLASSROOM_ACTIVITY = f"{CLASSROOM}/activity-types/virtual-classroom"
VERBS = {
    "played": (f"{VIDEO}/verbs/played", "played"),
    "paused": (f"{VIDEO}/verbs/paused", "paused"),
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    "progressed": ("http://adlnet.gov/expapi/verbs/progressed", "progressed"),
    "joined": ("http://activitystrea.ms/join", "joined"),
    "answered": ("http://adlnet.gov/expapi/verbs/answered", "answered"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed"),
}
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"


# A statement's place in the export: (0, client time, event id, 0 played | 1 paused), (1, lesson id) for a
# completed lesson, (2, module id) for a module, (3, session id) for a session attended. Keys of different
# sections compare on their first item.
Key = tuple[Any, ...]
FIRST: Key = (0,)
EVENTS, LESSONS, MODULES, ATTENDED, QUIZZES = 0, 1, 2, 3, 4
_SECTIONS = {"e": EVENTS, "l": LESSONS, "m": MODULES, "a": ATTENDED, "q": QUIZZES}
_MOMENT_KEYED = {EVENTS, QUIZZES}  # keys (section, moment, id, index): the others are (section, id)
_LETTERS = {section: letter for letter, section in _SECTIONS.items()}


def cursor_of(key: Key) -> str:
    if key[0] in _MOMENT_KEYED:
        return encode_cursor(_LETTERS[key[0]], key[1].isoformat(), str(key[2]), str(key[3]))
    return encode_cursor(_LETTERS[key[0]], str(key[1]))


def key_of(cursor: str) -> Key:
    """The key a cursor of ``cursor_of`` names; ``BadCursor`` (400) for anything else."""
    parts = decode_cursor(cursor)
    try:
        section = _SECTIONS[parts[0]]
        if section in _MOMENT_KEYED and len(parts) == 4 and parts[3].isdigit() and len(parts[3]) <= 3:
            moment = datetime.fromisoformat(parts[1])
            if moment.tzinfo is not None and (section != EVENTS or parts[3] in {"0", "1"}):
                return (section, moment, uuid.UUID(parts[2]), int(parts[3]))
        elif section not in _MOMENT_KEYED and len(parts) == 2:
            return (section, uuid.UUID(parts[1]))
    except (KeyError, ValueError):
        pass
    raise BadCursor("This cursor was not given by a previous page; follow the `more` link.")


def attempts_from(start: Key) -> tuple[datetime, uuid.UUID] | None:
    """The first quiz attempt a page starting at ``start`` may show (None: from the first)."""
    return (start[1], start[2]) if start[0] == QUIZZES else None


def attended_from(start: Key) -> uuid.UUID | None:
    """The first session of the attended section a page starting at ``start`` may show (None: from the first)."""
    return start[1] if start[0] == ATTENDED else None


@dataclass(frozen=True, slots=True)
class LearnerActivity:
    user_id: uuid.UUID
    lessons: dict[uuid.UUID, m.Lesson]
    modules: dict[uuid.UUID, m.Module]
    registrations: dict[uuid.UUID, uuid.UUID]  # module id → registration
    progress: dict[uuid.UUID, m.LessonProgress]  # lesson id → progress
    # module id → whether the learner passed its quiz, for the modules whose completion asks for it
    required_quizzes: dict[uuid.UUID, bool] = field(default_factory=dict)


def _segments(segments: list[list[float]]) -> str:
    return "[,]".join(f"{low:g}[.]{high:g}" for low, high in segments)


def _union(segments: list[list[float]]) -> list[list[float]]:
    """``segments`` as ``segments.merge`` leaves them (sorted, joined), in new lists."""
    if not segments:
        return []
    low, high = segments[0]
    return merge([list(s) for s in segments[1:]], float(low), float(high))


def _verb(name: str) -> dict[str, Any]:
    iri, display = VERBS[name]
    return {"id": iri, "display": {"en-US": display}}


def _seconds(value: float) -> str:
    return f"PT{round(value, 3):g}S"


def statement_id(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, without building two UUID objects (a third of a page's time)."""
    digest = bytearray(hashlib.sha1(NAMESPACE.bytes + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class StatementBuilder:
    """Builds the statements of one learner's page. What depends only on the lesson (its object, the context
    of its ``played`` and ``paused`` statements) is built once per lesson and shared by the page's statements:
    a page of 500 statements over a few lessons would otherwise rebuild the same dicts a thousand times."""

    def __init__(self, base_url: str, activity: LearnerActivity) -> None:
        self.base = base_url.rstrip("/")
        self.activity = activity
        self.actor = {"objectType": "Agent", "account": {"homePage": self.base, "name": str(activity.user_id)}}
        self._objects: dict[uuid.UUID, dict[str, Any]] = {}
        self._contexts: dict[uuid.UUID, dict[str, Any]] = {}
        self._prefix = f"{activity.user_id}:"

    def _shared_object(self, lesson: m.Lesson) -> dict[str, Any]:
        found = self._objects.get(lesson.id)
        if found is None:
            found = self._objects[lesson.id] = self._lesson_object(lesson)
        return found

    def _shared_context(self, lesson: m.Lesson) -> dict[str, Any]:
        found = self._contexts.get(lesson.id)
        if found is None:
            found = self._contexts[lesson.id] = self._context(lesson)
        return found

    def _lesson_object(self, lesson: m.Lesson) -> dict[str, Any]:
        module = self.activity.modules[lesson.module_id]
        kind = VIDEO_ACTIVITY if lesson.kind is not m.LessonKind.TEXT else "http://adlnet.gov/expapi/activities/lesson"
        return {
            "objectType": "Activity",
            "id": f"{self.base}/api/v1/modules/{module.slug}/lessons/{lesson.slug}",
            "definition": {"type": kind, "name": {"fr": lesson.title}},
        }

    def _context(self, lesson: m.Lesson, *extensions: tuple[str, Any]) -> dict[str, Any]:
        context: dict[str, Any] = {"registration": str(self.activity.registrations[lesson.module_id])}
        if lesson.kind is not m.LessonKind.TEXT:
            context["contextActivities"] = {
                "category": [{"id": VIDEO, "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]
            }
            context["extensions"] = {
                f"{EXT}/session-id": str(self.activity.registrations[lesson.module_id]),
                f"{EXT}/length": float(lesson.duration_seconds),
                **dict(extensions),
            }
        return context

    def _statement(self, key: str, verb: str, obj: dict[str, Any], result: dict[str, Any] | None,
                   context: dict[str, Any], timestamp: datetime) -> dict[str, Any]:  # fmt: skip
        statement = {
            "id": statement_id(self._prefix + key),
            "actor": self.actor,
            "verb": _verb(verb),
            "object": obj,
            "result": result,
            "context": context,
            "timestamp": timestamp.isoformat(),
        }
        if result is None:
            del statement["result"]
        return statement

    def played(
        self, events: list[PlayedEvent], before: dict[uuid.UUID, list[list[float]]]
    ) -> Iterator[list[tuple[Key, dict[str, Any]]]]:
        """``played`` and ``paused`` for each event (in export order), ``PLAYED_STEP`` events at a time;
        ``before``: each lesson's segments so far.

        In steps so that the caller can let other requests run between them: built on the event loop, a page
        holds it a fraction of a millisecond at a time. (Built in a thread, it held the GIL: every other
        request's thread switches then waited up to the switch interval, and the other clients' p99 was ×4.5
        of unloaded while one learner paged through an export; bench/run limits.)"""
        watched = {lesson_id: _union(segments) for lesson_id, segments in before.items()}
        for first in range(0, len(events), PLAYED_STEP):
            statements: list[tuple[Key, dict[str, Any]]] = []
            for event in events[first : first + PLAYED_STEP]:
                lesson = self.activity.lessons[event.lesson_id]
                pair = self._played(event, lesson, watched)
                statements += [((EVENTS, event.client_time, event.id, part), pair[part]) for part in (0, 1)]
            yield statements

    def completions(self) -> list[tuple[Key, dict[str, Any]]]:
        """A ``completed`` statement per completed lesson of the learner's modules, by lesson id."""
        statements: list[tuple[Key, dict[str, Any]]] = []
        for lesson_id, row in sorted(self.activity.progress.items()):
            done = self.activity.lessons.get(lesson_id)
            if done is None or not row.completed or done.module_id not in self.activity.registrations:
                continue
            statements.append(((LESSONS, lesson_id), self._completed(done, row)))
        return statements

    def _played(
        self, event: PlayedEvent, lesson: m.Lesson, watched: dict[uuid.UUID, list[list[float]]]
    ) -> list[dict[str, Any]]:
        start, end = float(event.start_seconds or 0), float(event.end_seconds or 0)
        segments = watched.setdefault(lesson.id, [])
        add(segments, start, end)  # each event adds to the union so far: never recomputed from the start
        duration = float(lesson.duration_seconds or 0)
        progress = min(1.0, sum(h - low for low, h in segments) / duration) if duration else 0.0
        obj, context = self._shared_object(lesson), self._shared_context(lesson)
        if event.platform is not None:  # listened in a podcast app: which one, on which device
            context = {**context, "platform": event.platform}
        played = self._statement(
            f"event:{event.id}:played", "played", obj, {"extensions": {f"{EXT}/time": start}}, context,
            event.client_time,
        )  # fmt: skip
        paused = self._statement(
            f"event:{event.id}:paused", "paused", obj,
            {"extensions": {f"{EXT}/time": end, f"{EXT}/played-segments": _segments(segments),
                            f"{EXT}/progress": round(progress, 4)}},
            context, event.client_time,
        )  # fmt: skip
        return [played, paused]

    def _completed(self, lesson: m.Lesson, row: m.LessonProgress) -> dict[str, Any]:
        moment = row.completed_at or row.updated_at
        obj = self._lesson_object(lesson)
        if lesson.kind is m.LessonKind.TEXT:
            result = {"completion": True, "extensions": {CMI5_PROGRESS: 100}}
            return self._statement(f"lesson:{lesson.id}:completed", "completed", obj, result,
                                   self._context(lesson), moment)  # fmt: skip
        duration = float(lesson.duration_seconds or 0)
        segments = [list(s) for s in row.segments]
        result = {
            "completion": True,
            "duration": _seconds(row.watched_seconds),
            "extensions": {
                f"{EXT}/time": segments[-1][1] if segments else 0.0,
                f"{EXT}/progress": round(min(1.0, row.watched_seconds / duration), 4) if duration else 1.0,
                f"{EXT}/played-segments": _segments(segments),
            },
        }
        context = self._context(lesson, (f"{EXT}/completion-threshold", lesson.completion_threshold))
        return self._statement(f"lesson:{lesson.id}:completed", "completed", obj, result, context, moment)

    def modules(self) -> list[tuple[Key, dict[str, Any]]]:
        """A ``completed`` or ``progressed`` statement per module the learner touched, by module id."""
        statements: list[tuple[Key, dict[str, Any]]] = []
        for module_id, registration in sorted(self.activity.registrations.items()):
            module = self.activity.modules[module_id]
            lessons = [lesson for lesson in self.activity.lessons.values() if lesson.module_id == module_id]
            if not lessons:
                continue
            rows = [self.activity.progress.get(lesson.id) for lesson in lessons]
            done = sum(1 for row in rows if row is not None and row.completed)
            touched = [row.updated_at for row in rows if row is not None]
            if not touched:
                continue
            steps = len(lessons)
            if module_id in self.activity.required_quizzes:  # its quiz passed is one more step (ModuleProgress)
                done, steps = done + self.activity.required_quizzes[module_id], steps + 1
            percent = round(100 * done / steps)
            verb = "completed" if done == steps else "progressed"
            obj = {
                "objectType": "Activity",
                "id": f"{self.base}/api/v1/modules/{module.slug}",
                "definition": {"type": "http://adlnet.gov/expapi/activities/module", "name": {"fr": module.title}},
            }
            result: dict[str, Any] = {"extensions": {CMI5_PROGRESS: percent}}
            if verb == "completed":
                result["completion"] = True
            statements.append((
                (MODULES, module_id),
                self._statement(
                    f"module:{module_id}:{verb}:{percent}",
                    verb,
                    obj,
                    result,
                    {"registration": str(registration)},
                    max(touched),
                ),
            ))  # fmt: skip
        return statements

    def quizzes(self, taken: list[QuizTaken]) -> list[tuple[Key, dict[str, Any]]]:
        """Per quiz attempt, an ``answered`` statement per question (a cmi.interaction: the response, whether it
        was right, its points) then ``passed`` or ``failed`` for the quiz (an assessment: the score), at the
        moment it was submitted, in the module's registration."""
        statements: list[tuple[Key, dict[str, Any]]] = []
        for found in taken:
            attempt = found.attempt
            quiz_id = f"{self.base}/api/v1/modules/{found.module_slug}/quiz"
            context: dict[str, Any] = {}
            registration = self.activity.registrations.get(attempt.module_id)
            if registration is not None:
                context["registration"] = str(registration)
            questions = {question["id"]: question for question in found.questions}
            parent = {"contextActivities": {"parent": [{"id": quiz_id, "objectType": "Activity"}]}}
            moment = (QUIZZES, attempt.submitted_at, attempt.id)
            for index, verdict in enumerate(attempt.results):
                question = questions.get(verdict["question"])
                if question is None:  # taken from the quiz since: its statement would describe nothing
                    continue
                result: dict[str, Any] = {
                    "success": verdict["correct"], "score": {"raw": verdict["points"], "min": 0, "max": verdict["max"]},
                }  # fmt: skip
                answer = attempt.answers.get(question["id"])
                if answer:  # a question left out has no response (xAPI has no empty values)
                    result["response"] = "[,]".join(answer) if isinstance(answer, list) else str(answer)
                statement = self._statement(
                    f"quiz:{attempt.id}:{question['id']}", "answered", _interaction(quiz_id, question), result,
                    {**context, **parent}, attempt.submitted_at,
                )  # fmt: skip
                statements.append(((*moment, index), statement))
            points = sum(verdict["points"] for verdict in attempt.results)
            top = sum(verdict["max"] for verdict in attempt.results)
            obj = {"objectType": "Activity", "id": quiz_id,
                   "definition": {"type": ASSESSMENT, "name": {"fr": found.quiz_title}}}  # fmt: skip
            result = {
                "score": {"scaled": attempt.score, "raw": points, "min": 0, "max": top},
                "success": attempt.passed, "completion": True,
            }  # fmt: skip
            verb = "passed" if attempt.passed else "failed"
            statement = self._statement(f"quiz:{attempt.id}:{verb}", verb, obj, result, context, attempt.submitted_at)
            statements.append(((*moment, 999), statement))
        return statements

    def attended(self, sessions: list[Attendance]) -> list[tuple[Key, dict[str, Any]]]:
        """A ``joined`` statement of the virtual-classroom profile per session the learner came to (``sessions``,
        by session id), at the moment they opened its room.

        The profile asks the same ``registration`` for every statement of a planned session, whoever sends
        it, and a ``sessionid`` for the room's run from ``initialized`` to ``terminated``: both are the
        session's id (derived from its slugs when it was made, ``lib.identity``), which never changes."""
        statements: list[tuple[Key, dict[str, Any]]] = []
        for found in sessions:
            obj = {
                "objectType": "Activity",
                "id": f"{self.base}/api/v1/webinars/{found.series_slug}/sessions/{found.session_slug}",
                "definition": {"type": CLASSROOM_ACTIVITY, "name": {"fr": found.title}},
            }
            context = {
                "registration": str(found.session_id),
                "contextActivities": {"category": [{"id": CLASSROOM, "definition": {"type": PROFILE}}]},
                # Ralph's model of this statement (5.1) requires the planned duration's key, typed as a date-time
                # where the registry has an ISO 8601 duration; the profile does not ask for it: null fits both.
                "extensions": {CMI5_SESSION_ID: str(found.session_id), PLANNED_DURATION: None},
            }
            statement = self._statement(f"session:{found.session_id}:joined", "joined", obj, None, context,
                                        found.attended_at)  # fmt: skip
            statements.append(((ATTENDED, found.session_id), statement))
        return statements


Union = dict[uuid.UUID, list[list[float]]]  # lesson id → the segments played, as ``segments.merge`` leaves them
CheckpointKey = tuple[uuid.UUID, int, datetime, uuid.UUID]  # learner, activity version, the event's (time, id)


class Checkpoints:
    """Where the previous page of an export ended: the union of the segments played before the next page's
    first event, per lesson.

    Each page's ``paused`` statements carry the segments played so far, so a page starts from the union of
    every event before it: PostgreSQL aggregates all of them (``played_before``), which in the last quarter
    of 100,000 events is 75,000 rows a page. A client following ``more`` asks next for exactly where the last
    page ended: that page leaves the union here, and the next one starts from it. The key holds the learner's
    activity version (``activity_version``), so an event stored since (even a late one, older than the page)
    makes the checkpoint unreachable. Bounded: the oldest go first; a miss only costs the query.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self._max_entries = max_entries
        self._unions: OrderedDict[CheckpointKey, Union] = OrderedDict()

    def __len__(self) -> int:
        return len(self._unions)

    def take(self, key: CheckpointKey) -> Union | None:
        """The union left for ``key``, as a copy (the caller may change it)."""
        found = self._unions.get(key)
        if found is None:
            return None
        self._unions.move_to_end(key)
        return {lesson: [list(s) for s in segments] for lesson, segments in found.items()}

    def leave(self, key: CheckpointKey, union: Union) -> None:
        self._unions[key] = union
        self._unions.move_to_end(key)
        while len(self._unions) > self._max_entries:
            self._unions.popitem(last=False)


def activity_version(progress: dict[uuid.UUID, m.LessonProgress]) -> int:
    """Changes whenever the learner stores an event: every stored event updates its lesson's progress row
    (``updated_at``, set by the ingestion statement)."""
    return hash(tuple(sorted((lesson, row.updated_at) for lesson, row in progress.items())))


def union_before(before: Union, events: list[PlayedEvent], end: tuple[datetime, uuid.UUID]) -> Union:
    """``before`` (every lesson's union before ``events[0]``) extended by the events before ``end``."""
    union = {lesson: [list(s) for s in segments] for lesson, segments in before.items()}
    for event in events:
        if (event.client_time, event.id) >= end:
            break
        add(union.setdefault(event.lesson_id, []), float(event.start_seconds or 0), float(event.end_seconds or 0))
    return union


def _interaction(quiz_id: str, question: dict[str, Any]) -> dict[str, Any]:
    """A quiz question as an xAPI cmi.interaction activity (choice or fill-in, with its correct responses)."""
    definition: dict[str, Any] = {"type": INTERACTION, "name": {"fr": question["prompt"]}}
    if question["kind"] == "text":
        definition["interactionType"] = "fill-in"
        definition["correctResponsesPattern"] = list(question["accepted"])
    else:
        definition["interactionType"] = "choice"
        definition["correctResponsesPattern"] = [
            "[,]".join(choice["id"] for choice in question["choices"] if choice["correct"])
        ]
        definition["choices"] = [
            {"id": choice["id"], "description": {"fr": choice["text"]}} for choice in question["choices"]
        ]
    return {"objectType": "Activity", "id": f"{quiz_id}#{question['id']}", "definition": definition}
