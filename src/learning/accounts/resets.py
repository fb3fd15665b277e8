"""Password reset by e-mail: a request answers the same whether the address has an account or not (the lookup,
the token and the message happen later, in a job), a link works once and for ``ttl``, only its SHA-256 is
stored, and resetting ends every session of the account."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from learning.accounts.passwords import PasswordHashing, normalize_email, password_problem
from learning.accounts.repositories import ResetRepository, UserRepository
from learning.accounts.services import WeakPassword
from learning.config import Settings
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import TooManyRequests, Unprocessable
from learning.lib.queue import PASSWORD_RESET, JobQueue
from learning.lib.ratelimit import Limit, RateLimiter

MAX_EMAIL_LENGTH = 320
RESET_REQUESTED = (
    "If an account has this address, a link to choose a new password is on its way (it works once, for a limited time)."
)


class BadResetLink(Unprocessable):
    title = "Invalid or expired reset link"


@dataclass(frozen=True, slots=True)
class ResetPolicy:
    ttl: timedelta
    limit: Limit  # requests per client address, and per address asked
    password_min_length: int


def reset_policy(settings: Settings) -> ResetPolicy:
    return ResetPolicy(
        ttl=timedelta(minutes=settings.password_reset_minutes),
        limit=Limit(settings.password_reset_limit, 3600),
        password_min_length=settings.password_min_length,
    )


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _address_key(email: str) -> str:
    return "reset:email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


class PasswordResets:
    def __init__(
        self,
        users: UserRepository,
        resets: ResetRepository,
        limiter: RateLimiter,
        jobs: JobQueue,
        policy: ResetPolicy,
        hashing: PasswordHashing | None = None,
    ) -> None:
        """``hashing``: what sets the new password (the job that only issues links goes without)."""
        self.users = users
        self.resets = resets
        self.limiter = limiter
        self.jobs = jobs
        self.policy = policy
        self.hashing = hashing

    async def request(self, email: str, client_ip: str) -> None:
        """Ask for a reset link. Known address or not, the same work here (limits, one job queued): the answer
        tells nothing about who has an account."""
        normalized = normalize_email(email)[:MAX_EMAIL_LENGTH]
        for key in (f"reset:ip:{client_ip}", _address_key(normalized)):
            verdict = await self.limiter.hit(key, self.policy.limit)
            if not verdict.allowed:
                raise TooManyRequests("Too many password-reset requests.", retry_after=verdict.retry_after)
        await self.jobs.enqueue(PASSWORD_RESET, normalized.encode())

    async def issue(self, email: str) -> tuple[m.UserAccount, str] | None:
        """The job's part: a new token for the account of ``email`` (None without one)."""
        user = await self.users.get_by_email(email)
        if user is None:
            return None
        token = secrets.token_urlsafe(32)
        now = utcnow()
        await self.resets.add(
            m.PasswordReset(
                token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + self.policy.ttl
            )
        )
        return user, token

    async def check(self, token: str) -> m.PasswordReset:
        """The open reset of ``token`` (locked), or 422 for a link unknown, used or expired."""
        reset = await self.resets.lock(token_hash(token)) if 0 < len(token) <= 200 else None
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            raise BadResetLink("This reset link is unknown, already used or expired: ask for a new one.")
        return reset

    async def reset(self, token: str, password: str) -> m.UserAccount:
        """Set the new password; the link and every other open one stop working, and so do all sessions."""
        reset = await self.check(token)
        user = await self.users.lock(reset.user_id)
        if user is None:
            raise BadResetLink("This reset link is unknown, already used or expired: ask for a new one.")
        if problem := password_problem(password, email=user.email, min_length=self.policy.password_min_length):
            raise WeakPassword(problem)
        if self.hashing is None:
            raise RuntimeError("PasswordResets.reset needs the password hashing")
        user.password_hash = await self.hashing.hash(password)
        user.token_version += 1
        await self.resets.close_all(user.id, utcnow())
        await self.users.flush()
        return user
