"""JSON bodies are read once, by Litestar's ``Request.json()``: the one place their nesting is bounded and
their types are checked strictly.

msgspec gives up on JSON nested about a thousand levels deep with a ``RecursionError`` (a 500), and what it
does accept can still reach PostgreSQL's own limits in a JSONB column. ``bounded_request_class(limit)``
gives the app a request class whose ``json()`` first measures the nesting of arrays and objects, without
decoding, and answers 400 beyond ``limit``.

Types (issue 17). Litestar decodes a JSON body to plain values and then converts them to the handler's
``data`` type in msgspec's *lax* mode (``SignatureModel``: ``convert(..., strict=False)``, not configurable),
the mode meant for query strings and headers, where everything is a string: ``{"publish_at": 0}`` became
1970-01-01, ``"12"`` the number 12, ``"true"`` a boolean, although the OpenAPI document (made from the same
types) says a date-time string, a number, a boolean. So ``json()`` decodes the body straight into the
handler's ``data`` type with ``strict=True``, JSON's own rules: a date-time, a UUID or base64 bytes are
strings (RFC 3339, …), an integer is accepted where a number is, and nothing else is coerced. The value
handed on is already of that type, which Litestar's lax conversion passes through as it is. A mismatch is
Litestar's own ``ValidationException`` (the 422 problem every invalid body gets). The other hooks do not fit:
``type_decoders`` only see types msgspec does not know; a DTO converts laxly too and writes its own schemas
into the document; the signature model is private. Query, path and header parameters never come through
here and stay lax.

One leniency is kept on purpose: JSON Schema's "integer" is any number without a fractional part, so ``9.0``
is an integer for the document (and was for Litestar) while strict msgspec refuses it for an ``int``. A body
the strict decoder refuses is therefore read once more with such numbers as integers, then converted
strictly: it passes only if that was its one difference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import URL
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Empty

from learning.lib.errors import LearningError
from learning.lib.guards import takes_json_body

_BRACKETS_AND_QUOTES = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_INT64 = 2**63  # msgspec's integers are 64-bit: a bigger one is refused whatever its spelling


class TooDeeplyNested(LearningError):
    status_code = 400
    title = "Invalid JSON"


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of ``body`` nest deeper than ``limit`` (or are cut short that deep).

    Linear in the body and in C: with strings removed and only brackets kept, each pass removes the innermost
    pairs, i.e. one level; whatever is left after ``limit`` passes is deeper than ``limit``.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual body: not even that many brackets
    # Strings removed, all in C: escaped backslashes, then escaped quotes, go first (so every quote left opens
    # or closes a string); then only brackets and quotes are kept, and every other piece between quotes is text.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    pieces = unescaped.translate(_ONE_KIND, _BRACKETS_AND_QUOTES).split(b'"')
    brackets = b"".join(pieces[::2])
    for _ in range(limit):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break  # nothing left, or only unmatched brackets (a body cut short)
        brackets = shorter
    return b"[" in brackets


def _integral_as_int(text: str) -> int | float:
    """A JSON number with a fraction (or exponent) that is a whole number within 64 bits, as an ``int``."""
    number = float(text)
    if not number.is_integer() or abs(number) >= _INT64:  # a fraction, inf, or too big for msgspec anyway
        return number
    exact = Decimal(text)  # exact, and within the decimal context's range once the float is bounded
    return int(exact) if exact == exact.to_integral_value() else number


_WHOLE_NUMBERS_AS_INTS = msgspec.json.Decoder(float_hook=_integral_as_int)


class _Body:
    """How one handler's JSON body is read: its ``data`` type, decoded strictly."""

    def __init__(self, handler: BaseRouteHandler) -> None:
        field = handler.parsed_fn_signature.parameters["data"]
        self.type = field.raw  # with any msgspec.Meta of its own (Litestar's BodyKwarg is ignored by msgspec)
        self.dec_hook = handler.default_deserializer  # the app's type_decoders, for types msgspec does not know
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(self.type, strict=True, dec_hook=self.dec_hook)

    def decode(self, body: bytes) -> Any:
        """The body as the handler's type, or ``msgspec.ValidationError``/``DecodeError``."""
        try:
            return self.decoder.decode(body)
        except msgspec.ValidationError as refused:
            # Not JSON after all (the type error came first): its DecodeError goes up, answered as malformed.
            values = _WHOLE_NUMBERS_AS_INTS.decode(body)
            try:
                return msgspec.convert(values, self.type, strict=True, dec_hook=self.dec_hook, str_keys=True)
            except msgspec.ValidationError:
                raise refused from None  # the first decoder's message names the first problem of the body


def _validation_failed(request: Request[Any, Any, Any], error: msgspec.ValidationError) -> ValidationException:
    """Litestar's own exception for a body that does not match its type, with the same detail and errors."""
    message, _, where = str(error).partition(" - at `$")
    key = where.removesuffix("`").removeprefix(".") or "data"
    url = URL.from_components(path=request.url.path, query=request.url.query)
    return ValidationException(
        detail=f"Validation failed for {request.method} {url}",
        extra=[{"message": message, "key": key, "source": "body"}],
    )


def bounded_request_class(limit: int) -> type[Request[Any, Any, Any]]:
    """A ``Request`` whose JSON body is refused (400 problem) when it nests deeper than ``limit``, and (422
    problem) when it does not have the types of the handler's ``data`` under msgspec's strict rules."""
    bodies: dict[BaseRouteHandler, _Body | None] = {}  # one per handler, made at its first request

    def body_of(handler: BaseRouteHandler) -> _Body | None:
        if handler not in bodies:
            typed = takes_json_body(handler) and handler.resolve_data_dto() is None
            bodies[handler] = _Body(handler) if typed else None
        return bodies[handler]

    too_deep = f"The JSON body is nested too deeply (at most {limit} levels)."

    class BoundedRequest(Request[Any, Any, Any]):
        async def json(self) -> Any:
            if self._json is Empty and self._connection_state.json is Empty:
                body = await self.body()
                if nesting_exceeds(body, limit):
                    raise TooDeeplyNested(too_deep)
                handler = self.scope.get("route_handler")  # set by the router; absent, nothing is typed
                typed = body_of(handler) if isinstance(handler, BaseRouteHandler) else None
                if typed is not None:
                    try:
                        value = typed.decode(body or b"null")
                    except msgspec.ValidationError as error:
                        raise _validation_failed(self, error) from None
                    except msgspec.DecodeError:
                        pass  # not JSON: Litestar's answer below, as for any other malformed body
                    except RecursionError:  # a backstop: msgspec's own limit
                        raise TooDeeplyNested(too_deep) from None
                    else:
                        self._json = self._connection_state.json = value
                        return value
            try:
                return await super().json()
            except RecursionError:  # a backstop: msgspec's own limit
                raise TooDeeplyNested(too_deep) from None

    return BoundedRequest
