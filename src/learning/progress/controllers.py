"""The learner's own enrollments: ``/api/v1/me/enrollments`` (a learner only ever sees their own)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.auth import CurrentUser
from learning.db import models as m
from learning.lib.guards import requires_json_body
from learning.progress.repositories import EnrollmentRepository
from learning.progress.schemas import EnrollmentCreate, EnrollmentRead
from learning.progress.services import EnrollmentService


def provide_enrollment_service(db_session: NamedDependency[AsyncSession]) -> EnrollmentService:
    return EnrollmentService(EnrollmentRepository(db_session))


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

    @post("/", operation_id="Enroll", status_code=HTTP_201_CREATED, opt={"problems": [404]})
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
