"""Confirmed e-mail addresses: a link sent to an address proves its owner reads it.

- **Verification**: at sign-up, and again on request, a link goes to the account's address; opening it marks the
  address confirmed (``email_verified_at``). A setting can require it before enrolling (``require_verified``).
- **Change**: the learner gives the new address and their password; a link goes to the new address and a notice
  to the old one. The account moves to the new address only when the link is opened, and it is then confirmed.

Links work once and for ``ttl``; only their SHA-256 is stored; opening one ends every other open link of the
account. Requests queue an ``email_confirmation`` job, which issues the token and composes the message (the
request only checks and counts: sending a link is limited per account).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import msgspec

from learning.accounts.repositories import ConfirmationRepository, UserRepository
from learning.accounts.services import AccountService, EmailTaken, UserNotFound
from learning.config import Settings
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, Forbidden, TooManyRequests, Unprocessable
from learning.lib.queue import EMAIL_CONFIRMATION, JobQueue
from learning.lib.ratelimit import Limit, RateLimiter


class BadConfirmationLink(Unprocessable):
    title = "Invalid or expired confirmation link"


class AlreadyVerified(Conflict):
    title = "E-mail address already confirmed"


class EmailNotVerified(Forbidden):
    title = "E-mail address not confirmed"


class SameEmail(Unprocessable):
    title = "Same e-mail address"


@dataclass(frozen=True, slots=True)
class ConfirmationPolicy:
    ttl: timedelta
    limit: Limit  # links sent per account


def confirmation_policy(settings: Settings) -> ConfirmationPolicy:
    return ConfirmationPolicy(
        ttl=timedelta(hours=settings.email_confirmation_hours), limit=Limit(settings.password_reset_limit, 3600)
    )


class ConfirmationJob(msgspec.Struct, frozen=True):
    """The job's payload: the account, and the address its link goes to (``change``: a new one)."""

    user: uuid.UUID
    email: str
    change: bool = False


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def require_verified(user: m.UserAccount) -> None:
    """403 for an account whose address is not confirmed (where a setting asks for it)."""
    if user.email_verified_at is None:
        raise EmailNotVerified(
            "Confirm your e-mail address first: open the link we sent to it (POST /api/v1/me/email/verification "
            "sends a new one)."
        )


class AddressConfirmations:
    def __init__(
        self,
        users: UserRepository,
        confirmations: ConfirmationRepository,
        limiter: RateLimiter,
        jobs: JobQueue,
        policy: ConfirmationPolicy,
        accounts: AccountService | None = None,
    ) -> None:
        """``accounts``: what checks the password of a change (the job that only issues links goes without)."""
        self.users = users
        self.confirmations = confirmations
        self.limiter = limiter
        self.jobs = jobs
        self.policy = policy
        self.accounts = accounts

    async def _queue(self, user_id: uuid.UUID, email: str, *, change: bool) -> None:
        verdict = await self.limiter.hit(f"confirm:user:{user_id}", self.policy.limit)
        if not verdict.allowed:
            raise TooManyRequests("Too many confirmation links asked for.", retry_after=verdict.retry_after)
        payload = msgspec.json.encode(ConfirmationJob(user=user_id, email=email, change=change))
        await self.jobs.enqueue(EMAIL_CONFIRMATION, payload)

    async def welcome(self, user: m.UserAccount) -> None:
        """At sign-up: a link to confirm the new account's address (not counted against the limit)."""
        payload = msgspec.json.encode(ConfirmationJob(user=user.id, email=user.email))
        await self.jobs.enqueue(EMAIL_CONFIRMATION, payload)

    async def request_verification(self, user_id: uuid.UUID) -> None:
        """A new link to the account's address (409 once it is confirmed)."""
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFound("No such user.")
        if user.email_verified_at is not None:
            raise AlreadyVerified("This e-mail address is already confirmed.")
        await self._queue(user.id, user.email, change=False)

    async def request_change(self, user_id: uuid.UUID, *, new_email: str, password: str, client_ip: str) -> str:
        """Send a link to ``new_email`` (password given again); the account keeps its address until the link is
        opened. The normalised new address is returned."""
        if self.accounts is None:
            raise RuntimeError("AddressConfirmations.request_change needs the account service")
        found = await self.accounts.check_password(user_id, password, client_ip)
        email = self.accounts.valid_email(new_email)
        if email == found.email:
            raise SameEmail("This is already the account's address.", field="email")
        if await self.users.get_by_email(email) is not None:
            raise EmailTaken("An account already exists for this e-mail address.")
        await self._queue(user_id, email, change=True)
        return email

    async def issue(self, job: ConfirmationJob) -> tuple[m.UserAccount, str] | None:
        """The job's part: a new link for the account and address of ``job`` (None when there is nothing to
        confirm any more: the account is gone, or its address changed or was confirmed meanwhile)."""
        user = await self.users.get(job.user)
        if user is None:
            return None
        if not job.change and (job.email != user.email or user.email_verified_at is not None):
            return None
        token = secrets.token_urlsafe(32)
        now = utcnow()
        await self.confirmations.add(
            m.EmailConfirmation(
                token_hash=_token_hash(token), user_id=user.id, email=job.email, created_at=now,
                expires_at=now + self.policy.ttl,
            )
        )  # fmt: skip
        return user, token

    async def check(self, token: str) -> m.EmailConfirmation:
        """The open link of ``token`` (locked), or 422 for one unknown, used or expired."""
        found = await self.confirmations.lock(_token_hash(token)) if 0 < len(token) <= 200 else None
        if found is None or found.used_at is not None or found.expires_at <= utcnow():
            raise BadConfirmationLink("This confirmation link is unknown, already used or expired: ask for a new one.")
        return found

    async def confirm(self, token: str) -> m.UserAccount:
        """Open the link: the account's address is (now) the link's, and confirmed; every other open link of the
        account stops working. 409 if another account took the address meanwhile."""
        confirmation = await self.check(token)
        user = await self.users.lock(confirmation.user_id)
        if user is None:
            raise BadConfirmationLink("This confirmation link is unknown, already used or expired: ask for a new one.")
        if confirmation.email != user.email:
            if await self.users.get_by_email(confirmation.email) is not None:
                raise EmailTaken("Another account uses this e-mail address now.")
            user.email = confirmation.email
        now = utcnow()
        user.email_verified_at = now
        await self.confirmations.close_all(user.id, now)
        await self.users.flush()
        return user
