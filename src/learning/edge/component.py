"""The edge: the one component in front of Litestar that answers from ready answers.

A GET or HEAD whose answer is in the store (``edge/answers.py``) is answered here, with the planning and
headers of ``edge/respond.py`` that the routes use too: a rendered document (200 in the encoding asked for,
or 304); for a known media asset, its 304, a small range already in memory (local store), a range up to
2 MiB read on a worker thread (local store: what seeking players ask), or in redirect mode the 302 to a
presigned URL. Everything else — misses, 412 and 416, longer ranges, requests that CORS must see —
goes to the app, whose routes produce the answer and hand it to the store.

It fails open: an exception while planning is logged once (type and redacted path, nothing the client
sent) and the request falls through to the app. Every answer sent here carries ``X-Answered-By: edge``,
and the access log says which path answered (``answered_by``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from litestar import HttpMethod, Litestar
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from learning.edge.answers import DEFAULT_MAX_BYTES, AnswerStore, Deliverable, media_key
from learning.edge.headers import Answer
from learning.edge.hub import CATALOG, NotifyHub
from learning.edge.keys import EDGE_QUERY
from learning.edge.respond import (
    document_answer,
    media_decision,
    media_not_modified,
    media_partial,
    media_redirect,
    requested_ranges,
)
from learning.lib.http_ranges import ByteRange, Outcome
from learning.lib.logging import ANSWERED_BY, redact_path
from learning.storage import ObjectNotFound, RangeNotSatisfiable
from learning.storage.local import SINGLE_READ_LIMIT, LocalStore

logger = logging.getLogger("learning.edge")

MEDIA_PREFIX = "/media/"
MARKER = (b"x-answered-by", b"edge")
CountDownload = Callable[[Deliverable, str, str, list[tuple[int, int]]], None]  # item, client ip, agent, ranges


@dataclass(frozen=True, slots=True)
class _Counted:
    item: Deliverable
    ranges: list[tuple[int, int]]
    user_agent: str


@dataclass(frozen=True, slots=True)
class _Read:
    """A range of a local object to read (off the loop) before the answer can go out."""

    item: Deliverable
    byte_range: ByteRange


@dataclass(frozen=True, slots=True)
class _Planned:
    answer: Answer | _Read
    counted: _Counted | None = None


class Edge:
    """Ready answers (``answers``), the notification hub that invalidates them (``hub``), and the ASGI layer
    (``wrap``) that serves them. Built once in ``create_app``."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        media_store: LocalStore | None = None,
        presign: Callable[[Deliverable], str] | None = None,
        count_download: CountDownload | None = None,
        cors: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.hub = NotifyHub()
        self.answers = AnswerStore(listening=lambda: self.hub.active, max_bytes=max_bytes)
        self.hub.subscribe(CATALOG, self.answers.invalidate)
        self.enabled = enabled
        self._media_store = media_store  # only a local store in stream mode serves ranges from memory
        self._presign = presign  # redirect mode: a 302 to a presigned URL
        self._count_download = count_download
        self._cors = cors  # with CORS configured, a request with Origin goes to the app's CORS layer

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _EdgeLayer(app, self)

    def learn_routes(self, app: Litestar) -> None:
        """The routes whose answers are kept, and the query parameters each reads (``opt[EDGE_QUERY]``): the
        keys of the edge's lookups and of the routes' stores (``edge/keys.py``). Called once the app is built."""
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            for handler in route.route_handlers:
                if EDGE_QUERY in handler.opt and HttpMethod.GET in handler.http_methods:
                    self.answers.keys.declare(route.path, handler.opt[EDGE_QUERY])

    def plan(self, scope: Scope) -> _Planned | None:
        """The answer to send for this request, or None to let the app answer."""
        method = scope.get("method")
        if method not in {"GET", "HEAD"}:
            return None
        headers = _headers(scope)
        if self._cors and "origin" in headers:
            return None
        path: str = scope["path"]
        if path.startswith(MEDIA_PREFIX):
            return self._plan_media(path, method, headers, scope)
        key = self.answers.key(path, scope.get("query_string", b""))
        rendered = None if key is None else self.answers.lookup(key)
        if rendered is None:
            return None
        answer = document_answer(rendered, method, headers)
        return _Planned(answer) if isinstance(answer, Answer) else None

    def _plan_media(self, path: str, method: str, headers: Mapping[str, str], scope: Scope) -> _Planned | None:
        asset, _, filename = path[len(MEDIA_PREFIX) :].partition("/")
        try:
            asset_id = uuid.UUID(asset)
        except ValueError:
            return None  # the route answers 404
        item = self.answers.peek(media_key(asset_id))
        if not isinstance(item, Deliverable) or item.filename != filename:
            return None
        agent = headers.get("user-agent", "")
        if self._presign is not None:
            ranges = requested_ranges(method, headers, item.size)
            return _Planned(media_redirect(self._presign(item)), _Counted(item, ranges, agent) if ranges else None)
        decision = media_decision(item, method, headers)
        if decision.outcome is Outcome.NOT_MODIFIED:
            return _Planned(media_not_modified(item))
        if self._media_store is None or decision.outcome is not Outcome.PARTIAL or len(decision.ranges) != 1:
            return None
        byte_range = decision.ranges[0]
        try:
            data = self._media_store.read_cached(item.storage_key, byte_range.start, byte_range.end)
        except (ObjectNotFound, RangeNotSatisfiable, OSError):
            return None  # the route answers (503) and logs it
        served = [(byte_range.start, byte_range.end)]
        counted = None if served == [(0, 1)] else _Counted(item, served, agent)  # probes never count
        if data is not None:
            return _Planned(media_partial(item, byte_range, data), counted)
        if byte_range.length > SINGLE_READ_LIMIT:
            return None  # the route streams it in bounded chunks
        return _Planned(_Read(item, byte_range), counted)

    async def read(self, planned: _Read) -> Answer | None:
        """The 206 of a range read now on a worker thread; None when it cannot be read whole (the route then
        answers, 503 or 404, and logs why)."""
        item, byte_range = planned.item, planned.byte_range
        if self._media_store is None:
            return None
        try:
            data = await self._media_store.read_range(item.storage_key, byte_range.start, byte_range.end)
        except (ObjectNotFound, OSError):
            return None
        return media_partial(item, byte_range, data) if len(data) == byte_range.length else None

    def count(self, scope: Scope, counted: _Counted) -> None:
        """Hand a range served here to the download counter."""
        if self._count_download is not None:
            client = scope.get("client")
            self._count_download(counted.item, client[0] if client else "", counted.user_agent, counted.ranges)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name; the first of repeated ones, as the framework reads them."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


class _EdgeLayer:
    def __init__(self, app: ASGIApp, edge: Edge) -> None:
        self.app = app
        self.edge = edge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not self.edge.enabled:
            await self.app(scope, receive, send)
            return
        try:
            planned = self.edge.plan(scope)
        except Exception as exc:  # fail open: the app answers, and says what is wrong with the request
            logger.warning(
                "edge failed open", extra={"fields": {"error": type(exc).__name__, "path": redact_path(scope["path"])}}
            )
            planned = None
        if planned is None:
            await self.app(scope, receive, send)
            return
        answer = planned.answer
        if isinstance(answer, _Read):
            read = await self.edge.read(answer)
            if read is None:
                await self.app(scope, receive, send)
                return
            answer = read
        scope.setdefault("state", {})[ANSWERED_BY] = "edge"
        await send({"type": "http.response.start", "status": answer.status, "headers": [*answer.headers, MARKER]})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})
        if planned.counted is not None:
            self.edge.count(scope, planned.counted)
