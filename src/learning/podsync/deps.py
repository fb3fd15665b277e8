"""Dependency providers of the podcast-app sync: the services, and the sender of a sync request (HTTP Basic)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.auth import client_ip
from learning.accounts.deps import provide_account_service
from learning.config import Settings
from learning.feeds.deps import provide_feed_service
from learning.lib.clock import utcnow
from learning.lib.ratelimit import Limit, RateLimiter
from learning.podsync.listening import AppListening
from learning.podsync.repositories import (
    AppPasswordReads,
    AppPasswordRepository,
    LoginFlowRepository,
    SyncRepository,
)
from learning.podsync.schemas import SyncUser
from learning.podsync.services import (
    SESSION_COOKIE,
    AppPasswordService,
    LoginFlowService,
    SyncAuthenticator,
    SyncPolicy,
)
from learning.podsync.sync import SyncService
from learning.progress.deps import provide_progress_service


def sync_policy(settings: Settings, signing_key: str) -> SyncPolicy:
    """Failed sign-ins of the apps are limited as the account's own (``LEARNING_LOGIN_*``)."""
    window = settings.login_window_seconds
    return SyncPolicy(
        account_limit=Limit(settings.login_account_limit, window),
        client_limit=Limit(settings.login_ip_limit, window),
        signing_key=signing_key.encode(),
    )


def provide_app_passwords(db_session: NamedDependency[AsyncSession], state: State) -> AppPasswordService:
    return AppPasswordService(
        AppPasswordRepository(db_session), provide_feed_service(db_session, state),
        sync_policy(state.settings, state.jwt_auth.token_secret).signing_key,
    )  # fmt: skip


def provide_login_flows(db_session: NamedDependency[AsyncSession], state: State) -> LoginFlowService:
    settings = state.settings
    return LoginFlowService(
        LoginFlowRepository(db_session), provide_app_passwords(db_session, state),
        provide_account_service(db_session, state), RateLimiter(state.sessionmaker, state.refusals),
        Limit(settings.login_ip_limit, settings.login_window_seconds),
    )  # fmt: skip


def provide_sync_service(db_session: NamedDependency[AsyncSession], state: State) -> SyncService:
    sync = SyncRepository(db_session)
    listening = AppListening(sync, provide_progress_service(db_session, state))
    return SyncService(sync, provide_feed_service(db_session, state), listening)


async def provide_sync_user(request: Request[Any, Any, Any], state: State) -> SyncUser:
    """The account and app password of an ``Authorization: Basic`` request, or of a gpodder.net session cookie
    (401, or 429 past the limits). It uses no request session: a refusal here leaves no connection behind."""
    authenticator = SyncAuthenticator(
        AppPasswordReads(state.sessionmaker),
        RateLimiter(state.sessionmaker, state.refusals),
        sync_policy(state.settings, state.jwt_auth.token_secret),
    )
    return await authenticator.authenticate(
        request.headers.get("authorization"), client_ip(request), utcnow(), session=request.cookies.get(SESSION_COOKIE)
    )
