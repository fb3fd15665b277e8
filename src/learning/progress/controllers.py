"""The learner's own enrollments: ``/api/v1/me/enrollments`` (a learner only ever sees their own)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from learning.accounts.auth import CurrentUser
from learning.db import models as m
from learning.lib.guards import requires_json_body
from learning.progress.deps import provide_enrollment_service, provide_progress_service, requires_minute_quota_left
from learning.progress.events import Event, ModuleProgress, ProgressService, resume_point
from learning.progress.repositories import LessonFacts, ProgressState
from learning.progress.schemas import (
    XAPI_DEFAULT_LIMIT,
    XAPI_MAX_LIMIT,
    BatchRead,
    EnrollmentCreate,
    EnrollmentRead,
    EventBatch,
    LessonProgressRead,
    LessonState,
    LessonStatus,
    ModuleProgressRead,
    XapiCursor,
    XapiLimit,
    XapiStatements,
    statement_result,
)
from learning.progress.services import EnrollmentService


def _read(enrollment: m.Enrollment, module: m.Module) -> EnrollmentRead:
    return EnrollmentRead(
        module=module.slug, title=module.title, registration=enrollment.registration, status=enrollment.status,
        enrolled_at=enrollment.enrolled_at,
    )  # fmt: skip


class EnrollmentController(Controller):
    path = "/api/v1/me/enrollments"
    tags = ["progress"]
    guards = [requires_json_body]
    dependencies = {"enrollments": Provide(provide_enrollment_service, sync_to_thread=False)}

    @post(
        "/", operation_id="Enroll", status_code=HTTP_201_CREATED, opt={"problems": [403, 404]},
        responses={
            HTTP_200_OK: ResponseSpec(EnrollmentRead, description="Already enrolled: the enrollment you have",
                                      generate_examples=False),
        },
    )  # fmt: skip
    async def enroll(
        self,
        data: JSONBody[EnrollmentCreate],
        request: Request[CurrentUser, Any, Any],
        enrollments: NamedDependency[EnrollmentService],
    ) -> Response[EnrollmentRead]:
        """Enroll in a published module (201), or find the enrollment you already have (200)."""
        enrollment, module, created = await enrollments.enroll(request.user.id, data.module)
        return Response(_read(enrollment, module), status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/", operation_id="ListEnrollments")
    async def list_enrollments(
        self, request: Request[CurrentUser, Any, Any], enrollments: NamedDependency[EnrollmentService]
    ) -> list[EnrollmentRead]:
        """Your current enrollments."""
        return [_read(enrollment, module) for enrollment, module in await enrollments.active(request.user.id)]

    @delete("/{module_slug:str}", operation_id="Unenroll")
    async def unenroll(
        self,
        module_slug: FromPath[str],
        request: Request[CurrentUser, Any, Any],
        enrollments: NamedDependency[EnrollmentService],
    ) -> None:
        """Unenroll; your history is kept and comes back if you enroll again."""
        await enrollments.withdraw(request.user.id, module_slug)


def _progress_read(lesson: m.Lesson | LessonFacts, row: m.LessonProgress | ProgressState | None) -> LessonProgressRead:
    duration = lesson.duration_seconds or 0
    watched = row.watched_seconds if row else 0.0
    resume_at, go_next = resume_point(row.position_seconds if row else None, duration)
    return LessonProgressRead(
        lesson_id=lesson.id, duration_seconds=duration, position_seconds=row.position_seconds if row else None,
        resume_at_seconds=resume_at, watched_seconds=round(watched, 3),
        coverage_percent=round(min(100.0, 100 * watched / duration), 1) if duration else 0.0,
        completed=bool(row and row.completed), go_to_next=go_next,
    )  # fmt: skip


def _module_read(found: ModuleProgress) -> ModuleProgressRead:
    statuses = []
    for lesson, row in found.lessons:
        view = _progress_read(lesson, row)
        state: LessonState = "completed" if view.completed else "in_progress" if row is not None else "not_started"
        statuses.append(
            LessonStatus(lesson_id=lesson.id, slug=lesson.slug, title=lesson.title, status=state,
                         coverage_percent=view.coverage_percent, resume_at_seconds=view.resume_at_seconds)
        )  # fmt: skip
    enrollment = found.enrollment
    active = enrollment is not None and enrollment.status is m.EnrollmentStatus.ACTIVE
    return ModuleProgressRead(
        module=found.module.slug, title=found.module.title, enrolled=active,
        registration=enrollment.registration if enrollment else None, percent_complete=found.percent_complete,
        next_lesson=found.next_lesson.slug if found.next_lesson else None, lessons=statuses,
    )  # fmt: skip


class ProgressController(Controller):
    path = "/api/v1/me/progress"
    tags = ["progress"]
    guards = [requires_json_body]
    dependencies = {"progress": Provide(provide_progress_service, sync_to_thread=False)}

    @post(
        "/events", operation_id="RecordProgressEvents", status_code=HTTP_200_OK,
        guards=[requires_minute_quota_left], opt={"problems": [403, 409, 429]},
    )  # fmt: skip
    async def record(
        self,
        data: JSONBody[EventBatch],
        request: Request[CurrentUser, Any, Any],
        progress: NamedDependency[ProgressService],
    ) -> BatchRead:
        """Record a batch of events: all applied or none (422/403/409); replays are skipped."""
        events = [
            Event(id=e.id, kind=m.EventKind(e.type), lesson_id=e.lesson_id, client_time=e.client_time,
                  start=e.start, end=e.to, position=e.position)
            for e in data.events
        ]  # fmt: skip
        result = await progress.record(request.user.id, events)
        return BatchRead(
            applied=result.applied,
            replayed=result.replayed,
            lessons=[_progress_read(lesson, row) for lesson, row in result.lessons],
        )

    @get("/lessons/{lesson_id:uuid}", operation_id="GetLessonProgress")
    async def lesson(
        self,
        lesson_id: FromPath[uuid.UUID],
        request: Request[CurrentUser, Any, Any],
        progress: NamedDependency[ProgressService],
    ) -> LessonProgressRead:
        """Where to resume this lesson, how much of it you watched, whether it is completed."""
        return _progress_read(*await progress.lesson(request.user.id, lesson_id))

    @get("/modules/{module_slug:str}", operation_id="GetModuleProgress")
    async def module(
        self,
        module_slug: FromPath[str],
        request: Request[CurrentUser, Any, Any],
        progress: NamedDependency[ProgressService],
    ) -> ModuleProgressRead:
        """Each lesson's state, the module's share completed and the next lesson to take."""
        return _module_read(await progress.module(request.user.id, module_slug))

    @get("/", operation_id="GetProgressOverview")
    async def overview(
        self, request: Request[CurrentUser, Any, Any], progress: NamedDependency[ProgressService]
    ) -> list[ModuleProgressRead]:
        """Progress in every module you are enrolled in."""
        return [_module_read(found) for found in await progress.overview(request.user.id)]


class XapiController(Controller):
    path = "/api/v1/me/xapi"
    tags = ["progress"]
    dependencies = {"progress": Provide(provide_progress_service, sync_to_thread=False)}

    @get("/statements", operation_id="GetMyXapiStatements", opt={"problems": [400, 429]})
    async def statements(
        self,
        request: Request[CurrentUser, Any, Any],
        progress: NamedDependency[ProgressService],
        state: State,
        limit: XapiLimit = XAPI_DEFAULT_LIMIT,
        cursor: XapiCursor = None,
    ) -> XapiStatements:
        """Your activity as xAPI 1.0.3 statements (ADL video profile; cmi5-style for lessons and modules; the
        virtual-classroom profile's `joined` for the webinar sessions you came to), a page at a time: follow
        `more` until it is empty."""
        limit = limit or XAPI_MAX_LIMIT
        page, following = await progress.statements(
            request.user.id, state.settings.base_url, limit=limit, cursor=cursor, caller=request.user.id
        )
        return statement_result(page, following, f"{self.path}/statements", limit)
