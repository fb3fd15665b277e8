"""The one header builder of documents and media answers (used by the edge, the routes and the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from learning.lib.http_ranges import http_date

Header = tuple[bytes, bytes]
Headers = tuple[Header, ...]

# Objects never change under an asset: a changed file becomes a new asset with a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"


def gzip_etag(etag: str) -> str:
    """A strong ETag names one representation: the gzip-encoded one gets its own."""
    return etag[:-1] + '-gz"'


def validator_headers(etag: str, cache_control: str, varies: bool, last_modified: datetime | None) -> Headers:
    """What a 304 carries, and every 200 of a document before its body headers."""
    headers: list[Header] = [(b"etag", etag.encode()), (b"cache-control", cache_control.encode())]
    if varies:
        headers.append((b"vary", b"Accept-Encoding"))
    if last_modified is not None:
        headers.append((b"last-modified", http_date(last_modified).encode()))
    return tuple(headers)


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP answer, ready to send as it is."""

    status: int
    headers: Headers
    body: bytes = b""


class Variant(NamedTuple):
    """One encoding of a stored document and its answers, built once when the document is stored."""

    etag: str
    ok: Answer  # 200 to a GET
    head: Answer  # 200 to a HEAD: the same headers, no body
    not_modified: Answer  # 304


def document_variant(
    body: bytes, etag: str, media_type: str, cache_control: str, last_modified: datetime | None, *, varies: bool,
    gzipped: bool,
) -> Variant:  # fmt: skip
    validators = validator_headers(etag, cache_control, varies, last_modified)
    full = [*validators, (b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    if gzipped:
        full.append((b"content-encoding", b"gzip"))
    return Variant(etag, Answer(200, tuple(full), body), Answer(200, tuple(full)), Answer(304, validators))


def asset_headers(etag: str, last_modified: datetime, *, ranges: bool) -> Headers:
    """The validators and caching of a media answer (``ranges``: with ``Accept-Ranges``; 304s omit it)."""
    headers = (
        (b"etag", etag.encode()),
        (b"last-modified", http_date(last_modified).encode()),
        (b"cache-control", IMMUTABLE.encode()),
    )
    return ((b"accept-ranges", b"bytes"), *headers) if ranges else headers
