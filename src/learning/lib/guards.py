"""Guards shared by the controllers that read request bodies."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from learning.lib.errors import UnsupportedMediaType

_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def requires_json_body(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    # async: Litestar would run a plain function in a worker thread, on every request
    """A handler that reads a JSON body refuses other content types with 415 instead of a parse error."""
    if connection.scope.get("method") not in _BODY_METHODS or not takes_json_body(handler):
        return
    content_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType("This endpoint takes application/json.")


def takes_json_body(handler: BaseRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    kwarg = data.kwarg_definition
    media_type = getattr(kwarg, "media_type", None)
    return media_type is None or str(getattr(media_type, "value", media_type)) == "application/json"
