"""The answer of a media URL, shared by the public media route and a private feed's media route.

*stream* mode serves the bytes with full RFC 9110 range and conditional semantics, reading the object
store in bounded chunks (constant memory), and hands whole local files to the server for zero-copy
sending where it offers ``http.response.pathsend``. *redirect* mode (S3) answers 302 to a short-lived
presigned URL and lets the object store serve the bytes. ``MEDIA_RESPONSES`` and ``MEDIA_REQUEST_HEADERS``
document such a route in OpenAPI.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.enums import ASGIExtension
from litestar.openapi.datastructures import ResponseSpec
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from learning.config import MediaDelivery as DeliveryMode
from learning.edge import Deliverable
from learning.edge.respond import (
    media_decision,
    media_headers,
    media_not_modified,
    media_problem,
    media_redirect,
    requested_ranges,
    respond,
)
from learning.lib.errors import problem_response
from learning.lib.http_ranges import ByteRange, Decision, Outcome
from learning.lib.openapi import CONDITIONAL_HEADERS, RANGE_HEADERS, no_content
from learning.media.delivery import count_download, presigned_location
from learning.storage import ObjectNotFound, ObjectStore, StorageUnavailable
from learning.storage.local import LocalStore

logger = logging.getLogger("learning.media")


class _MediaBody(ASGIResponse):
    """Sends the decided bytes: one range, several (multipart/byteranges) or the whole object."""

    __slots__ = ("_boundary", "_item", "_local_path", "_ranges", "_store")

    def __init__(
        self,
        *,
        item: Deliverable,
        store: ObjectStore,
        ranges: tuple[ByteRange, ...],
        boundary: str | None,
        local_path: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._item = item
        self._store = store
        self._ranges = ranges
        self._boundary = boundary
        self._local_path = local_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The first bytes are fetched before the status line goes out, so an unreachable store is a
        # clean 503 rather than a truncated 200.
        try:
            if self.is_head_response:
                await self._store.stat(self._item.storage_key)
                first, rest = b"", None
            elif self._local_path and ASGIExtension.PATH_SEND in (scope.get("extensions") or {}):
                await self._store.stat(self._item.storage_key)
                await self.start_response(send)
                await send({"type": "http.response.pathsend", "path": self._local_path})  # type: ignore[arg-type]
                await self.after_response()
                return
            else:
                rest = self._chunks()
                first = await anext(rest, b"")
        except (StorageUnavailable, ObjectNotFound) as exc:
            logger.warning("media %s unavailable: %s", self._item.id, type(exc).__name__)
            failure = problem_response(503, detail="The media store is unavailable; try again shortly.",
                                       headers={"Retry-After": "5"})  # fmt: skip
            await failure.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
            return
        await self.start_response(send)
        if rest is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            async for chunk in rest:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        await self.after_response()

    async def _chunks(self) -> AsyncIterator[bytes]:
        item = self._item
        if self._boundary is None:
            for byte_range in self._ranges:
                async for chunk in self._store.read(item.storage_key, byte_range.start, byte_range.end):
                    yield chunk
            return
        for byte_range in self._ranges:
            yield _part_header(self._boundary, item, byte_range)
            async for chunk in self._store.read(item.storage_key, byte_range.start, byte_range.end):
                yield chunk
            yield b"\r\n"
        yield f"--{self._boundary}--\r\n".encode()


def _part_header(boundary: str, item: Deliverable, byte_range: ByteRange) -> bytes:
    return (
        f"--{boundary}\r\nContent-Type: {item.mime_type}\r\n"
        f"Content-Range: {byte_range.content_range(item.size)}\r\n\r\n"
    ).encode()


def _multipart_length(boundary: str, item: Deliverable, ranges: tuple[ByteRange, ...]) -> int:
    total = sum(len(_part_header(boundary, item, r)) + r.length + 2 for r in ranges)
    return total + len(f"--{boundary}--\r\n")


class MediaResponse(Response[bytes]):
    """A response whose body comes from the object store, sent by ``_MediaBody``."""

    def __init__(
        self,
        item: Deliverable,
        decision: Decision,
        store: ObjectStore,
        *,
        local_path: str | None,
        background: BackgroundTask | None,
        private: bool = False,
    ) -> None:
        headers = {name.decode(): value.decode() for name, value in media_headers(item, private=private)}
        status = int(decision.outcome)
        super().__init__(b"", status_code=status, headers=headers, media_type=item.mime_type, background=background)
        self.item = item
        self.decision = decision
        self.store = store
        self.local_path = local_path

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        item, ranges = self.item, self.decision.ranges
        headers = dict(self.headers)
        boundary = None
        media_type = item.mime_type
        local_path = None
        if self.decision.outcome is Outcome.PARTIAL:
            if len(ranges) == 1:
                headers["content-range"] = ranges[0].content_range(item.size)
                length = ranges[0].length
                if length == item.size:  # "bytes=0-", what players send first: the whole file, zero-copy
                    local_path = self.local_path
            else:
                boundary = secrets.token_hex(16)
                media_type = f"multipart/byteranges; boundary={boundary}"
                length = _multipart_length(boundary, item, ranges)
        else:
            ranges = (ByteRange(0, item.size - 1),) if item.size else ()
            length = item.size
            local_path = self.local_path
        return _MediaBody(
            item=item,
            store=self.store,
            ranges=ranges,
            boundary=boundary,
            local_path=local_path,
            headers=headers,
            media_type=media_type,
            status_code=self.status_code,
            content_length=length,
            is_head_response=kwargs.get("is_head_response", False),
            background=self.background,
        )


# What a media URL answers besides problems; the bytes come in the asset's own media type.
MEDIA_RESPONSES: dict[int, ResponseSpec] = {
    200: ResponseSpec(bytes, media_type="*/*", description="The whole file (HEAD: its headers)",
                      generate_examples=False),
    206: ResponseSpec(bytes, media_type="*/*", description="One byte range, or several as multipart/byteranges",
                      generate_examples=False),
    302: no_content("Redirect mode: to a short-lived presigned URL of the object store"),
    304: no_content("Not modified: the client's copy is current"),
}  # fmt: skip
MEDIA_REQUEST_HEADERS = (*RANGE_HEADERS, *CONDITIONAL_HEADERS)


def respond_with_media(
    request: Request[Any, Any, Any], state: State, item: Deliverable, *, private: bool = False
) -> Response[Any]:  # fmt: skip
    """The media answer for a found asset (ranges, conditionals, HEAD, redirect mode, download counting);
    ``private``: a private feed's media (``Cache-Control: private``, no CORS)."""
    store: ObjectStore = state.store
    method = request.method
    settings = state.settings
    if settings.media_delivery is DeliveryMode.REDIRECT and store.supports_presigned_urls:
        _count(request, state, item, requested_ranges(method, request.headers, item.size))
        location = presigned_location(store, settings.presign_ttl_seconds, item)
        return respond(media_redirect(location, private=private))
    decision = media_decision(item, method, request.headers)
    if decision.outcome is Outcome.NOT_MODIFIED:
        return respond(media_not_modified(item, private=private))
    if decision.outcome in {Outcome.PRECONDITION_FAILED, Outcome.UNSATISFIABLE}:
        return media_problem(item, decision.outcome, private=private)
    served = [(r.start, r.end) for r in decision.ranges] or ([(0, item.size - 1)] if item.size else [])
    after = None
    if method == "GET" and served != [(0, 1)]:  # probes never count: do not even queue them
        # Counted once the body has gone out (a failed transfer is not a download); recording is an append.
        after = BackgroundTask(_count_async, request, state, item, served)
    local_path = _local_path(store, item.storage_key)
    return MediaResponse(item, decision, store, local_path=local_path, background=after, private=private)


@functools.lru_cache(maxsize=4096)
def _cached_path(root: str, key: str) -> str:
    return str(LocalStore(Path(root)).path_for(key))


def _local_path(store: ObjectStore, key: str) -> str | None:
    return _cached_path(str(store.root), key) if isinstance(store, LocalStore) else None


async def _count_async(
    request: Request[Any, Any, Any], state: State, item: Deliverable, ranges: list[tuple[int, int]]
) -> None:
    _count(request, state, item, ranges)


def _count(request: Request[Any, Any, Any], state: State, item: Deliverable, ranges: list[tuple[int, int]]) -> None:
    client_ip = request.client.host if request.client else ""
    count_download(state.downloads, item, client_ip, request.headers.get("user-agent", ""), ranges)
