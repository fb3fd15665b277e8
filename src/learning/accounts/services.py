"""Account rules: registration, authentication with rate limits, password changes, sign-out.

Limits (counters in PostgreSQL, shared by every process; see the README's « Sign-in limits »):

- registrations per client address;
- login attempts per client address;
- failed logins per account *from one client*: a guesser is stopped without locking the owner out;
- failed logins per account from all clients, past a ceiling: a client that already failed on the account
  waits (one attempt per backoff period for all such clients, the period doubling with each further ceiling
  of failures), while a client that has not failed there signs in as usual;
- wrong current passwords on ``/me/password`` per account and per client.

Nothing waits for a hashing slot, or hashes, while holding a database connection: a registration hashes
before its first query; a login or a password change reads the stored hash through ``CredentialReads`` (a
short unit of its own), verifies with no connection held, and only then uses the request's session.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from learning.accounts.passwords import PasswordHashing, normalize_email, password_problem
from learning.accounts.repositories import CredentialReads, UserRepository
from learning.db import models as m
from learning.lib.clock import utcnow
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


class LastAdmin(Conflict):
    title = "Last admin"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    ip_limit: Limit
    account_limit: Limit  # failed logins per account from one client
    account_ceiling: Limit  # failed logins per account from all clients, before backoff
    backoff_seconds: int
    backoff_max_seconds: int
    register_limit: Limit
    password_check_limit: Limit
    password_min_length: int
    hashing: PasswordHashing


def _account_key(email: str) -> str:
    # Hashed: a counter's key has a bounded length whatever the submitted address.
    return hashlib.sha256(email.encode()).hexdigest()[:32]


class PasswordChangedMeanwhile(Conflict):
    title = "Password changed meanwhile"


def registration_key(client_ip: str) -> str:
    return f"register:ip:{client_ip}"


def registrations_refused(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many registrations from this address.", retry_after=retry_after)


class AccountService:
    def __init__(
        self,
        users: UserRepository,
        limiter: RateLimiter,
        policy: LoginPolicy,
        credentials: CredentialReads | None = None,
    ) -> None:
        """``credentials``: where password checks read the stored hash (the app's short reads); without it
        (the command line), the ``users`` session reads it."""
        self.users = users
        self.limiter = limiter
        self.policy = policy
        self.credentials = credentials

    async def _by_email(self, email: str) -> m.UserAccount | None:
        if self.credentials is None:
            return await self.users.get_by_email(email)
        return await self.credentials.by_email(email)

    async def _by_id(self, user_id: uuid.UUID) -> m.UserAccount | None:
        if self.credentials is None:
            return await self.users.get(user_id)
        return await self.credentials.by_id(user_id)

    async def register(
        self,
        *,
        email: str,
        password: str,
        display_name: str | None = None,
        role: m.Role = m.Role.LEARNER,
        client_ip: str | None = None,
    ) -> m.UserAccount:
        """Create an account; the e-mail is normalised and must be unused. Registrations are limited per
        client address (``client_ip``; None for the command line)."""
        if client_ip is not None:
            verdict = await self.limiter.hit(registration_key(client_ip), self.policy.register_limit)
            if not verdict.allowed:
                raise registrations_refused(verdict.retry_after)
        email = self.valid_email(email)
        if problem := password_problem(password, email=email, min_length=self.policy.password_min_length):
            raise WeakPassword(problem)
        # Hashed before the first query of the request's session, which then keeps a connection to the end.
        password_hash = await self.policy.hashing.hash(password)
        if await self.users.get_by_email(email) is not None:
            raise EmailTaken("An account already exists for this e-mail address.")
        user = m.UserAccount(
            email=email,
            password_hash=password_hash,
            display_name=display_name.strip() if display_name else None,
            role=role,
            token_version=1,
        )
        return await self.users.add(user)

    async def authenticate(self, *, email: str, password: str, client_ip: str) -> m.UserAccount:
        """Check credentials under the limits of the module's docstring."""
        policy = self.policy
        account = _account_key(normalize_email(email))
        ip_verdict = await self.limiter.hit(f"login:ip:{client_ip}", policy.ip_limit)
        if not ip_verdict.allowed:
            raise TooManyRequests("Too many login attempts from this address.", retry_after=ip_verdict.retry_after)
        pair_key = f"login:pair:{account}:{client_ip}"
        here = await self.limiter.check(pair_key, policy.account_limit)
        if not here.allowed:
            raise TooManyRequests(
                "Too many failed logins for this account from this address.", retry_after=here.retry_after
            )
        account_key = f"login:account:{account}"
        if here.hits > 0:
            await self._back_off(account, await self.limiter.count(account_key, policy.account_ceiling.window_seconds))
        user = await self._by_email(normalize_email(email))  # detached: no connection held while verifying
        if not await policy.hashing.verify(user.password_hash if user else None, password) or user is None:
            await self.limiter.hit(pair_key, policy.account_limit)
            await self.limiter.hit(account_key, policy.account_ceiling)
            raise InvalidCredentials("The e-mail or the password is wrong.")
        if policy.hashing.needs_rehash(user.password_hash):
            await self._rehash(user, password)
        return user

    async def _rehash(self, user: m.UserAccount, password: str) -> None:
        """Store a hash made under today's parameters (the old one verified ``password``); the same password,
        so tokens stay valid. A change made meanwhile wins."""
        new_hash = await self.policy.hashing.hash(password)
        locked = await self.users.lock(user.id)
        if locked is not None and locked.password_hash == user.password_hash:
            locked.password_hash = new_hash
            await self.users.flush()

    async def _back_off(self, account: str, failures: int) -> None:
        """Above the account's ceiling, clients that failed on it share one attempt per backoff period."""
        ceiling = self.policy.account_ceiling.hits
        if failures < ceiling:
            return
        doublings = min((failures - ceiling) // ceiling, 16)
        wait = min(self.policy.backoff_seconds * 2**doublings, self.policy.backoff_max_seconds)
        verdict = await self.limiter.hit(f"login:slow:{account}:{wait}", Limit(1, wait))
        if not verdict.allowed:
            raise TooManyRequests(
                "Many failed logins for this account: wait before trying again.", retry_after=verdict.retry_after
            )

    async def get(self, user_id: uuid.UUID) -> m.UserAccount:
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFound("No such user.")
        return user

    async def check_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> m.UserAccount:
        """The account, once ``password`` is its password; wrong ones are limited per account and per client."""
        keys = (f"password:account:{user_id}", f"password:ip:{client_ip}")
        for key in keys:
            verdict = await self.limiter.check(key, self.policy.password_check_limit)
            if not verdict.allowed:
                raise TooManyRequests(
                    "Too many wrong passwords: wait before trying again.", retry_after=verdict.retry_after
                )
        found = await self._by_id(user_id)  # detached: no connection held while verifying and hashing
        if found is None:
            raise UserNotFound("No such user.")
        if not await self.policy.hashing.verify(found.password_hash, password):
            for key in keys:
                await self.limiter.hit(key, self.policy.password_check_limit)
            raise InvalidCredentials("The current password is wrong.")
        return found

    async def delete_own(self, user_id: uuid.UUID, *, password: str, client_ip: str) -> None:
        """A learner deletes their account, password given again (the last admin is kept: 409)."""
        await self.check_password(user_id, password, client_ip)
        await self.delete(user_id)

    async def change_password(self, user_id: uuid.UUID, *, current: str, new: str, client_ip: str) -> m.UserAccount:
        """Replace the password and invalidate every token issued before. Wrong current passwords are
        limited per account and per client address."""
        found = await self.check_password(user_id, current, client_ip)
        if problem := password_problem(new, email=found.email, min_length=self.policy.password_min_length):
            raise WeakPassword(problem)
        new_hash = await self.policy.hashing.hash(new)
        user = await self.users.lock(user_id)
        if user is None:
            raise UserNotFound("No such user.")
        if user.password_hash != found.password_hash:  # another change won the race since the check
            raise PasswordChangedMeanwhile("The password was changed meanwhile; sign in again.")
        user.password_hash = new_hash
        user.token_version += 1
        await self.users.flush()
        return user

    async def sign_out(self, subject: uuid.UUID | str, *, jti: str | None, expires_at: datetime) -> None:
        """Revoke one token (of the account ``subject``) in every process until it expires."""
        if jti is not None:
            await self.users.revoke(jti, expires_at, utcnow())
            return
        # A token issued before tokens carried an id: only ending all the account's tokens ends it.
        try:
            user = await self.users.get(subject if isinstance(subject, uuid.UUID) else uuid.UUID(subject))
        except ValueError:
            return
        if user is not None:
            user.token_version += 1
            await self.users.flush()

    async def sign_out_everywhere(self, user_id: uuid.UUID) -> None:
        """Revoke every token of the account (tokens carry the account's version, which moves on)."""
        user = await self.get(user_id)
        user.token_version += 1
        await self.users.flush()

    async def set_role(self, user: m.UserAccount, role: m.Role) -> None:
        if role is not m.Role.ADMIN:
            await self._keep_an_admin(user)
        user.role = role
        await self.users.flush()

    async def _keep_an_admin(self, user: m.UserAccount) -> None:
        if user.role is not m.Role.ADMIN:
            return
        admins = await self.users.lock_admins()
        if admins == [user.id]:
            raise LastAdmin("This is the last admin account: give the admin role to another account first.")

    async def find(self, email: str) -> m.UserAccount | None:
        return await self.users.get_by_email(normalize_email(email))

    def valid_email(self, email: str) -> str:
        normalized = normalize_email(email)
        if not _EMAIL.match(normalized) or len(normalized) > 320:
            raise Unprocessable("This is not a valid e-mail address.", field="email")
        return normalized

    async def list(self, *, limit: int, offset: int) -> tuple[list[m.UserAccount], int]:
        return await self.users.list(limit=limit, offset=offset)

    async def delete(self, user_id: uuid.UUID) -> None:
        """Delete an account; its tokens stop working at once. The last admin is kept (409).

        Its private-feed tokens are revoked and left with no owner by the database, in this same statement (see
        ``m.PrivateFeedToken``), so their URLs answer 410 Gone and name nobody."""
        user = await self.get(user_id)
        await self._keep_an_admin(user)
        await self.users.delete(user)
