"""Rendered answers of the public catalog and feeds, kept in memory and validated against PostgreSQL.

Correct across several app processes: a trigger on the catalog tables sends ``NOTIFY learning_catalog``
when a transaction that changed them commits, and every process listens and drops its entries. While the
listening connection is down, nothing is served from the cache. Entries also end when the next scheduled
publication comes due, so scheduled content appears on time without a restart or a cron job.

Every answer carries a strong ETag computed from its bytes, so it changes exactly when the content does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar, cast

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from learning.lib.clock import utcnow

logger = logging.getLogger("learning.cache")

T = TypeVar("T")

CHANNEL = "learning_catalog"
SEARCH_PATH = "/api/v1/search"
RECONNECT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    media_type: str
    last_modified: str | None = None
    expires: datetime | None = None  # the answer changes by itself then (a live webinar starts, say)
    cache_control: str | None = None  # instead of the cache's default
    gzipped: bytes | None = None  # the same body gzip-compressed once, for clients that accept it

    def variant(self, request: Request[Any, Any, Any]) -> tuple[bytes, str, bool]:
        """The body, ETag and whether it is gzip-encoded, as this request should get them."""
        if self.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
            return self.gzipped, gzip_etag(self.etag), True
        return self.body, self.etag, False


def compressed(body: bytes) -> bytes:
    """gzip, deterministic (no timestamp): the same content always gives the same bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def gzip_etag(etag: str) -> str:
    """A strong ETag names one representation: the gzip-encoded one gets its own."""
    return etag[:-1] + '-gz"'


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip (RFC 9110 §12.5.3; ``q=0`` refuses it)."""
    if not header:
        return False
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "x-gzip", "*"}:
            weight = params.strip().lower()
            return not (weight.startswith("q=") and float(weight[2:] or 0) == 0)
    return False


def not_modified_since(header: str | None, last_modified: str | None) -> bool:
    """If-Modified-Since comparison (RFC 9110 §13.1.3); an unparsable date is ignored."""
    if not header or not last_modified:
        return False
    try:
        since, modified = parsedate_to_datetime(header), parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None or modified.tzinfo is None:
        return False
    return modified <= since


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match comparison (weak comparison, as RFC 9110 asks for this header)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in candidates


class ResponseCache:
    def __init__(self, *, max_entries: int = 2048, max_search_entries: int = 512, max_age_seconds: int = 30) -> None:
        # Searches get their own, smaller space: a flood of distinct queries cannot evict the catalog.
        self._entries: OrderedDict[str, Rendered] = OrderedDict()
        self._searches: OrderedDict[str, Rendered] = OrderedDict()
        self._max_search_entries = max_search_entries
        self._values: dict[str, object] = {}
        self._max_entries = max_entries
        self.cache_control = f"public, max-age={max_age_seconds}"
        self._generation = 0
        self._listening = False
        self._horizon: datetime | None = None  # next scheduled publication, when known
        self._horizon_known = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._also: dict[str, Callable[[], None]] = {}

    def also_listen(self, channel: str, changed: Callable[[], None]) -> None:
        """Share the listening connection: call ``changed`` on each NOTIFY on ``channel``, and whenever the
        connection is made or lost (anything may have changed meanwhile). Register before ``start``."""
        self._also[channel] = changed

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self, dsn: str) -> None:
        """Listen for catalog changes in the background (reconnecting when the connection drops)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._listen_forever(dsn), name="catalog-cache-listener")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.invalidate()

    async def _listen_forever(self, dsn: str) -> None:
        while not self._stopping.is_set():
            lost = asyncio.Event()
            connection: Any = None
            try:
                connection = await asyncpg.connect(dsn, timeout=5)
                connection.add_termination_listener(lambda _, event=lost: event.set())
                await connection.add_listener(CHANNEL, lambda *_: self.invalidate())
                for channel, changed in self._also.items():
                    await connection.add_listener(channel, lambda *_, call=changed: call())
                self._changed_everywhere()  # anything may have changed while we were not listening
                self._listening = True
                await lost.wait()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                logger.warning("catalog cache listener unavailable: %s", type(exc).__name__)
            finally:
                self._listening = False
                self._changed_everywhere()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RECONNECT_SECONDS)

    def _changed_everywhere(self) -> None:
        self.invalidate()
        for changed in self._also.values():
            changed()

    # --- entries --------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._searches.clear()
        self._values.clear()
        self._horizon_known = False

    @property
    def generation(self) -> int:
        """Take it before reading the database; ``store`` refuses the answer if content changed since."""
        return self._generation

    def store(self, key: str, value: Rendered, generation: int) -> None:
        self._put(key, value, generation)

    @property
    def active(self) -> bool:
        return self._listening

    def peek(self, key: str) -> object | None:
        """A stored value, without producing one."""
        return self._values.get(key)

    async def value(self, key: str, produce: Callable[[], Awaitable[T | None]]) -> T | None:
        """A cached value (a database row's immutable snapshot, say); misses (None) are not stored."""
        cached = self._values.get(key)
        if cached is not None:
            return cast("T", cached)
        generation = self._generation
        value = await produce()
        if value is not None and generation == self._generation and self._listening:
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = value
        return value

    def _space(self, key: str) -> tuple[OrderedDict[str, Rendered], int]:
        if key.startswith(SEARCH_PATH):
            return self._searches, self._max_search_entries
        return self._entries, self._max_entries

    def lookup(self, key: str) -> Rendered | None:
        """The stored answer for ``key``, if any (and still valid)."""
        if self._horizon is not None and utcnow() >= self._horizon:
            self.invalidate()
            self._horizon = None
        entries, _ = self._space(key)
        entry = entries.get(key)
        if entry is not None:
            if entry.expires is not None and utcnow() >= entry.expires:
                del entries[key]
                return None
            entries.move_to_end(key)
        return entry

    def _put(self, key: str, value: Rendered, generation: int) -> None:
        if generation != self._generation or not self._listening:
            return  # the content changed while this answer was being built
        entries, limit = self._space(key)
        entries[key] = value
        if len(entries) > limit:
            entries.popitem(last=False)

    async def rendered(
        self,
        key: str,
        produce: Callable[[], Awaitable[Rendered]],
        horizon: Callable[[], Awaitable[datetime | None]] | None = None,
    ) -> Rendered:
        """The cached answer for ``key``, or a fresh one from ``produce`` (stored when still valid)."""
        cached = self.lookup(key)
        if cached is not None:
            return cached
        generation = self._generation
        value = await produce()
        if horizon is not None and not self._horizon_known:
            self._horizon = await horizon()
            self._horizon_known = True
        self._put(key, value, generation)
        return value

    # --- HTTP -----------------------------------------------------------------------------------
    def respond(self, request: Request[Any, Any, Any], rendered: Rendered) -> Response[bytes]:
        body, etag, gzipped = rendered.variant(request)
        headers = {"ETag": etag, "Cache-Control": rendered.cache_control or self.cache_control}
        if rendered.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if rendered.last_modified:
            headers["Last-Modified"] = rendered.last_modified
        if is_not_modified(request, etag, rendered.last_modified):
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=rendered.media_type, headers=headers)


