"""tus 1.0.0 at ``/api/v1/admin/uploads/`` (core, creation, creation-with-upload, termination, expiration,
checksum) and the admin's view of uploads (state machine, errors, retry). Admin only."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, head, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from learning.accounts.auth import CurrentUser, requires_admin
from learning.db import models as m
from learning.lib.errors import EXCEPTION_HANDLERS, LearningError, problem_response
from learning.lib.http_ranges import http_date
from learning.lib.openapi import no_content, raw_body, request_header
from learning.lib.pagination import Page, PageRequest, provide_page_request
from learning.lib.streams import request_body
from learning.uploads.deps import provide_upload_service, provide_upload_transfers
from learning.uploads.services import BadUpload, UploadService, parse_metadata
from learning.uploads.transfers import Body, UploadTransfers

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_STREAM = "application/offset+octet-stream"
BASE = "/api/v1/admin/uploads"


_BROKEN = "The connection broke during the upload; resume from the offset HEAD reports."
MAX_DIGITS = 18  # every size below 10^18 bytes; a longer number is no size, and never reaches int()
_NUMBER = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")

# What the tus handlers read from the request themselves, for the OpenAPI document.
_TUS_RESUMABLE = request_header(
    "Tus-Resumable",
    Schema(type=OpenAPIType.STRING, enum=[TUS_VERSION]),
    "The tus version (412 otherwise).",
    required=True,
)
_SIZE = Schema(type=OpenAPIType.INTEGER, minimum=0, maximum=10**MAX_DIGITS - 1)
_UPLOAD_CHECKSUM = request_header(
    "Upload-Checksum",
    Schema(type=OpenAPIType.STRING),
    "``<sha1|md5|sha256> <base64 digest>`` of this request's bytes: 460 when they differ, nothing is kept.",
)
CREATE_HEADERS = (
    _TUS_RESUMABLE,
    request_header(
        "Upload-Length",
        Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=10**MAX_DIGITS - 1),
        "The file's size in bytes (ASCII digits).",
        required=True,
    ),
    request_header(
        "Upload-Metadata",
        Schema(type=OpenAPIType.STRING),
        "Comma-separated ``key base64value`` pairs: ``filename``, ``target`` (``session:<series>/<session>`` or "
        "``lesson:<module>/<lesson>``), optionally ``filetype`` and ``publish``.",
        required=True,
    ),
    _UPLOAD_CHECKSUM,
)
APPEND_HEADERS = (
    _TUS_RESUMABLE,
    request_header(
        "Upload-Offset",
        _SIZE,
        "Where these bytes go: the offset HEAD reports (ASCII digits).",
        required=True,
    ),
    _UPLOAD_CHECKSUM,
)
CREATE_BODY = raw_body(OFFSET_STREAM, description="The file's first bytes (creation-with-upload).", required=False)
APPEND_BODY = raw_body(OFFSET_STREAM, description="The next bytes of the file.")


class UploadRead(msgspec.Struct):
    id: uuid.UUID
    status: m.UploadStatus
    filename: str
    length: int
    offset: int
    target_kind: m.UploadTarget
    target_id: uuid.UUID
    publish_on_ready: bool
    error: str | None
    attempts: int
    asset_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


def _read(upload: m.Upload) -> UploadRead:
    return UploadRead(
        id=upload.id, status=upload.status, filename=upload.filename, length=upload.length, offset=upload.offset,
        target_kind=upload.target_kind, target_id=upload.target_id, publish_on_ready=upload.publish_on_ready,
        error=upload.error, attempts=upload.attempts, asset_id=upload.asset_id, created_at=upload.created_at,
        updated_at=upload.updated_at, expires_at=upload.expires_at,
    )  # fmt: skip


def _tus_headers(upload: m.Upload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers["Upload-Offset"] = str(upload.offset)
        headers["Upload-Length"] = str(upload.length)
        if upload.status is m.UploadStatus.UPLOADING:
            headers["Upload-Expires"] = http_date(upload.expires_at)
    return headers


async def requires_tus_version(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Every tus request but OPTIONS names the protocol version; another version gets 412."""
    if request.method != "OPTIONS" and request.headers.get("tus-resumable") != TUS_VERSION:
        return problem_response(
            412,
            detail=f"This server speaks tus {TUS_VERSION}: send 'Tus-Resumable: {TUS_VERSION}'.",
            headers={"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION},
        )
    return None


def _with_tus_header(handler: Any) -> Any:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        response: Response[Any] = handler(request, exc)
        response.headers["Tus-Resumable"] = TUS_VERSION
        return response

    return handle


def tus_number(value: str | None, name: str) -> int:
    """A numeric tus header: ASCII digits only (``²`` passes ``isdigit``), at most ``MAX_DIGITS`` of them."""
    if value is None or not _NUMBER.fullmatch(value):
        raise BadUpload(f"{name} is required: a whole number of bytes, at most {MAX_DIGITS} ASCII digits.")
    return int(value)


def _body(request: Request[Any, Any, Any]) -> Body:
    declared = request.headers.get("content-length")
    size = int(declared) if declared is not None and _NUMBER.fullmatch(declared) else None
    return Body(request_body(request, when_broken=_BROKEN), size)


def _check_stream_type(request: Request[Any, Any, Any]) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
        raise _UnsupportedStream(f"Upload data is sent as {OFFSET_STREAM}.")


class _UnsupportedStream(LearningError):
    status_code = 415
    title = "Unsupported media type"


class UploadController(Controller):
    path = BASE
    tags = ["uploads"]
    guards = [requires_admin]
    dependencies = {
        "uploads": Provide(provide_upload_service, sync_to_thread=False),
        "transfers": Provide(provide_upload_transfers, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }
    exception_handlers = {
        exc: _with_tus_header(handler) for exc, handler in EXCEPTION_HANDLERS.items() if not isinstance(exc, int)
    }

    # Litestar registers a controller's handlers in name order and adds its own OPTIONS handler to a path
    # as soon as one exists there: this one's name must sort before the other handlers of "/" to win.
    @route(
        "/", http_method="OPTIONS", operation_id="TusOptions", exclude_from_auth=True, status_code=HTTP_204_NO_CONTENT,
        responses={HTTP_204_NO_CONTENT: no_content("The capabilities, in Tus-* headers")}, opt={"no_database": True},
    )  # fmt: skip
    async def capabilities(self, state: State) -> Response[None]:
        """What this tus server supports (no credentials needed, as for any OPTIONS request)."""
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            headers={
                "Tus-Resumable": TUS_VERSION,
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": TUS_EXTENSIONS,
                "Tus-Max-Size": str(state.settings.upload_max_bytes),
                "Tus-Checksum-Algorithm": "sha1,md5,sha256",
            },
        )

    @post(
        "/", operation_id="CreateUpload", status_code=HTTP_201_CREATED, before_request=requires_tus_version,
        request_max_body_size=None, responses={HTTP_201_CREATED: no_content("Created: its URL in Location")},
        opt={
            "problems": [408, 409, 412, 413, 415, 422, 423, 460, 507], "request_headers": CREATE_HEADERS,
            "request_body": CREATE_BODY,
        },
    )  # fmt: skip
    async def create(
        self, request: Request[CurrentUser, Any, Any], transfers: NamedDependency[UploadTransfers], state: State
    ) -> Response[None]:
        """Create an upload (``Upload-Length``, ``Upload-Metadata``), optionally with its first bytes."""
        if request.headers.get("upload-defer-length"):
            raise BadUpload("Deferred lengths are not supported: send Upload-Length.")
        length = tus_number(request.headers.get("upload-length"), "Upload-Length")
        body = _body(request)
        with_bytes = bool(body.size) or bool(request.headers.get("content-type"))
        if with_bytes:
            _check_stream_type(request)  # before anything is created
        upload = await transfers.create(
            length=length,
            metadata=parse_metadata(request.headers.get("upload-metadata")),
            created_by=request.user.id,
            body=body if with_bytes else None,
            checksum_header=request.headers.get("upload-checksum"),
        )
        # The public address, never the request's Host header (a client could make it point anywhere).
        location = f"{state.settings.base_url}{BASE}/{upload.id}"
        return Response(None, status_code=HTTP_201_CREATED, headers=_tus_headers(upload) | {"Location": location})

    @head(
        "/{upload_id:uuid}", operation_id="UploadOffset", before_request=requires_tus_version,
        responses={200: no_content("The offset and length, in Upload-* headers")},
        opt={"problems": [412], "request_headers": [_TUS_RESUMABLE]},
    )  # fmt: skip
    async def offset(self, upload_id: FromPath[uuid.UUID], uploads: NamedDependency[UploadService]) -> Response[None]:
        """How many bytes the server holds (resume from there)."""
        upload = await uploads.current(upload_id)
        return Response(None, headers=_tus_headers(upload))

    @route(
        "/{upload_id:uuid}", http_method="PATCH", operation_id="AppendToUpload", before_request=requires_tus_version,
        request_max_body_size=None, status_code=HTTP_204_NO_CONTENT,
        responses={HTTP_204_NO_CONTENT: no_content("Appended: the new offset in Upload-Offset")},
        opt={
            "problems": [408, 409, 412, 413, 415, 423, 460, 507], "request_headers": APPEND_HEADERS,
            "request_body": APPEND_BODY,
        },
    )  # fmt: skip
    async def append(
        self,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        transfers: NamedDependency[UploadTransfers],
    ) -> Response[None]:
        """Append bytes at ``Upload-Offset``."""
        _check_stream_type(request)
        offset = tus_number(request.headers.get("upload-offset"), "Upload-Offset")
        upload = await transfers.append(upload_id, offset, _body(request), request.headers.get("upload-checksum"))
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=_tus_headers(upload))

    @delete(
        "/{upload_id:uuid}", operation_id="TerminateUpload", before_request=requires_tus_version,
        responses={HTTP_204_NO_CONTENT: no_content("Terminated: the bytes are gone")},
        opt={"problems": [409, 412], "request_headers": [_TUS_RESUMABLE]},
    )  # fmt: skip
    async def terminate(
        self, upload_id: FromPath[uuid.UUID], uploads: NamedDependency[UploadService]
    ) -> Response[None]:
        """Stop an upload and remove its bytes (tus termination)."""
        await uploads.terminate(upload_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Tus-Resumable": TUS_VERSION})

    @get("/", operation_id="ListUploads")
    async def list_uploads(
        self, uploads: NamedDependency[UploadService], page: NamedDependency[PageRequest]
    ) -> Page[UploadRead]:
        """Every upload, newest first, with its state (uploading → uploaded → processing → ready | failed)."""
        items, total = await uploads.listing(limit=page.limit, offset=page.offset)
        return Page(items=[_read(u) for u in items], total=total, limit=page.limit, offset=page.offset)

    @get("/{upload_id:uuid}", operation_id="GetUpload")
    async def get_upload(self, upload_id: FromPath[uuid.UUID], uploads: NamedDependency[UploadService]) -> UploadRead:
        """One upload's state, its error if it failed, and the resulting asset when ready."""
        return _read(await uploads.current(upload_id))

    @post("/{upload_id:uuid}/retry", operation_id="RetryUpload", opt={"problems": [409]})
    async def retry(self, upload_id: FromPath[uuid.UUID], uploads: NamedDependency[UploadService]) -> UploadRead:
        """Process a failed upload again."""
        return _read(await uploads.retry(upload_id))
