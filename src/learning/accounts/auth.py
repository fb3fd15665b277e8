"""Bearer-token authentication (Litestar's JWT middleware) and the authorization guards.

A token carries the account's ``token_version``: changing the password, or signing out everywhere, bumps it,
which turns every older token away. A token carries an id (``jti``) too: signing out revokes that id
(``revoked_token``, until the token expires). A token whose account is gone, that is revoked, tampered with
or expired, gives 401.

A token once verified (signature, expiry, account and version looked up) is remembered in memory, so a
learner's next requests skip that work. The memory is emptied whenever any account changes: at commit by
the process that changed it, and in every process by ``NOTIFY learning_accounts`` (triggers on
``user_account`` and ``revoked_token``). While the change listener is down, nothing is remembered.
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.accounts.repositories import UserRepository
from learning.db import models as m
from learning.lib.errors import Forbidden

# Paths that never need a token; everything else does unless its handler sets ``exclude_from_auth``.
PUBLIC_PATHS = ["^/schema"]

# The web pages keep the same bearer token in an HttpOnly cookie, so their scripts can call the API. A
# request authenticated by that cookie that changes something must repeat the CSRF cookie's value in the
# CSRF header (double submit): another site can make a browser send cookies, not read one to copy it.
SESSION_COOKIE = "learning_session"
CSRF_COOKIE = "learning_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    role: m.Role

    @property
    def is_admin(self) -> bool:
        return self.role is m.Role.ADMIN


class VerifiedTokens:
    """Tokens already verified against their account (see the module's docstring)."""

    def __init__(
        self, listening: Callable[[], bool], *, max_entries: int = 20_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._listening = listening
        self._clock = clock
        self._entries: dict[str, tuple[CurrentUser, Token]] = {}
        self._max_entries = max_entries
        self.generation = 0

    def get(self, encoded: str) -> tuple[CurrentUser, Token] | None:
        found = self._entries.get(encoded)
        if found is None:
            return None
        if found[1].exp.timestamp() <= self._clock():
            self._entries.pop(encoded, None)
            return None
        return found

    def put(self, encoded: str, user: CurrentUser, token: Token, generation: int) -> None:
        if generation != self.generation or not self._listening():
            return  # an account changed while this one was being verified
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[encoded] = (user, token)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()


class RememberingJWTMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, answering from ``app.state.verified_tokens`` when it can; without an
    ``Authorization`` header, the token may come from the pages' session cookie (see ``SESSION_COOKIE``)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie or connection.headers.get(self.auth_header):
            return await super().authenticate_request(connection)
        if connection.scope.get("method") not in _SAFE_METHODS and not csrf_header_matches(connection):
            raise Forbidden(f"A request signed in by the session cookie needs the {CSRF_HEADER} header.")
        return await self.authenticate_token(cookie, connection)

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        tokens: VerifiedTokens = connection.app.state.verified_tokens
        known = tokens.get(encoded_token)
        if known is not None:
            return AuthenticationResult(user=known[0], auth=known[1])
        generation = tokens.generation
        result = await super().authenticate_token(encoded_token, connection)
        tokens.put(encoded_token, result.user, result.auth, generation)
        return result


def csrf_header_matches(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """True when the CSRF header repeats the (non-empty) CSRF cookie."""
    header = connection.headers.get(CSRF_HEADER, "")
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(header.encode(), cookie.encode())


def build_jwt_auth(*, secret: str, lifetime_seconds: int) -> JWTAuth[CurrentUser, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
        try:
            user_id = uuid.UUID(token.sub)
        except ValueError:
            return None
        sessionmaker: async_sessionmaker[AsyncSession] = connection.app.state.sessionmaker
        async with sessionmaker() as session:
            user, revoked = await UserRepository(session).get_with_revocation(user_id, token_id(token))
        if user is None or revoked or token.extras.get("ver") != user.token_version:
            return None
        return CurrentUser(id=user.id, email=user.email, role=user.role)

    return JWTAuth[CurrentUser, Token](
        token_secret=secret,
        retrieve_user_handler=retrieve_user,
        exclude=PUBLIC_PATHS,
        exclude_http_methods=["OPTIONS"],
        default_token_expiration=timedelta(seconds=lifetime_seconds),
        description="Bearer token from POST /api/v1/auth/login.",
        authentication_middleware_class=RememberingJWTMiddleware,
    )


def issue_token(jwt_auth: JWTAuth[CurrentUser, Token], user: m.UserAccount) -> str:
    return jwt_auth.create_token(
        identifier=str(user.id), token_unique_jwt_id=uuid.uuid4().hex, token_extras={"ver": user.token_version}
    )


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address, as rate limits count it (behind a trusted proxy: the forwarded one, lib/proxies.py)."""
    return connection.client.host if connection.client else "unknown"


def token_id(token: Token) -> str | None:
    """The token's id (``jti``); None for a token issued before tokens carried one."""
    jti = token.jti
    return jti if isinstance(jti, str) and 0 < len(jti) <= 64 else None


def session_token(connection: ASGIConnection[Any, Any, Any, Any]) -> Token | None:
    """The pages' session token, when its signature and expiry hold (whatever its account says)."""
    encoded = connection.cookies.get(SESSION_COOKIE)
    if not encoded:
        return None
    jwt_auth: JWTAuth[CurrentUser, Token] = connection.app.state.jwt_auth
    try:
        return jwt_auth.token_cls.decode(
            encoded_token=encoded, secret=jwt_auth.token_secret, algorithm=jwt_auth.algorithm
        )
    except NotAuthorizedException:
        return None


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # capability discovery (CORS preflight, tus): carries no credentials, changes nothing
    user = connection.user
    if not isinstance(user, CurrentUser) or not user.is_admin:
        raise Forbidden("This operation requires the admin role.")
