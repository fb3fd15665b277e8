"""The store of ready answers: rendered public documents (catalog JSON, feeds and their gzip copies) and
snapshots of media assets, kept in memory and validated against PostgreSQL.

Correct across several app processes: the hub (``edge/hub.py``) calls ``invalidate`` on every catalog
change anywhere, and while it is not listening nothing is stored. Entries also end when the next scheduled
publication comes due, so scheduled content appears on time without a restart or a cron job.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl

import msgspec

from learning.edge.headers import Variant, document_variant, gzip_etag
from learning.lib.clock import utcnow

T = TypeVar("T")

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


def cache_key(path: str, query_string: bytes) -> str:
    """The path and the sorted query: the same question always finds the same entry (edge and routes alike).

    Search words are case- and space-insensitive, so ``q`` is folded: « Élus » and « élus  » share one.
    """
    if not query_string:
        return path
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    query = sorted((name, " ".join(value.split()).casefold() if name == "q" else value) for name, value in pairs)
    return path + "?" + "&".join(f"{k}={v}" for k, v in query)


def media_key(asset_id: object) -> str:
    return f"media:{asset_id}"


class AnswerStore:
    def __init__(
        self, listening: Callable[[], bool], *, max_entries: int = 2048, max_search_entries: int = 512
    ) -> None:
        # Searches get their own, smaller space: a flood of distinct queries cannot evict the catalog.
        self._listening = listening
        self._entries: OrderedDict[str, Rendered] = OrderedDict()
        self._searches: OrderedDict[str, Rendered] = OrderedDict()
        self._values: dict[str, object] = {}
        self._max_entries = max_entries
        self._max_search_entries = max_search_entries
        self._generation = 0
        self._horizon: datetime | None = None  # next scheduled publication, when known
        self._horizon_known = False

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
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = value
        return value

    # --- rendered answers -----------------------------------------------------------------------
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

    def store(self, key: str, value: Rendered, generation: int) -> None:
        if generation != self._generation or not self._listening():
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
        self.store(key, value, generation)
        return value