def is_not_modified(request: Request[Any, Any, Any], etag: str, last_modified: str | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since (GET and HEAD)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    return not_modified_since(request.headers.get("if-modified-since"), last_modified)


def render_json(value: Any) -> Rendered:
    body = msgspec.json.encode(value)
    return Rendered(body, strong_etag(body), "application/json")


def cache_key(request: Request[Any, Any, Any]) -> str:
    """The path and the sorted query: the same question always finds the same entry.

    Search words are case- and space-insensitive, so ``q`` is folded: « Élus » and « élus  » share one.
    """
    query = sorted(
        (name, " ".join(value.split()).casefold() if name == "q" else value)
        for name, value in request.query_params.multi_items()
    )
    return request.url.path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


async def serve_from_cache(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """A ``before_request`` hook: answer from the cache before any dependency (session, service) is built."""
    cache: ResponseCache = request.app.state.response_cache
    rendered = cache.lookup(cache_key(request))
    return cache.respond(request, rendered) if rendered is not None else None


async def cached_json(
    request: Request[Any, Any, Any],
    cache: ResponseCache,
    build: Callable[[], Awaitable[Any]],
    horizon: Callable[[], Awaitable[datetime | None]],
) -> Response[bytes]:
    """Answer a public GET from the cache, building and storing the JSON when needed; 304 when unchanged."""

    async def produce() -> Rendered:
        return render_json(await build())

    return cache.respond(request, await cache.rendered(cache_key(request), produce, horizon))


class CachedAnswerFastPath:
    """The short way for cached public answers, in front of the framework (as ``MediaFastPath`` for media).

    A GET or HEAD without a query string on one of ``prefixes`` whose answer is in the cache (valid, as
    ``lookup`` decides) is answered here — 200 in the encoding asked for, or 304 — with exactly the headers
    the route would send. Everything else goes to the route, which also fills the cache.
    """

    def __init__(self, app: Any, state: Any, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.state = state
        self.prefixes = prefixes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in {"GET", "HEAD"}
            or scope.get("query_string")
            or not scope["path"].startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        cache: ResponseCache = self.state.response_cache
        rendered = cache.lookup(scope["path"])
        if rendered is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = _raw_answer(cache, rendered, scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _raw_answer(cache: ResponseCache, rendered: Rendered, scope: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    wanted = {b"accept-encoding": None, b"if-none-match": None, b"if-modified-since": None}
    for name, value in scope["headers"]:
        if name in wanted:
            wanted[name] = value.decode("latin-1")
    gzipped = rendered.gzipped is not None and accepts_gzip(wanted[b"accept-encoding"])
    body, etag = (rendered.gzipped or b"", gzip_etag(rendered.etag)) if gzipped else (rendered.body, rendered.etag)
    headers = [(b"etag", etag.encode()), (b"cache-control", (rendered.cache_control or cache.cache_control).encode())]
    if rendered.gzipped is not None:
        headers.append((b"vary", b"Accept-Encoding"))
    if rendered.last_modified:
        headers.append((b"last-modified", rendered.last_modified.encode()))
    if_none_match = wanted[b"if-none-match"]
    if (
        etag_matches(if_none_match, etag)
        if if_none_match is not None
        else not_modified_since(wanted[b"if-modified-since"], rendered.last_modified)
    ):
        return HTTP_304_NOT_MODIFIED, headers, b""
    headers.append((b"content-type", rendered.media_type.encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    return 200, headers, body
