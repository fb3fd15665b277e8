"""Account rules: registration, authentication with rate limits, password changes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from learning.accounts.passwords import hash_password, normalize_email, password_problem, verify_password
from learning.accounts.repositories import UserRepository
from learning.db import models as m
from learning.lib.errors import Conflict, NotAuthenticated, NotFound, TooManyRequests, Unprocessable
from learning.lib.ratelimit import Limit, RateLimiter

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")


class EmailTaken(Conflict):
    title = "E-mail already registered"


class InvalidCredentials(NotAuthenticated):
    title = "Invalid credentials"


class WeakPassword(Unprocessable):
    title = "Password refused"


class UserNotFound(NotFound):
    title = "User not found"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    ip_limit: Limit
    account_limit: Limit
    password_min_length: int


class AccountService:
    def __init__(self, users: UserRepository, limiter: RateLimiter, policy: LoginPolicy) -> None:
        self.users = users
        self.limiter = limiter
        self.policy = policy

    async def register(
        self, *, email: str, password: str, display_name: str | None = None, role: m.Role = m.Role.LEARNER
    ) -> m.UserAccount:
        """Create an account; the e-mail is normalised and must be unused."""
        email = self._valid_email(email)
        if problem := password_problem(password, email=email, min_length=self.policy.password_min_length):
            raise WeakPassword(problem)
        if await self.users.get_by_email(email) is not None:
            raise EmailTaken("An account already exists for this e-mail address.")
        user = m.UserAccount(
            email=email,
            password_hash=await hash_password(password),
            display_name=display_name.strip() if display_name else None,
            role=role,
            token_version=1,
        )
        return await self.users.add(user)

    async def authenticate(self, *, email: str, password: str, client_ip: str) -> m.UserAccount:
        """Check credentials; attempts are limited per client IP and failures per account."""
        email = normalize_email(email)
        ip_verdict = await self.limiter.hit(f"login:ip:{client_ip}", self.policy.ip_limit)
        if not ip_verdict.allowed:
            raise TooManyRequests("Too many login attempts from this address.", retry_after=ip_verdict.retry_after)
        account_key = f"login:account:{email}"
        account_verdict = await self.limiter.check(account_key, self.policy.account_limit)
        if not account_verdict.allowed:
            raise TooManyRequests("Too many failed logins for this account.", retry_after=account_verdict.retry_after)
        user = await self.users.get_by_email(email)
        if not await verify_password(user.password_hash if user else None, password) or user is None:
            await self.limiter.hit(account_key, self.policy.account_limit)
            raise InvalidCredentials("The e-mail or the password is wrong.")
        return user

    async def get(self, user_id: uuid.UUID) -> m.UserAccount:
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFound("No such user.")
        return user

    async def change_password(self, user_id: uuid.UUID, *, current: str, new: str) -> m.UserAccount:
        """Replace the password and invalidate every token issued before."""
        user = await self.get(user_id)
        if not await verify_password(user.password_hash, current):
            raise InvalidCredentials("The current password is wrong.")
        if problem := password_problem(new, email=user.email, min_length=self.policy.password_min_length):
            raise WeakPassword(problem)
        user.password_hash = await hash_password(new)
        user.token_version += 1
        await self.users.flush()
        return user

    async def set_role(self, user: m.UserAccount, role: m.Role) -> None:
        user.role = role
        await self.users.flush()

    async def find(self, email: str) -> m.UserAccount | None:
        return await self.users.get_by_email(normalize_email(email))

    def _valid_email(self, email: str) -> str:
        normalized = normalize_email(email)
        if not _EMAIL.match(normalized) or len(normalized) > 320:
            raise Unprocessable("This is not a valid e-mail address.", field="email")
        return normalized

    async def list(self, *, limit: int, offset: int) -> tuple[list[m.UserAccount], int]:
        return await self.users.list(limit=limit, offset=offset)

    async def delete(self, user_id: uuid.UUID) -> None:
        """Delete an account; its tokens stop working at once."""
        await self.users.delete(await self.get(user_id))
