"""Dependency providers of the accounts domain."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.addresses import AddressConfirmations, confirmation_policy
from learning.accounts.auth import client_ip
from learning.accounts.passwords import PasswordHashing
from learning.accounts.repositories import ConfirmationRepository, CredentialReads, ResetRepository, UserRepository
from learning.accounts.resets import PasswordResets, reset_policy
from learning.accounts.services import AccountService, LoginPolicy, registration_key, registrations_refused
from learning.config import Settings
from learning.lib.queue import JobQueue
from learning.lib.ratelimit import Limit, RateLimiter, remembered_refusal


def login_policy(settings: Settings) -> LoginPolicy:
    """The limits and the password hashing of one app (built once, by ``create_app`` or a command)."""
    window = settings.login_window_seconds
    return LoginPolicy(
        ip_limit=Limit(settings.login_ip_limit, window),
        account_limit=Limit(settings.login_account_limit, window),
        account_ceiling=Limit(settings.login_account_ceiling, window),
        backoff_seconds=settings.login_backoff_seconds,
        backoff_max_seconds=settings.login_backoff_max_seconds,
        register_limit=Limit(settings.register_ip_limit, settings.register_window_seconds),
        password_check_limit=Limit(settings.password_check_limit, window),
        password_min_length=settings.password_min_length,
        hashing=PasswordHashing(
            concurrency=settings.password_hash_concurrency,
            wait_seconds=settings.password_hash_wait_seconds,
            memory_kib=settings.password_hash_memory_kib,
            iterations=settings.password_hash_iterations,
        ),
    )


def provide_account_service(db_session: NamedDependency[AsyncSession], state: State) -> AccountService:
    limiter = RateLimiter(state.sessionmaker, state.refusals)
    return AccountService(UserRepository(db_session), limiter, state.login_policy, CredentialReads(state.sessionmaker))


def provide_password_resets(db_session: NamedDependency[AsyncSession], state: State) -> PasswordResets:
    limiter = RateLimiter(state.sessionmaker, state.refusals)
    return PasswordResets(
        UserRepository(db_session), ResetRepository(db_session), limiter, JobQueue(db_session),
        reset_policy(state.settings), hashing=state.login_policy.hashing,
    )  # fmt: skip


def provide_address_confirmations(db_session: NamedDependency[AsyncSession], state: State) -> AddressConfirmations:
    return AddressConfirmations(
        UserRepository(db_session), ConfirmationRepository(db_session), RateLimiter(state.sessionmaker, state.refusals),
        JobQueue(db_session), confirmation_policy(state.settings),
        accounts=provide_account_service(db_session, state),
    )  # fmt: skip


def requires_registrations_left(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """429 before the body is read for a client this process already knows is over its registration limit."""
    state = connection.app.state
    refused = remembered_refusal(
        state.refusals, registration_key(client_ip(connection)), state.login_policy.register_limit
    )
    if refused is not None:
        raise registrations_refused(refused.retry_after)
