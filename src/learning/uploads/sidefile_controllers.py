"""Side files of webinar sessions and lessons: ``PUT`` the raw file to attach it (replacing the previous
one), ``DELETE`` to detach it. ``{kind}`` is ``artwork`` (image/jpeg, image/png; 10 MiB), ``transcript``
(text/vtt, application/x-subrip, text/plain; 2 MiB) or ``chapters`` (application/json+chapters,
application/json; 1 MiB); another kind is a 400. Admin only."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, delete, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from learning.accounts.auth import requires_admin
from learning.db import models as m
from learning.lib.openapi import raw_body
from learning.lib.streams import content_length, request_body
from learning.media.urls import media_url
from learning.uploads.deps import provide_side_file_service
from learning.uploads.sidefile_services import RULES, SideFileKind, SideFileService, SideFileTarget

SESSION_FILE = "/webinars/{series_slug:str}/sessions/{session_slug:str}/files/{kind:str}"
LESSON_FILE = "/modules/{module_slug:str}/lessons/{lesson_slug:str}/files/{kind:str}"
SIDE_FILE_BODY = raw_body(
    *sorted({media_type for rule in RULES.values() for media_type in rule.content_types}),
    description="The file itself, in a media type its kind accepts (415 otherwise).",
)
PUT_PROBLEMS = {"problems": [404, 413, 415, 422], "request_body": SIDE_FILE_BODY}


_BROKEN = "The connection broke during the upload; send the file again."


class SideFileRead(msgspec.Struct):
    """The stored file: its asset, stable URL, real type and size (and pixel size for artwork)."""

    id: uuid.UUID
    kind: SideFileKind
    url: str
    mime_type: str
    size_bytes: int
    sha256: str | None
    width: int | None
    height: int | None


class SideFileController(Controller):
    path = "/api/v1/admin"
    tags = ["uploads"]
    guards = [requires_admin]
    dependencies = {"side_files": Provide(provide_side_file_service, sync_to_thread=False)}

    async def _attach(
        self, request: Request[Any, Any, Any], target: SideFileTarget, kind: SideFileKind, service: SideFileService
    ) -> SideFileRead:
        asset = await service.attach(
            target,
            kind,
            content_type=request.headers.get("content-type"),
            content_length=content_length(request),
            body=request_body(request, when_broken=_BROKEN),
        )
        return _read(asset, kind, request.app.state.settings.base_url)

    @put(SESSION_FILE, operation_id="AttachWebinarSessionFile", request_max_body_size=None, opt=PUT_PROBLEMS)
    async def attach_session_file(
        self,
        request: Request[Any, Any, Any],
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        kind: FromPath[SideFileKind],
        side_files: NamedDependency[SideFileService],
    ) -> SideFileRead:
        """Attach the session's artwork, transcript or chapters (the body is the file), replacing any."""
        target = SideFileTarget(m.UploadTarget.WEBINAR_SESSION, series_slug, session_slug)
        return await self._attach(request, target, kind, side_files)

    @delete(SESSION_FILE, operation_id="DetachWebinarSessionFile", status_code=HTTP_204_NO_CONTENT)
    async def detach_session_file(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        kind: FromPath[SideFileKind],
        side_files: NamedDependency[SideFileService],
    ) -> None:
        """Detach the session's file of this kind (nothing attached is not an error)."""
        await side_files.detach(SideFileTarget(m.UploadTarget.WEBINAR_SESSION, series_slug, session_slug), kind)

    @put(LESSON_FILE, operation_id="AttachLessonFile", request_max_body_size=None, opt=PUT_PROBLEMS)
    async def attach_lesson_file(
        self,
        request: Request[Any, Any, Any],
        module_slug: FromPath[str],
        lesson_slug: FromPath[str],
        kind: FromPath[SideFileKind],
        side_files: NamedDependency[SideFileService],
    ) -> SideFileRead:
        """Attach the lesson's artwork, transcript or chapters (the body is the file), replacing any."""
        target = SideFileTarget(m.UploadTarget.LESSON, module_slug, lesson_slug)
        return await self._attach(request, target, kind, side_files)

    @delete(LESSON_FILE, operation_id="DetachLessonFile", status_code=HTTP_204_NO_CONTENT)
    async def detach_lesson_file(
        self,
        module_slug: FromPath[str],
        lesson_slug: FromPath[str],
        kind: FromPath[SideFileKind],
        side_files: NamedDependency[SideFileService],
    ) -> None:
        """Detach the lesson's file of this kind (nothing attached is not an error)."""
        await side_files.detach(SideFileTarget(m.UploadTarget.LESSON, module_slug, lesson_slug), kind)


def _read(asset: m.MediaAsset, kind: SideFileKind, base_url: str) -> SideFileRead:
    return SideFileRead(
        id=asset.id, kind=kind, url=media_url(base_url, asset), mime_type=asset.mime_type,
        size_bytes=asset.size_bytes, sha256=asset.sha256, width=asset.width, height=asset.height,
    )  # fmt: skip
