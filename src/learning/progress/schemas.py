"""Bodies of the learner progress API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import QueryParameter

from learning.db import models as m
from learning.lib.pagination import CURSOR_PATTERN, more_link


class EnrollmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    module: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]


class EnrollmentRead(msgspec.Struct):
    module: str
    title: str
    registration: uuid.UUID
    status: m.EnrollmentStatus
    enrolled_at: datetime


# Seconds into the lesson's media, never negative. The schema documents the service's check (events.py:
# _shape_problem, with the rules between fields: a played segment needs from < to, both at most the lesson's
# duration); msgspec does not enforce it, so a refused batch still names every problem it has.
Seconds = Annotated[float, msgspec.Meta(extra_json_schema={"extra": {"minimum": 0}})]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One event: ``played`` (from, to), ``position`` (position) or ``completed``; ids come from the client."""

    id: uuid.UUID
    type: Literal["played", "position", "completed"]
    lesson_id: uuid.UUID
    client_time: datetime
    start: Annotated[Seconds, msgspec.Meta(description="played: where the segment starts, before `to`")] | None = (
        msgspec.field(default=None, name="from")
    )
    to: (
        Annotated[Seconds, msgspec.Meta(description="played: where the segment ends, at most the lesson's duration")]
        | None
    ) = None
    position: Annotated[Seconds, msgspec.Meta(description="position: at most the lesson's duration")] | None = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=500)]


class LessonProgressRead(msgspec.Struct):
    lesson_id: uuid.UUID
    duration_seconds: int
    position_seconds: float | None
    resume_at_seconds: float
    watched_seconds: float
    coverage_percent: float
    completed: bool
    go_to_next: bool


class BatchRead(msgspec.Struct):
    applied: int
    replayed: int
    lessons: list[LessonProgressRead]


LessonState = Literal["not_started", "in_progress", "completed"]


class LessonStatus(msgspec.Struct):
    lesson_id: uuid.UUID
    slug: str
    title: str
    status: LessonState
    coverage_percent: float
    resume_at_seconds: float


class ModuleProgressRead(msgspec.Struct):
    module: str
    title: str
    enrolled: bool
    registration: uuid.UUID | None
    percent_complete: float
    next_lesson: str | None
    lessons: list[LessonStatus]


class XapiStatements(msgspec.Struct):
    """An xAPI StatementResult: a page of statements and ``more``, the relative URL of the next page ("" after
    the last)."""

    statements: list[dict[str, Any]]
    more: str = ""


XAPI_DEFAULT_LIMIT = 100
XAPI_MAX_LIMIT = 500  # a page is built and encoded on the event loop: bounded whatever the learner stored

XapiLimit = Annotated[
    int,
    QueryParameter(ge=0, le=XAPI_MAX_LIMIT, description=f"Statements per page (0: the most, {XAPI_MAX_LIMIT})"),
]
XapiCursor = Annotated[
    str | None,
    QueryParameter(
        pattern=CURSOR_PATTERN, max_length=400, description="Where the page starts: from the previous page's `more`"
    ),
]


def statement_result(statements: list[dict[str, Any]], cursor: str | None, path: str, limit: int) -> XapiStatements:
    """A page of statements, with the link to the next one when there is one."""
    more = more_link(path, limit=limit, cursor=cursor) if cursor else ""
    return XapiStatements(statements=statements, more=more)
