"""JSON bodies are read once, by Litestar's ``Request.json()``: the one place their nesting is bounded.

msgspec gives up on JSON nested about a thousand levels deep with a ``RecursionError`` (a 500), and what it
does accept can still reach PostgreSQL's own limits in a JSONB column. ``bounded_request_class(limit)``
gives the app a request class whose ``json()`` first measures the nesting of arrays and objects, without
decoding, and answers 400 beyond ``limit``.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.types import Empty

from learning.lib.errors import LearningError

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)  # brackets inside strings are text
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


class TooDeeplyNested(LearningError):
    status_code = 400
    title = "Invalid JSON"


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of ``body`` nest deeper than ``limit`` (or are cut short that deep).

    Linear in the body and mostly in C: with strings removed and only brackets kept, each pass removes the
    innermost pairs, i.e. one level; whatever is left after ``limit`` passes is deeper than ``limit``.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual body: not even that many brackets
    brackets = _STRING.sub(b"", body).translate(_ONE_KIND, _NOT_BRACKETS)
    for _ in range(limit):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break  # nothing left, or only unmatched brackets (a body cut short)
        brackets = shorter
    return b"[" in brackets


def bounded_request_class(limit: int) -> type[Request[Any, Any, Any]]:
    """A ``Request`` whose JSON body is refused (400 problem) when it nests deeper than ``limit``."""

    class BoundedRequest(Request[Any, Any, Any]):
        async def json(self) -> Any:
            if self._json is Empty and self._connection_state.json is Empty:
                body = await self.body()
                if nesting_exceeds(body, limit):
                    raise TooDeeplyNested(f"The JSON body is nested too deeply (at most {limit} levels).")
            try:
                return await super().json()
            except RecursionError:  # a backstop: msgspec's own limit
                raise TooDeeplyNested(f"The JSON body is nested too deeply (at most {limit} levels).") from None

    return BoundedRequest
