"""How a ready answer is sent: the one header builder and the precondition/range planning of stored answers.

The edge (``edge/component.py``) and the routes call the same functions, so an answer has the same status,
headers and body whichever of them sends it. Preconditions and ranges are decided by the one evaluator,
``learning.lib.http_ranges.evaluate``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.response.base import ASGIResponse

from learning.edge.answers import Deliverable, Rendered
from learning.edge.headers import (
    PREFLIGHT,
    Answer,
    Headers,
    asset_headers,
    cors_headers,
    gzip_etag,
    redirect_headers,
    validator_headers,
)
from learning.lib.errors import PROBLEM_JSON, problem_response
from learning.lib.http_ranges import (
    ByteRange,
    Decision,
    Outcome,
    Unsatisfiable,
    accepts_gzip,
    evaluate,
    parse_ranges,
)


# --- rendered documents (catalog JSON, feeds) -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Validators:
    """What preconditions are checked against, known before a document is rendered (feeds know it first)."""

    etag: str
    last_modified: datetime | None
    cache_control: str
    has_gzip: bool
    cors: bool = False  # a public feed: readable from any origin


def _precondition(
    etag: str, last_modified: datetime | None, method: str, headers: Mapping[str, str]
) -> Outcome | None:  # fmt: skip
    """NOT_MODIFIED, PRECONDITION_FAILED, or None when the document itself is to be sent."""
    outcome = evaluate(method=method, headers=headers, size=0, etag=etag, last_modified=last_modified, ranges=False)
    return None if outcome.outcome is Outcome.FULL else outcome.outcome


def document_precondition(validators: Validators, method: str, headers: Mapping[str, str]) -> Answer | int | None:
    """Before rendering: 304 as an ``Answer``, 412 as its status, or None when the document must be rendered."""
    gzipped = validators.has_gzip and accepts_gzip(headers.get("accept-encoding"))
    etag = gzip_etag(validators.etag) if gzipped else validators.etag
    outcome = _precondition(etag, validators.last_modified, method, headers)
    if outcome is Outcome.NOT_MODIFIED:
        cache_control, has_gzip, modified = validators.cache_control, validators.has_gzip, validators.last_modified
        return Answer(304, validator_headers(etag, cache_control, has_gzip, modified, cors=validators.cors))
    return None if outcome is None else 412


def document_answer(rendered: Rendered, method: str, headers: Mapping[str, str]) -> Answer | int:
    """The answer to a GET or HEAD of a rendered document: 200 (gzip-encoded when accepted), 304, or 412."""
    variants = rendered.variants
    variant = variants[1] if len(variants) > 1 and accepts_gzip(headers.get("accept-encoding")) else variants[0]
    outcome = _precondition(variant.etag, rendered.last_modified, method, headers)
    if outcome is Outcome.NOT_MODIFIED:
        return variant.not_modified
    if outcome is not None:
        return 412
    return variant.head if method == "HEAD" else variant.ok


# --- media ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def media_headers(item: Deliverable, *, ranges: bool = True, private: bool = False) -> Headers:
    """The validators and caching of a media answer (``ranges``: with ``Accept-Ranges``; 304s omit it;
    ``private``: a private feed's media, kept by no shared cache)."""
    return asset_headers(item.etag, item.last_modified, ranges=ranges, private=private)


def media_decision(item: Deliverable, method: str, headers: Mapping[str, str]) -> Decision:
    return evaluate(method=method, headers=headers, size=item.size, etag=item.etag, last_modified=item.last_modified)


def media_not_modified(item: Deliverable, *, private: bool = False) -> Answer:
    return Answer(304, media_headers(item, ranges=False, private=private))


def media_partial(item: Deliverable, byte_range: ByteRange, data: bytes) -> Answer:
    """206 with one range whose bytes are already in memory."""
    headers = (
        *media_headers(item),
        (b"content-range", byte_range.content_range(item.size).encode()),
        (b"content-type", item.mime_type.encode()),
        (b"content-length", str(len(data)).encode()),
    )
    return Answer(206, headers, data)


def media_redirect(location: str, *, private: bool = False) -> Answer:
    """Redirect mode: 302 to a short-lived presigned URL of the object store (never cached anywhere)."""
    return Answer(302, redirect_headers(location, private=private))


def preflight() -> Answer:
    """The answer to OPTIONS on a public feed or media URL: which methods and headers other origins may use."""
    return PREFLIGHT


def requested_ranges(method: str, headers: Mapping[str, str], size: int) -> list[tuple[int, int]]:
    """The byte ranges a GET asks for (the whole file without a usable Range): what redirect mode counts."""
    if method != "GET":
        return []
    try:
        ranges = parse_ranges(headers.get("range"), size)
    except Unsatisfiable:
        return []
    if ranges is None:
        return [(0, size - 1)] if size else []
    return [(r.start, r.end) for r in ranges]


def media_problem(item: Deliverable, outcome: Outcome, *, private: bool = False) -> Response[Any]:
    """412 or 416 as problem+json (the routes send these; they are too rare for the edge to bother)."""
    cors = {name.decode(): value.decode() for name, value in cors_headers(not private)}
    if outcome is Outcome.UNSATISFIABLE:
        return problem_response(
            416,
            title="Range Not Satisfiable",
            detail=f"The file has {item.size} bytes.",
            headers={"Content-Range": f"bytes */{item.size}", "Accept-Ranges": "bytes", "ETag": item.etag, **cors},
        )
    return precondition_failed(cors)


def precondition_failed(headers: dict[str, str] | None = None) -> Response[Any]:
    detail = "A precondition (If-Match / If-Unmodified-Since) does not hold."
    return problem_response(412, detail=detail, headers=headers)


# --- the routes' side -------------------------------------------------------------------------------
class AnswerResponse(Response[bytes]):
    """An ``Answer`` sent by a route: exactly its status, headers and body (nothing added by the framework)."""

    def __init__(self, answer: Answer, *, background: BackgroundTask | None = None) -> None:
        super().__init__(answer.body, status_code=answer.status, media_type=PROBLEM_JSON, background=background)
        self.answer = answer

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        head = bool(kwargs.get("is_head_response", False))
        return ASGIResponse(
            body=b"" if head else self.answer.body,
            status_code=self.answer.status,
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.answer.headers],
            is_head_response=head,
            background=self.background,
        )


def respond(answer: Answer | int, *, background: BackgroundTask | None = None) -> Response[Any]:
    """A route's response for a planned answer (an ``int`` is a 412 to explain as problem+json)."""
    if isinstance(answer, int):
        return precondition_failed()
    return AnswerResponse(answer, background=background)
