"""Domain errors and the one place that renders every error as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
import socket
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from learning.storage import StorageUnavailable

logger = logging.getLogger("learning.errors")

PROBLEM_JSON = "application/problem+json"


class LearningError(Exception):
    """Base of domain errors: each carries its HTTP status, a short title and a detail for the client."""

    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    headers: dict[str, str]

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(LearningError):
    status_code = 404
    title = "Not found"


class Conflict(LearningError):
    status_code = 409
    title = "Conflict"


class Unprocessable(LearningError):
    status_code = 422
    title = "Unprocessable content"


class NotAuthenticated(LearningError):
    status_code = 401
    title = "Authentication required"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="learning"'}, **extra)


class UnsupportedMediaType(LearningError):
    status_code = 415
    title = "Unsupported media type"


class Forbidden(LearningError):
    status_code = 403
    title = "Forbidden"


class TooManyRequests(LearningError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(LearningError):
    status_code = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


_EXTRA_PHRASES = {460: "Checksum Mismatch"}  # tus checksum extension


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_PHRASES.get(status, "Error")


def _problem(status_code: int, detail: str | None, title: str | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title or _phrase(status_code), "status": status_code}
    if detail:
        body["detail"] = detail
    if extra:
        body.update(extra)
    return body


def problem_response(
    status_code: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body = _problem(status_code, detail, title, extra)
    return Response(body, status_code=status_code, media_type=PROBLEM_JSON, headers=headers)


def problem_document(status_code: int, *, detail: str | None = None, title: str | None = None) -> bytes:
    """The same problem as ``problem_response``, as the bytes an ASGI layer in front of the app sends."""
    return msgspec.json.encode(_problem(status_code, detail, title, None))


def _learning_error_handler(_: Request[Any, Any, Any], exc: LearningError) -> Response[dict[str, Any]]:
    return problem_response(exc.status_code, detail=exc.detail, title=exc.title, headers=exc.headers, extra=exc.extra)


def _validation_error_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    # Litestar raises ValidationException for a body or parameter that does not match the schema.
    errors = exc.extra if isinstance(exc.extra, list) else []
    status = 422 if errors and any(e.get("source") == "body" for e in errors if isinstance(e, dict)) else 400
    return problem_response(
        status,
        title="Invalid request" if status == 400 else "Unprocessable content",
        detail=_safe_detail(exc.detail),
        extra={"errors": errors} if errors else None,
    )


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if exc.status_code >= 500:
        logger.error("server error on %s %s: %s", request.method, request.url.path, exc.detail)
    headers = dict(exc.headers or {})
    detail = _safe_detail(exc.detail)
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="learning"')
        detail = "A valid bearer token is required." if not detail or "token" in detail.lower() else detail
    extra = {"errors": exc.extra} if isinstance(exc.extra, list) and exc.extra else None
    return problem_response(exc.status_code, detail=detail, headers=headers, extra=extra)


def _database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(503, detail="The database is unavailable; try again shortly.", headers={"Retry-After": "5"})


def _internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_outage(exc):
        return _database_error_handler(request, exc)
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(HTTP_500_INTERNAL_SERVER_ERROR, detail="An unexpected error occurred.")


def _dbapi_error_handler(
    request: Request[Any, Any, Any], exc: DBAPIError | asyncpg.PostgresError | asyncpg.InterfaceError
) -> Response[dict[str, Any]]:
    # SQLAlchemy's errors wrap the driver's in ``orig``; statements sent by asyncpg itself raise its own.
    if is_database_outage(exc):
        return _database_error_handler(request, exc)
    driver_error = getattr(exc, "orig", None) or exc
    sqlstate = getattr(driver_error, "sqlstate", None)
    if sqlstate in _UNSTORABLE_TEXT:
        return problem_response(400, detail="The request contains text that cannot be stored (such as NUL).")
    if sqlstate == _UNIQUE_VIOLATION:  # two requests raced for the same slug or key
        return problem_response(409, detail="This already exists.")
    if sqlstate in _TRY_AGAIN:  # still colliding with concurrent requests after the retries of its repository
        logger.warning("concurrency failure on %s %s: %s", request.method, request.url.path, sqlstate)
        return problem_response(503, detail="Too many concurrent changes; try again.", headers={"Retry-After": "1"})
    return _internal_error_handler(request, RuntimeError(f"database error: {type(driver_error).__name__}"))


# character_not_in_repertoire, untranslatable_character: NUL bytes and the like in text values.
_UNSTORABLE_TEXT = {"22021", "22P05"}
_UNIQUE_VIOLATION = "23505"
_TRY_AGAIN = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _storage_unavailable_handler(_: Request[Any, Any, Any], __: StorageUnavailable) -> Response[dict[str, Any]]:
    logger.warning("object store unavailable")
    return problem_response(
        503, detail="The media store is unavailable; try again shortly.", headers={"Retry-After": "5"}
    )


def _undecodable_body_handler(_: Request[Any, Any, Any], __: UnicodeDecodeError) -> Response[dict[str, Any]]:
    return problem_response(400, detail="The request body is not valid UTF-8.")


# What a lost, refused or exhausted database connection raises, at any level of SQLAlchemy's wrapping:
# the driver's own errors, SQLAlchemy's adapter errors around them, and the socket errors beneath.
_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,  # the database host's name does not resolve
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection still inside an interrupted operation (then replaced)
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError, ...
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    # statement_timeout (57014) and lock_timeout (55P03): a bounded wait ran out on a busy database (a queue
    # on one row, a long lock): the request may succeed a moment later, like after any outage.
    asyncpg.QueryCanceledError,
    asyncpg.LockNotAvailableError,
    AsyncAdapt_asyncpg_dbapi.InterfaceError,
)


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or too busy (worth waiting for: a lost connection, a
    statement or lock timeout), rather than refusing a statement.

    The exception is looked at with the errors it wraps (SQLAlchemy's ``orig``, then ``__cause__``): a driver
    error sits under SQLAlchemy's adapter error, itself under SQLAlchemy's ``DBAPIError``. Beneath a wrapper
    any ``OSError`` counts (a socket failed); at the top only connection errors and timeouts do.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    link: BaseException | None = exc
    for depth in range(3):
        if link is None:
            return False
        if isinstance(link, _OUTAGE_ERRORS) or (depth > 0 and isinstance(link, OSError)):
            return True
        link = getattr(link, "orig", None) or link.__cause__
    return False


def _safe_detail(detail: str | None) -> str | None:
    # Never echo large or binary request fragments back to the client.
    if not detail:
        return None
    text = detail.replace("\x00", "")
    return text if len(text) <= 500 else text[:500] + "…"


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    LearningError: _learning_error_handler,
    ValidationException: _validation_error_handler,
    UnicodeDecodeError: _undecodable_body_handler,
    HTTPException: _http_exception_handler,
    DBAPIError: _dbapi_error_handler,
    asyncpg.PostgresError: _dbapi_error_handler,
    asyncpg.InterfaceError: _dbapi_error_handler,
    PoolTimeoutError: _database_error_handler,
    StorageUnavailable: _storage_unavailable_handler,
    Exception: _internal_error_handler,
}


def problem_for(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The answer the app gives ``exc`` (status, headers such as Retry-After, and the same logging), for the
    layers that render errors their own way (the pages' HTML error page)."""
    for kind in type(exc).__mro__:
        handler = EXCEPTION_HANDLERS.get(kind)
        if handler is not None:
            answer: Response[dict[str, Any]] = handler(request, exc)
            return answer
    return _internal_error_handler(request, exc)


__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "Conflict",
    "Forbidden",
    "LearningError",
    "NotAuthenticated",
    "NotFound",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unprocessable",
    "UnsupportedMediaType",
    "is_database_outage",
    "problem_for",
    "problem_response",
]
