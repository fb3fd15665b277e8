"""The short way for the commonest media requests, in front of the framework.

Podcast apps open every episode with ``Range: bytes=0-1`` and players re-read small ranges; for an asset
already in the cache, on the local store, such an answer needs no routing, dependency or response object.
This ASGI layer answers exactly those requests (a small range already in memory, or a 304) with headers
encoded once per asset, and hands everything else — unknown assets, big ranges, S3, errors — to the
Litestar route, which gives the same answers the long way (the same tests run through both).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from learning.lib.clock import utcnow
from learning.lib.http_ranges import Outcome
from learning.media.delivery import IMMUTABLE, Deliverable, MediaDelivery
from learning.storage.local import LocalStore

PREFIX = "/media/"


class _Headers(Mapping[str, str]):
    """The request's headers, looked up by lower-case name (what ``evaluate`` reads)."""

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._values = {key.decode("latin-1"): value.decode("latin-1") for key, value in raw}

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _encoded(item: Deliverable) -> list[tuple[bytes, bytes]]:
    return [
        (b"accept-ranges", b"bytes"),
        (b"etag", item.etag.encode()),
        (b"last-modified", item.last_modified_http.encode()),
        (b"cache-control", IMMUTABLE.encode()),
    ]


class MediaFastPath:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state
        self._headers: dict[uuid.UUID, list[tuple[bytes, bytes]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith(PREFIX) or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        answer = self._answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body, counted = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        if counted is not None:
            counted()

    def _answer(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes, Any] | None:
        store = self.state.store
        if not isinstance(store, LocalStore) or self.state.settings.media_delivery.value != "stream":
            return None
        parts = scope["path"][len(PREFIX) :].split("/")
        if len(parts) != 2:
            return None
        try:
            asset_id = uuid.UUID(parts[0])
            item = MediaDelivery.cached(self.state.response_cache, asset_id, parts[1])
        except Exception:  # a malformed id or a wrong name: the route answers (404) the long way
            return None
        if item is None:
            return None
        headers = _Headers(scope["headers"])
        decision = MediaDelivery.decide("GET", headers, item)
        base = self._headers.get(item.id)
        if base is None:
            base = self._headers[item.id] = _encoded(item)
            if len(self._headers) > 4096:
                self._headers.clear()
        if decision.outcome is Outcome.NOT_MODIFIED:
            return 304, [h for h in base if h[0] != b"accept-ranges"], b"", None
        if decision.outcome is not Outcome.PARTIAL or len(decision.ranges) != 1:
            return None
        byte_range = decision.ranges[0]
        try:
            data = store.read_cached(item.storage_key, byte_range.start, byte_range.end)
        except Exception:  # missing file and the like: the route answers (503) the long way
            return None
        if data is None:
            return None
        response_headers = [
            *base,
            (b"content-range", byte_range.content_range(item.size).encode()),
            (b"content-type", item.mime_type.encode()),
            (b"content-length", str(len(data)).encode()),
        ]
        counted = None
        if (byte_range.start, byte_range.end) != (0, 1):  # probes never count
            counted = self._counter(scope, headers, item, byte_range.start, byte_range.end)
        return 206, response_headers, data, counted

    def _counter(self, scope: Scope, headers: Mapping[str, str], item: Deliverable, start: int, end: int) -> Any:
        client = scope.get("client")

        def count() -> None:
            self.state.downloads.record(
                item.id,
                size_bytes=item.size,
                duration_seconds=item.duration_seconds,
                client_ip=client[0] if client else "",
                user_agent=headers.get("user-agent", ""),
                method="GET",
                ranges=[(start, end)],
                at=utcnow(),
            )

        return count
