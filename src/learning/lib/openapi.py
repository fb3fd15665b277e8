"""Documents the problem+json error responses of every operation in the OpenAPI document.

Run once on the assembled app: what each operation can answer follows from its shape (parameters,
body, authentication, guards) plus the codes its handler declares in ``opt["problems"]``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from learning.lib.errors import PROBLEM_JSON, _phrase
from learning.lib.guards import takes_json_body


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_spec(status: int, description: str | None = None) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=description or _phrase(status),
        generate_examples=False,
    )


def _codes_for(handler: HTTPRouteHandler, path: str) -> set[int]:
    codes: set[int] = set(handler.opt.get("problems", ()))
    has_body = "data" in handler.parsed_fn_signature.parameters
    if not handler.opt.get("no_database"):
        codes.add(400)  # query or header parameters may come from dependencies too
    if has_body:
        codes.update({400, 413, 422})
    if takes_json_body(handler):
        codes.add(415)
    if "{" in path:
        codes.add(404)
    if not handler.opt.get("exclude_from_auth"):
        codes.add(401)
    if handler.resolve_guards():
        codes.update({401, 403})
    if not handler.opt.get("no_database"):
        codes.add(503)
    return codes


def document_problems(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.include_in_schema is False:
                continue
            specs = dict(handler.responses or {})
            for status in sorted(_codes_for(handler, route.path)):
                specs.setdefault(status, problem_spec(status))
            handler.responses = specs
