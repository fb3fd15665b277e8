"""The routes' side of the edge: how a route answers with a document and hands it to the store (one call)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from litestar import Request, Response

from learning.edge.answers import AnswerStore, Rendered, cache_key, render_json
from learning.edge.respond import Validators, document_answer, document_precondition, respond


def request_key(request: Request[Any, Any, Any]) -> str:
    return cache_key(request.url.path, request.scope.get("query_string", b""))


async def cached_document(
    request: Request[Any, Any, Any],
    answers: AnswerStore,
    produce: Callable[[], Awaitable[Rendered]],
    horizon: Callable[[], Awaitable[datetime | None]] | None = None,
) -> Response[Any]:
    """Answer a public GET from the store, producing and storing the document on a miss."""
    rendered = await answers.rendered(request_key(request), produce, horizon)
    return respond(document_answer(rendered, request.method, request.headers))


CATALOG_CACHE_CONTROL = "public, max-age=30"


async def cached_json(
    request: Request[Any, Any, Any],
    answers: AnswerStore,
    build: Callable[[], Awaitable[Any]],
    horizon: Callable[[], Awaitable[datetime | None]],
) -> Response[Any]:
    """A public JSON answer from the store, built, encoded and stored on a miss; 304 when unchanged."""

    async def produce() -> Rendered:
        return render_json(await build(), CATALOG_CACHE_CONTROL)

    return await cached_document(request, answers, produce, horizon)


def early_answer(request: Request[Any, Any, Any], validators: Validators) -> Response[Any] | None:
    """304 (or 412) from validators known before rendering; None when the document must be rendered."""
    early = document_precondition(validators, request.method, request.headers)
    return None if early is None else respond(early)


def answer_and_store(
    request: Request[Any, Any, Any], answers: AnswerStore | None, rendered: Rendered, generation: int = 0
) -> Response[Any]:
    """Answer with a freshly rendered document; keep it for the edge unless ``answers`` is None (private)."""
    if answers is not None:
        answers.store(request_key(request), rendered, generation)
    return respond(document_answer(rendered, request.method, request.headers))
