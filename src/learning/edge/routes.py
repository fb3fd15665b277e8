"""The routes' side of the edge: how a route answers with a document and hands it to the store (one call).

A route that keeps its answers declares the query parameters it reads (``opt={EDGE_QUERY: …}``, ``edge/keys.py``)
and answers with ``cached_document`` (or ``cached_json``): the store's answer, else one load and one render for all
the requests missing it at once, rendered off the event loop and kept. A private document (``private_document``)
is loaded and rendered the same way, never kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from litestar import Request, Response

from learning.edge.answers import AnswerStore, Rendered, render_json
from learning.edge.keys import EDGE_QUERY
from learning.edge.respond import Validators, document_answer, document_precondition, respond

L = TypeVar("L")
Early = Callable[[L], Response[Any] | None]  # a 304 (or 412) from what was loaded, before rendering

CATALOG_CACHE_CONTROL = "public, max-age=30"


class UndeclaredRoute(LookupError):
    """A route answered with ``cached_document`` without declaring its query parameters: a bug, found by tests."""


def _answer(request: Request[Any, Any, Any], rendered: Rendered) -> Response[Any]:
    return respond(document_answer(rendered, request.method, request.headers))


async def cached_document(
    request: Request[Any, Any, Any],
    answers: AnswerStore,
    load: Callable[[], Awaitable[L]],
    render: Callable[[L], Rendered],
    *,
    early: Early[L] | None = None,
    horizon: Callable[[], Awaitable[datetime | None]] | None = None,
) -> Response[Any]:
    """Answer a public GET or HEAD from the store; on a miss, ``load`` once and ``render`` once (off the event
    loop) for every request missing the same answer, and keep it."""
    key = answers.key(request.scope["path"], request.scope.get("query_string", b""))
    if key is None:
        raise UndeclaredRoute(f"{request.scope['path']}: no {EDGE_QUERY!r} in the route's opt")
    answered = await answers.document(key, load, render, early, horizon)
    return _answer(request, answered) if isinstance(answered, Rendered) else answered


async def private_document(
    request: Request[Any, Any, Any],
    answers: AnswerStore,
    load: Callable[[], Awaitable[L]],
    render: Callable[[L], Rendered],
    *,
    early: Early[L] | None = None,
) -> Response[Any]:
    """Answer a private GET or HEAD (a learner's feed): loaded and rendered off the event loop, never kept."""
    loaded = await load()
    if early is not None and (answer := early(loaded)) is not None:
        return answer
    return _answer(request, await answers.off_loop(render, loaded))


async def cached_json(
    request: Request[Any, Any, Any],
    answers: AnswerStore,
    build: Callable[[], Awaitable[Any]],
    horizon: Callable[[], Awaitable[datetime | None]],
) -> Response[Any]:
    """A public JSON answer from the store, built, encoded and stored on a miss; 304 when unchanged."""
    return await cached_document(request, answers, build, _catalog_json, horizon=horizon)


def _catalog_json(value: Any) -> Rendered:
    return render_json(value, CATALOG_CACHE_CONTROL)


def early_answer(request: Request[Any, Any, Any], validators: Validators) -> Response[Any] | None:
    """304 (or 412) from validators known before rendering; None when the document must be rendered."""
    early = document_precondition(validators, request.method, request.headers)
    return None if early is None else respond(early)
