"""The store of ready answers: rendered public documents (catalog JSON, feeds and their gzip copies) and
snapshots of media assets, kept in memory and validated against PostgreSQL.

Correct across several app processes: the hub (``edge/hub.py``) calls ``invalidate`` on every catalog
change anywhere, and while it is not listening nothing is stored. Entries also end when the next scheduled
publication comes due, so scheduled content appears on time without a restart or a cron job.

Bounded in bytes (``LEARNING_ANSWER_CACHE_MAX_BYTES``): each entry counts its bodies in every encoding it holds,
the least recently used go first, and an answer larger than a quarter of the bound is answered but not kept.
Keyed on the canonical request (``edge/keys.py``): a query parameter the route does not read never makes a new
entry. A miss is produced once however many requests miss it at once (``edge/flights.py``), and its rendering
(serialising, compressing) runs in a worker thread, so the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
import msgspec

from learning.edge.flights import Abandoned, Flight, Flights, retrieved
from learning.edge.headers import Variant, document_variant, gzip_etag
from learning.edge.keys import RequestKeys
from learning.lib.clock import utcnow
from learning.lib.errors import ServiceUnavailable

T = TypeVar("T")
L = TypeVar("L")  # what a document is rendered from
E = TypeVar("E")  # an early answer (a 304 before rendering)

RENDER_THREADS = 2  # documents rendered at once per process: CPU-bound, and the machine has few cores

SEARCH_PATH = "/api/v1/search"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A whole public document, ready to send: its bytes, strong ETag and the headers that go with it."""

    body: bytes
    etag: str
    media_type: str
    last_modified: datetime | None = None
    expires: datetime | None = None  # the answer changes by itself then (a live webinar starts, say)
    cache_control: str = "public, max-age=30"
    gzipped: bytes | None = None  # the same body gzip-compressed once, for clients that accept it
    cors: bool = False  # readable from any origin (public feeds): see ``edge/headers.py``
    # Its answers' headers, encoded once: plain, then gzip-encoded when there is a gzip copy.
    variants: tuple[Variant, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        varies = self.gzipped is not None
        variants = [self._variant(self.body, self.etag, varies=varies, gzipped=False)]
        if self.gzipped is not None:
            variants.append(self._variant(self.gzipped, gzip_etag(self.etag), varies=True, gzipped=True))
        object.__setattr__(self, "variants", tuple(variants))

    def _variant(self, body: bytes, etag: str, *, varies: bool, gzipped: bool) -> Variant:
        return document_variant(
            body, etag, self.media_type, self.cache_control, self.last_modified, varies=varies, gzipped=gzipped,
            cors=self.cors,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Deliverable:
    """What delivering a media asset needs to know; a plain snapshot, safe to keep in memory."""

    id: uuid.UUID
    name: str
    extension: str
    mime_type: str
    size: int
    etag: str
    last_modified: datetime
    storage_key: str
    duration_seconds: float | None

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.extension}"


def compressed(body: bytes) -> bytes:
    """gzip, deterministic (no timestamp): the same content always gives the same bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def render_json(value: Any, cache_control: str) -> Rendered:
    body = msgspec.json.encode(value)
    return Rendered(body, strong_etag(body), "application/json", cache_control=cache_control)


def media_key(asset_id: object) -> str:
    return f"media:{asset_id}"


DEFAULT_MAX_BYTES = 128 * 1024 * 1024
ENTRY_OVERHEAD = 2048  # bytes an entry costs besides its bodies: its headers, its key, the objects holding them
LARGEST_SHARE = 4  # an answer larger than a quarter of its space is answered, never kept
SEARCH_SHARE = 8  # searches get an eighth of the bound, of their own
FLIGHT_WAIT_SECONDS = 30.0  # longest wait for another request's load or render of the same answer


def entry_bytes(key: str, value: Rendered) -> int:
    """What keeping ``value`` costs: its bodies (every encoding it holds) and a fixed overhead."""
    return len(value.body) + len(value.gzipped or b"") + len(key) + ENTRY_OVERHEAD


class _Space:
    """Answers kept least-recently-used first, their total bytes under ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self.entries: OrderedDict[str, tuple[Rendered, int]] = OrderedDict()

    def get(self, key: str) -> Rendered | None:
        found = self.entries.get(key)
        if found is None:
            return None
        self.entries.move_to_end(key)
        return found[0]

    def put(self, key: str, value: Rendered) -> None:
        size = entry_bytes(key, value)
        self.remove(key)
        if size > self.max_bytes // LARGEST_SHARE:
            return  # one huge answer would push out everything else
        self.entries[key] = (value, size)
        self.used += size
        while self.used > self.max_bytes:
            _, (_, evicted) = self.entries.popitem(last=False)
            self.used -= evicted

    def remove(self, key: str) -> None:
        found = self.entries.pop(key, None)
        if found is not None:
            self.used -= found[1]

    def clear(self) -> None:
        self.entries.clear()
        self.used = 0


class AnswerStore:
    """Rendered answers bounded in bytes (``max_bytes``, searches in a share of their own), keyed on the canonical
    request (``keys``), produced once for concurrent misses (``document``), off the event loop."""

    def __init__(
        self, listening: Callable[[], bool], *, max_bytes: int = DEFAULT_MAX_BYTES, max_values: int = 2048
    ) -> None:
        # Searches get their own, smaller space: a flood of distinct queries cannot evict the catalog.
        self._listening = listening
        self.keys = RequestKeys()
        self.flights = Flights()
        self.max_bytes = max_bytes
        self._searches = _Space(max_bytes // SEARCH_SHARE)
        self._entries = _Space(max_bytes - self._searches.max_bytes)
        self._values: dict[str, object] = {}
        self._max_values = max_values
        self._generation = 0
        self._horizon: datetime | None = None  # next scheduled publication, when known
        self._horizon_known = False
        self._limiter: anyio.CapacityLimiter | None = None

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

    @property
    def entries(self) -> int:
        """How many rendered answers are kept."""
        return len(self._entries.entries) + len(self._searches.entries)

    @property
    def used_bytes(self) -> int:
        """What the kept answers cost (``entry_bytes``), never above ``max_bytes``."""
        return self._entries.used + self._searches.used

    def key(self, path: str, query_string: bytes) -> str | None:
        """The canonical key of a GET or HEAD (``edge/keys.py``); None where no answer is ever kept."""
        return self.keys.key(path, query_string)

    # --- media snapshots and other values -------------------------------------------------------
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
        if value is not None and generation == self._generation and self._listening():
            if len(self._values) >= self._max_values:
                self._values.clear()
            self._values[key] = value
        return value

    # --- rendered answers -----------------------------------------------------------------------
    def _space(self, key: str) -> _Space:
        return self._searches if key.startswith(SEARCH_PATH) else self._entries

    def lookup(self, key: str) -> Rendered | None:
        """The stored answer for ``key``, if any (and still valid)."""
        if self._horizon is not None and utcnow() >= self._horizon:
            self.invalidate()
            self._horizon = None
        space = self._space(key)
        entry = space.get(key)
        if entry is not None and entry.expires is not None and utcnow() >= entry.expires:
            space.remove(key)
            return None
        return entry

    def store(self, key: str, value: Rendered, generation: int) -> None:
        if generation != self._generation or not self._listening():
            return  # the content changed while this answer was being built
        self._space(key).put(key, value)

    async def document(
        self,
        key: str,
        load: Callable[[], Awaitable[L]],
        render: Callable[[L], Rendered],
        early: Callable[[L], E | None] | None = None,
        horizon: Callable[[], Awaitable[datetime | None]] | None = None,
    ) -> Rendered | E:
        """The stored answer for ``key``; on a miss, one ``load`` and one ``render`` for all concurrent misses
        (``edge/flights.py``). ``load`` reads on the event loop; ``render`` (pure CPU: serialise, compress) runs in a
        worker thread; ``early`` may answer from what was loaded without rendering (a 304)."""
        cached = self.lookup(key)
        if cached is not None:
            return cached
        flight, leading = self.flights.join(key, self._generation)
        if leading:
            try:
                loaded: L = await load()
                if horizon is not None and not self._horizon_known:
                    await self._learn_horizon(horizon)
            except BaseException as exc:
                flight.fail(exc)
                self.flights.land(key, flight)
                raise
            flight.loaded.set_result(loaded)
        else:
            try:
                loaded = await asyncio.wait_for(asyncio.shield(flight.loaded), FLIGHT_WAIT_SECONDS)
            except (Abandoned, TimeoutError):
                return await self._alone(key, load, render, early)
        if early is not None and (answer := early(loaded)) is not None:
            if leading and flight.rendering is None:
                self.flights.land(key, flight)
            return answer
        if flight.rendering is None:
            flight.rendering = asyncio.ensure_future(self._render_and_keep(key, flight, render, loaded))
            flight.rendering.add_done_callback(retrieved)
        try:
            rendered: Rendered = await asyncio.wait_for(asyncio.shield(flight.rendering), FLIGHT_WAIT_SECONDS)
        except TimeoutError:
            raise ServiceUnavailable("This document is still being prepared: try again shortly.") from None
        return rendered

    async def _render_and_keep(
        self, key: str, flight: Flight[Any, Any], render: Callable[[L], Rendered], loaded: L
    ) -> Rendered:
        try:
            rendered = await self.off_loop(render, loaded)
            self.store(key, rendered, flight.generation)  # before landing: the next miss finds it
            return rendered
        finally:
            self.flights.land(key, flight)

    async def _alone(
        self, key: str, load: Callable[[], Awaitable[L]], render: Callable[[L], Rendered],
        early: Callable[[L], E | None] | None,
    ) -> Rendered | E:  # fmt: skip
        """A follower whose leader went away or took too long: its own load and render, kept if still valid."""
        generation = self._generation
        loaded = await load()
        if early is not None and (answer := early(loaded)) is not None:
            return answer
        rendered = await self.off_loop(render, loaded)
        self.store(key, rendered, generation)
        return rendered

    async def off_loop(self, render: Callable[[L], Rendered], loaded: L) -> Rendered:
        """``render(loaded)`` in a worker thread, a few at once: the event loop keeps answering meanwhile."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(RENDER_THREADS)
        return await anyio.to_thread.run_sync(render, loaded, limiter=self._limiter)

    async def _learn_horizon(self, horizon: Callable[[], Awaitable[datetime | None]]) -> None:
        generation = self._generation
        found = await horizon()
        if generation == self._generation:
            self._horizon = found
            self._horizon_known = True
