"""Cookie sessions, CSRF and the security headers of the pages.

A page session is the API's own bearer token kept in an HttpOnly, SameSite=Lax cookie (``SESSION_COOKIE``),
Secure when the public address is https. The pages' scripts call the JSON API with it: the JWT middleware
accepts that cookie, and requires the CSRF header on requests that change something
(``learning.accounts.auth``). The pages' own forms are checked by Litestar's CSRF middleware (double submit,
signed tokens), which shares the cookie and header names with the API check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote, urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, ResponseHeader
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from learning.accounts.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, CurrentUser, VerifiedTokens
from learning.config import MediaDelivery, Settings, StorageBackend
from learning.lib.errors import LearningError

_VIEWER = "learning.web.viewer"  # the scope key holding the verified viewer


class SignInRequired(LearningError):
    """A page for signed-in users, opened without a session: the handler redirects to the sign-in page."""

    status_code = 401
    title = "Connexion requise"


class AdminOnly(LearningError):
    status_code = 403
    title = "Réservé aux administrateurs"


def is_https(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def session_cookie(token: str, settings: Settings, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value=token, path="/", max_age=max_age, httponly=True, samesite="lax",
        secure=is_https(settings),
    )  # fmt: skip


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value="", path="/", max_age=0, expires=0, httponly=True, samesite="lax",
        secure=is_https(settings),
    )  # fmt: skip


def csrf_config(settings: Settings) -> CSRFConfig:
    # A key of its own, derived from the signing key: a CSRF token never doubles as anything else.
    secret = hmac.new(settings.signing_key().encode(), b"learning-web-csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_httponly=True,  # scripts read the token from the page (<meta name="csrf-token">)
        cookie_samesite="lax",
        cookie_secure=is_https(settings),
    )


def content_security_policy(settings: Settings) -> str:
    """Scripts and styles from our own static files only: no inline script, no inline style, no framing."""
    media = ["'self'"]
    if settings.storage_backend is StorageBackend.S3 and settings.media_delivery is MediaDelivery.REDIRECT:
        scheme = "https" if settings.s3_secure else "http"
        media.append(f"{scheme}://{settings.s3_endpoint}")  # presigned URLs the media route redirects to
    sources = " ".join(media)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {sources}",
            f"media-src {sources}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings) -> list[ResponseHeader]:
    return [
        ResponseHeader(name="Content-Security-Policy", value=content_security_policy(settings)),
        ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ResponseHeader(name="Referrer-Policy", value="same-origin"),
        ResponseHeader(name="X-Frame-Options", value="DENY"),
        ResponseHeader(name="Cache-Control", value="no-store"),  # pages carry CSRF tokens, some a feed token
    ]


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTML answer, whatever made it (a page, a page's
    error, the app's 404 or 405, the API reference), and ``no-store`` on answers to signed-in requests.

    Headers an answer already has are kept (the API reference brings its own CSP; feeds and media their own
    Cache-Control). An answer to a request that carries a bearer token or the session cookie is personal
    (the feed-token answer holds the token itself): unless it says otherwise, no cache may keep it.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.html_headers = [(h.name.lower().encode(), (h.value or "").encode()) for h in security_headers(settings)]
        self.private_headers = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        signed_in = _carries_credentials(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                names = {name.lower(): value for name, value in headers}
                wanted = self.html_headers if names.get(b"content-type", b"").startswith(b"text/html") else None
                if wanted is None and signed_in:
                    wanted = self.private_headers
                if wanted is not None:
                    missing = [(name, value) for name, value in wanted if name not in names]
                    if missing:
                        message["headers"] = [*headers, *missing]  # a new list: the edge's are shared
            await send(message)

        await self.app(scope, receive, send_with_headers)


_SESSION = f"{SESSION_COOKIE}=".encode()


def _carries_credentials(scope: Scope) -> bool:
    return any(
        name == b"authorization" or (name == b"cookie" and _SESSION in value) for name, value in scope["headers"]
    )


async def viewer_of(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The user signed in by the session cookie, or None (a visitor, an expired or revoked session).

    Pages are open to visitors, so the JWT middleware (which turns them away) does not run on them: the
    cookie is checked here, exactly as the middleware checks a bearer token, once per request.
    """
    scope = cast("dict[str, Any]", connection.scope)
    if _VIEWER in scope:
        found: CurrentUser | None = scope[_VIEWER]
        return found
    scope[_VIEWER] = user = await _verify(connection)
    return user


async def _verify(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    encoded = connection.cookies.get(SESSION_COOKIE)
    if not encoded:
        return None
    tokens: VerifiedTokens = connection.app.state.verified_tokens
    if (known := tokens.get(encoded)) is not None:
        return known[0]
    generation = tokens.generation
    jwt_auth: JWTAuth[CurrentUser, Token] = connection.app.state.jwt_auth
    try:
        token = jwt_auth.token_cls.decode(
            encoded_token=encoded, secret=jwt_auth.token_secret, algorithm=jwt_auth.algorithm
        )
    except NotAuthorizedException:
        return None
    retrieve = cast(
        "Callable[[Token, ASGIConnection[Any, Any, Any, Any]], Awaitable[CurrentUser | None]]",
        jwt_auth.retrieve_user_handler,
    )
    user = await retrieve(token, connection)
    if user is not None:
        tokens.put(encoded, user, token, generation)
    return user


def known_viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The viewer if this request already verified it (error pages render without awaiting anything)."""
    found: CurrentUser | None = cast("dict[str, Any]", connection.scope).get(_VIEWER)
    return found


async def requires_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # capability discovery: no credentials, no data
    if await viewer_of(connection) is None:
        pending = connection.url.path if connection.scope.get("method") == "POST" else None
        raise SignInRequired("Connectez-vous pour ouvrir cette page.", next=local_path(connection), pending=pending)


async def requires_admin_page(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # capability discovery: no credentials, no data
    viewer = await viewer_of(connection)
    if viewer is None:
        raise SignInRequired("Connectez-vous pour ouvrir cette page.", next=local_path(connection))
    if not viewer.is_admin:
        raise AdminOnly("Cette page est réservée aux administrateurs.")


def local_path(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Where to come back after signing in: this page, or for a form the page it was sent from."""
    if connection.scope.get("method") not in {"GET", "HEAD"}:
        referer = urlsplit(connection.headers.get("referer", ""))
        same_site = referer.netloc == connection.url.netloc
        return safe_next(referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/"
    query = connection.scope.get("query_string", b"").decode("latin-1")
    return connection.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path of this site only (no ``//host``, no scheme: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


# The learner actions a form may have sent when the session had just expired: signing in again carries them out
# (?reprendre= on /connexion, kept by the sign-in form). Unenrolling is not one: it is never done unasked.
PENDING_ACTION = re.compile(
    r"/modules/(?P<slug>[a-z0-9-]{1,200})/(?:inscription|lecons/(?P<lesson>[a-z0-9-]{1,200})/terminee)"
)


def pending_action(path: str) -> str | None:
    """``path`` if it is an action that signing in again may carry out."""
    return path if PENDING_ACTION.fullmatch(path) else None


def sign_in_url(next_path: str, pending: str | None = None) -> str:
    url = "/connexion?suite=" + quote(safe_next(next_path), safe="/")
    return url + "&reprendre=" + quote(pending, safe="/") if pending and pending_action(pending) else url
