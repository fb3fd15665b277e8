"""Bearer-token authentication (Litestar's JWT middleware) and the authorization guards.

A token carries the account's ``token_version``: changing the password bumps it, which turns every
older token away. A token whose account is gone, that is tampered with or expired, gives 401.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.accounts.repositories import UserRepository
from learning.db import models as m
from learning.lib.errors import Forbidden

# Paths that never need a token; everything else does unless its handler sets ``exclude_from_auth``.
PUBLIC_PATHS = ["^/schema"]


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    role: m.Role

    @property
    def is_admin(self) -> bool:
        return self.role is m.Role.ADMIN


def build_jwt_auth(*, secret: str, lifetime_seconds: int) -> JWTAuth[CurrentUser, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
        try:
            user_id = uuid.UUID(token.sub)
        except ValueError:
            return None
        sessionmaker: async_sessionmaker[AsyncSession] = connection.app.state.sessionmaker
        async with sessionmaker() as session:
            user = await UserRepository(session).get(user_id)
        if user is None or token.extras.get("ver") != user.token_version:
            return None
        return CurrentUser(id=user.id, email=user.email, role=user.role)

    return JWTAuth[CurrentUser, Token](
        token_secret=secret,
        retrieve_user_handler=retrieve_user,
        exclude=PUBLIC_PATHS,
        exclude_http_methods=["OPTIONS"],
        default_token_expiration=timedelta(seconds=lifetime_seconds),
        description="Bearer token from POST /api/v1/auth/login.",
    )


def issue_token(jwt_auth: JWTAuth[CurrentUser, Token], user: m.UserAccount) -> str:
    return jwt_auth.create_token(identifier=str(user.id), token_extras={"ver": user.token_version})


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # capability discovery (CORS preflight, tus): carries no credentials, changes nothing
    user = connection.user
    if not isinstance(user, CurrentUser) or not user.is_admin:
        raise Forbidden("This operation requires the admin role.")
