"""Request bodies read as streams (uploads), never whole into memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.exceptions import InternalServerException

from learning.lib.errors import LearningError


class ClientGone(LearningError):
    status_code = 400
    title = "Client disconnected"


async def request_body(request: Request[Any, Any, Any], *, when_broken: str) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; a broken connection becomes ``ClientGone(when_broken)``."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except InternalServerException:  # Litestar's way of saying the client went away
        raise ClientGone(when_broken) from None


def content_length(request: Request[Any, Any, Any]) -> int | None:
    """The declared body size: ASCII digits of bounded length only (``isdigit`` would take « ² »)."""
    value = request.headers.get("content-length")
    return int(value) if value and len(value) <= 18 and value.isascii() and value.isdigit() else None
