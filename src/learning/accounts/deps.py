"""Dependency providers of the accounts domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.passwords import PasswordHashing
from learning.accounts.repositories import CredentialReads, UserRepository
from learning.accounts.services import AccountService, LoginPolicy
from learning.config import Settings
from learning.lib.ratelimit import Limit, RateLimiter


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
            concurrency=settings.password_hash_concurrency, wait_seconds=settings.password_hash_wait_seconds
        ),
    )


def provide_account_service(db_session: NamedDependency[AsyncSession], state: State) -> AccountService:
    limiter = RateLimiter(state.sessionmaker, state.refusals)
    return AccountService(UserRepository(db_session), limiter, state.login_policy, CredentialReads(state.sessionmaker))
