"""What the admin CLI commands do, over one transaction each."""

from __future__ import annotations

from learning.accounts.deps import login_policy
from learning.accounts.repositories import UserRepository
from learning.accounts.services import AccountService
from learning.config import Settings
from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker
from learning.lib.ratelimit import RateLimiter


async def create_admin(settings: Settings, *, email: str, password: str) -> str:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as session:
            accounts = AccountService(
                UserRepository(session), RateLimiter(sessionmaker), login_policy(settings)
            )
            existing = await accounts.find(email)
            if existing is not None:
                await accounts.set_role(existing, m.Role.ADMIN)
                return f"{existing.email} is now an admin (password unchanged)"
            user = await accounts.register(email=email, password=password, role=m.Role.ADMIN)
            return f"admin {user.email} created"
    finally:
        await engine.dispose()
