"""Dependency providers of the accounts domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.repositories import UserRepository
from learning.accounts.services import AccountService, LoginPolicy
from learning.config import Settings
from learning.lib.ratelimit import Limit, RateLimiter


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        ip_limit=Limit(settings.login_ip_limit, settings.login_window_seconds),
        account_limit=Limit(settings.login_account_limit, settings.login_window_seconds),
        password_min_length=settings.password_min_length,
    )


def provide_account_service(db_session: NamedDependency[AsyncSession], state: State) -> AccountService:
    return AccountService(UserRepository(db_session), RateLimiter(state.sessionmaker), state.login_policy)
