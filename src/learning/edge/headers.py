"""The one header builder of documents and media answers (used by the edge, the routes and the store).

Public feeds and public media (transcripts and chapters included) carry CORS headers for browser-based
players, on every answer (200, 206, 304, 302, HEAD) and on the preflight: the edge's stored answers and the
routes' answers are built here, so they carry the same ones. Private feeds and media carry none, and their
caching is ``private``: a shared cache must not keep an answer that a revoked token no longer gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from learning.lib.http_ranges import http_date

Header = tuple[bytes, bytes]
Headers = tuple[Header, ...]

# Objects never change under an asset: a changed file becomes a new asset with a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
# A private feed's media: the learner's own client may keep it, no shared cache (the token may be revoked).
PRIVATE_MEDIA = "private, max-age=3600"

# CORS of public feeds and media: any origin may read them (they carry no credentials and nothing personal).
CORS_METHODS = "GET, HEAD"
CORS_REQUEST_HEADERS = "Range, If-None-Match, If-Modified-Since, If-Range"
CORS_EXPOSED = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"
CORS_MAX_AGE_SECONDS = 86400
PUBLIC_CORS: Headers = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", CORS_EXPOSED.encode()),
)


def gzip_etag(etag: str) -> str:
    """A strong ETag names one representation: the gzip-encoded one gets its own."""
    return etag[:-1] + '-gz"'


def cors_headers(cors: bool) -> Headers:
    """The CORS headers of a public feed or media answer (``cors``), none otherwise."""
    return PUBLIC_CORS if cors else ()


def validator_headers(
    etag: str, cache_control: str, varies: bool, last_modified: datetime | None, *, cors: bool = False
) -> Headers:  # fmt: skip
    """What a 304 carries, and every 200 of a document before its body headers (``cors``: a public feed)."""
    headers: list[Header] = [(b"etag", etag.encode()), (b"cache-control", cache_control.encode())]
    if varies:
        headers.append((b"vary", b"Accept-Encoding"))
    if last_modified is not None:
        headers.append((b"last-modified", http_date(last_modified).encode()))
    return (*headers, *cors_headers(cors))


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
    gzipped: bool, cors: bool = False,
) -> Variant:  # fmt: skip
    validators = validator_headers(etag, cache_control, varies, last_modified, cors=cors)
    full = [*validators, (b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    if gzipped:
        full.append((b"content-encoding", b"gzip"))
    return Variant(etag, Answer(200, tuple(full), body), Answer(200, tuple(full)), Answer(304, validators))


def asset_headers(etag: str, last_modified: datetime, *, ranges: bool, private: bool = False) -> Headers:
    """The validators and caching of a media answer (``ranges``: with ``Accept-Ranges``; 304s omit it).

    Public media are immutable and readable from any origin; a private feed's media are ``private``, no CORS."""
    headers = (
        (b"etag", etag.encode()),
        (b"last-modified", http_date(last_modified).encode()),
        (b"cache-control", (PRIVATE_MEDIA if private else IMMUTABLE).encode()),
        *cors_headers(not private),
    )
    return ((b"accept-ranges", b"bytes"), *headers) if ranges else headers


def redirect_headers(location: str, *, private: bool) -> Headers:
    """Redirect mode's 302 to a presigned URL: never cached; public media's redirect is readable cross-origin."""
    return ((b"location", location.encode()), (b"cache-control", b"private, no-store"), *cors_headers(not private))


PREFLIGHT = Answer(
    204,
    (
        (b"allow", b"GET, HEAD, OPTIONS"),
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", CORS_METHODS.encode()),
        (b"access-control-allow-headers", CORS_REQUEST_HEADERS.encode()),
        (b"access-control-max-age", str(CORS_MAX_AGE_SECONDS).encode()),
    ),
)  # the answer to OPTIONS on a public feed or media URL (a browser's CORS preflight, or any client asking)
