"""Pages: offset pagination with a total for the list endpoints, and keyset cursors for exports."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar.params import QueryParameter

from learning.lib.errors import LearningError

T = TypeVar("T")

MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    offset: int


def provide_page_request(
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Items per page")] = 20,
    offset: Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


# --- keyset pages: an opaque cursor and a ``more`` link ---------------------------------------------------

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,400}$"  # base64url, no padding: what ``encode_cursor`` writes
_SEPARATOR = "~"


class BadCursor(LearningError):
    status_code = 400
    title = "Invalid cursor"


def encode_cursor(*parts: str) -> str:
    """An opaque cursor naming where the next page starts (parts must not contain ``~``)."""
    return base64.urlsafe_b64encode(_SEPARATOR.join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    """The parts ``encode_cursor`` was given; ``BadCursor`` (400) for anything it did not write."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(_SEPARATOR)
    except ValueError:  # binascii.Error and UnicodeDecodeError both are
        raise BadCursor("This cursor was not given by a previous page; follow the `more` link.") from None


def more_link(path: str, **query: str | int) -> str:
    """The relative URL of the next page (as xAPI's StatementResult ``more``)."""
    return f"{path}?{urlencode(query)}"
