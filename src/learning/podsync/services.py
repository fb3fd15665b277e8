"""App passwords, HTTP Basic authentication of the sync routes, and Nextcloud Login Flow v2.

An app password is 256 random bits shown once; only its SHA-256 is kept (like private-feed tokens: a secret
of that entropy needs no slow hash). Every sync request looks it up in the database, so a revoked password
is refused at once by every process. Failed attempts are counted (``lib/ratelimit``, shared by every
process) per claimed account from one client and per client: past either limit, 429 with Retry-After,
before any password is looked at.

Each app password has a private-feed token of its own (``FeedService.adopt_token``), the one in the
subscription URLs the app is given. It is derived from the instance's signing key and the password's id
(HMAC-SHA256), so the server can name those URLs again on any request without keeping the token: only its
hash is stored, as for every private-feed token. Revoking the password revokes the token.

Login Flow v2: the app polls with a token only it knows (its hash kept); the learner approves on our page,
reached by another token (the ``login`` URL). The app password is made when the approved flow is polled, and
that answer is given once: no password is ever stored in clear, not even until the app polls.

A gpodder.net client keeps the session cookie set on an answer to HTTP Basic (``SESSION_COOKIE``): its value
names the app password and is bound to its hash by the instance's key, and each request looks that password
up, so revoking it ends the session at once too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from learning.accounts.passwords import normalize_email
from learning.accounts.services import AccountService
from learning.db import models as m
from learning.feeds.services import FeedService
from learning.lib.errors import Forbidden, LearningError, NotFound, TooManyRequests, Unprocessable
from learning.lib.ratelimit import Limit, RateLimiter
from learning.podsync.repositories import AppPasswordReads, AppPasswordRepository, LoginFlowRepository
from learning.podsync.schemas import SyncUser

LOGIN_PAGE = "/compte/applications/connexion"  # + "/{login token}": where the learner approves (learning.web)
FLOW_LIFETIME = timedelta(minutes=20)
# gpodder.net clients keep the session cookie the server sets and stop sending credentials (mygpoclient's
# password manager gives them three times per client, then never again): set on each Basic-authenticated answer
# of /api/2, bound to the app password (revoking it ends the session at once).
SESSION_COOKIE = "podsync_session"
SESSION_PATH = "/api/2"
FLOW_KEPT = timedelta(days=1)  # expired flows are deleted after this
TOUCH_EVERY = timedelta(minutes=1)  # ``last_used_at`` is written at most this often
MAX_APP_PASSWORDS = 50  # live ones per account
MAX_NAME = 100
_MAX_AUTHORIZATION = 1024
_MAX_SECRET = 200


class SyncNotAuthenticated(LearningError):
    """401 with an HTTP Basic challenge: gPodder's and AntennaPod's HTTP stacks send credentials on it."""

    status_code = 401
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Basic realm="learning", charset="UTF-8"'})


class NotYourAccount(Forbidden):
    title = "Another account"


class AppPasswordNotFound(NotFound):
    title = "App password not found"


class TooManyAppPasswords(Unprocessable):
    title = "Too many app passwords"


class LoginFlowNotFound(NotFound):
    title = "Login flow not found"


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    account_limit: Limit  # failed attempts on one account from one client
    client_limit: Limit  # failed attempts from one client
    signing_key: bytes  # the instance's secret: the app passwords' feed tokens derive from it


@dataclass(frozen=True, slots=True)
class NewAppPassword:
    row: m.AppPassword
    password: str  # shown once


@dataclass(frozen=True, slots=True)
class StartedFlow:
    poll_token: str
    login_token: str


@dataclass(frozen=True, slots=True)
class FlowCredentials:
    login_name: str
    app_password: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def app_name(user_agent: str | None) -> str:
    """The name an app password from a login flow gets: the app's User-Agent, printable and bounded."""
    cleaned = "".join(ch for ch in (user_agent or "") if ch.isprintable()).strip()
    return cleaned[:MAX_NAME] or "Application de podcast"


def feed_token(signing_key: bytes, app_password_id: uuid.UUID) -> str:
    """The private-feed token of an app password (43 URL-safe characters, 256 bits)."""
    digest = hmac.new(signing_key, b"podsync-feed-token:" + app_password_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The (user, password) of an ``Authorization: Basic`` header, or None for no such header. A malformed
    one raises ``SyncNotAuthenticated``."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    if len(encoded) > _MAX_AUTHORIZATION:
        raise SyncNotAuthenticated("Malformed credentials.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise SyncNotAuthenticated("Malformed credentials.") from None
    user, colon, password = decoded.partition(":")
    if not colon or not user or not password:
        raise SyncNotAuthenticated("Malformed credentials.")
    return user, password


class AppPasswordService:
    def __init__(self, passwords: AppPasswordRepository, feeds: FeedService, signing_key: bytes) -> None:
        self.passwords = passwords
        self.feeds = feeds
        self.signing_key = signing_key

    async def create(self, user_id: uuid.UUID, name: str, now: datetime) -> NewAppPassword:
        """A new app password named ``name`` (shown once) and its own private-feed token."""
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            raise Unprocessable("Give the app password a name.")
        if len(await self.passwords.live(user_id)) >= MAX_APP_PASSWORDS:
            raise TooManyAppPasswords(f"At most {MAX_APP_PASSWORDS} app passwords: revoke one first.")
        password = secrets.token_urlsafe(32)
        password_id = uuid.uuid4()
        token = await self.feeds.adopt_token(user_id, feed_token(self.signing_key, password_id))
        row = m.AppPassword(
            id=password_id, user_id=user_id, name=name, secret_hash=secret_hash(password), hint=password[:4],
            feed_token_id=token.id, created_at=now,
        )  # fmt: skip
        await self.passwords.add(row)
        return NewAppPassword(row, password)

    async def live(self, user_id: uuid.UUID) -> list[m.AppPassword]:
        """The account's live app passwords, oldest first."""
        return await self.passwords.live(user_id)

    async def revoke(self, user_id: uuid.UUID, password_id: uuid.UUID, now: datetime) -> None:
        """Revoke one of the account's app passwords, and its feed token: refused from the next request on."""
        row = await self.passwords.revoke(user_id, password_id, now)
        if row is None:
            raise AppPasswordNotFound("You have no such app password.")
        if row.feed_token_id is not None:
            await self.feeds.revoke_token(row.feed_token_id, now)


class SyncAuthenticator:
    """Who sends a sync request (see the module's docstring). It reads through ``AppPasswordReads`` (short
    units of their own), never the request's session: it runs while the request's dependencies are resolved."""

    def __init__(self, reads: AppPasswordReads, limiter: RateLimiter, policy: SyncPolicy) -> None:
        self.reads = reads
        self.limiter = limiter
        self.policy = policy

    async def authenticate(
        self, authorization: str | None, client_ip: str, now: datetime, session: str | None = None
    ) -> SyncUser:
        """The sender of an ``Authorization: Basic`` header (an account's e-mail and one of its live app
        passwords), or, without one, of a gpodder.net session cookie (``session``); 401 otherwise, 429 past the
        failure limits (see the module's docstring)."""
        credentials = basic_credentials(authorization)
        if credentials is None and session:
            return await self._from_session(session, now)
        if credentials is None:  # no credentials yet (HTTP clients send them on the challenge): not a failure
            raise SyncNotAuthenticated("HTTP Basic credentials are required: your e-mail and an app password.")
        email, password = normalize_email(credentials[0]), credentials[1]
        keys = self._keys(email, client_ip)
        for key, limit in keys:
            verdict = await self.limiter.check(key, limit)
            if not verdict.allowed:
                raise _refused(verdict.retry_after)
        found = await self.reads.by_hash(secret_hash(password)) if len(password) <= _MAX_SECRET else None
        if found is None or not hmac.compare_digest(found[1].encode(), email.encode()):
            for key, limit in keys:
                verdict = await self.limiter.hit(key, limit)
                if not verdict.allowed:
                    raise _refused(verdict.retry_after)
            raise SyncNotAuthenticated("Wrong e-mail or app password (or the app password was revoked).")
        return await self._signed_in(*found, now, session=self._session(found[0]))

    async def _from_session(self, session: str, now: datetime) -> SyncUser:
        """A gpodder.net session cookie: its app password is looked up, so revoking it ends the session too."""
        given, _, _ = session.partition(".")
        try:
            password_id = uuid.UUID(given[:36])
        except ValueError:
            raise SyncNotAuthenticated("Invalid session: sign in again.") from None
        found = await self.reads.by_id(password_id)
        if found is None or not hmac.compare_digest(self._session(found[0]).encode(), session[:200].encode()):
            raise SyncNotAuthenticated("Invalid session: sign in again.")
        return await self._signed_in(*found, now, session=None)

    async def _signed_in(self, row: m.AppPassword, email: str, now: datetime, *, session: str | None) -> SyncUser:
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            await self.reads.touch(row.id, now)
        return SyncUser(row.user_id, email, row.id, feed_token(self.policy.signing_key, row.id), session)

    def _session(self, row: m.AppPassword) -> str:
        """The session cookie of an app password: its id, bound to its secret's hash by the instance's key."""
        mac = hmac.new(
            self.policy.signing_key, f"podsync-session:{row.id}:{row.secret_hash}".encode(), hashlib.sha256
        ).hexdigest()
        return f"{row.id}.{mac}"

    def _keys(self, email: str, client_ip: str) -> list[tuple[str, Limit]]:
        account = hashlib.sha256(email.encode()).hexdigest()[:32]  # bounded, whatever was sent
        return [
            (f"podsync:account:{account}:{client_ip}", self.policy.account_limit),
            (f"podsync:client:{client_ip}", self.policy.client_limit),
        ]


def check_url_user(sync_user: SyncUser, url_user: str) -> None:
    """gpodder.net clients name the account in the URL too: it must be the authenticated one."""
    if not hmac.compare_digest(normalize_email(url_user).encode(), sync_user.email.encode()):
        raise NotYourAccount("These credentials are not this account's.")


def _refused(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many failed sign-ins from this app: try again later.", retry_after=retry_after)


class LoginFlowService:
    def __init__(
        self,
        flows: LoginFlowRepository,
        passwords: AppPasswordService,
        accounts: AccountService,
        limiter: RateLimiter,
        start_limit: Limit,
    ) -> None:
        self.flows = flows
        self.passwords = passwords
        self.accounts = accounts
        self.limiter = limiter
        self.start_limit = start_limit

    async def start(self, name: str, client_ip: str, now: datetime) -> StartedFlow:
        """A new flow for the app ``name``, open for ``FLOW_LIFETIME``. Each starts counts as a sign-in attempt of
        its client (``start_limit``: 429 beyond)."""
        verdict = await self.limiter.hit(f"podsync:flow:{client_ip}", self.start_limit)
        if not verdict.allowed:
            raise TooManyRequests("Too many connection requests from this address.", retry_after=verdict.retry_after)
        await self.flows.purge(now - FLOW_KEPT)
        started = StartedFlow(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        await self.flows.add(
            m.LoginFlow(
                poll_hash=secret_hash(started.poll_token),
                login_hash=secret_hash(started.login_token),
                app_name=name,
                created_at=now,
                expires_at=now + FLOW_LIFETIME,
            )
        )
        return started

    async def pending(self, login_token: str, now: datetime) -> m.LoginFlow:
        """The open flow of this login token (404 once expired, answered, or unknown)."""
        flow = await self.flows.by_login(secret_hash(login_token[:_MAX_SECRET]), now)
        if flow is None:
            raise LoginFlowNotFound("This connection request expired or was already used.")
        return flow

    async def approve(self, login_token: str, user_id: uuid.UUID, now: datetime) -> m.LoginFlow:
        """The learner lets the app in: its next poll gets an app password of theirs."""
        flow = await self.flows.by_login(secret_hash(login_token[:_MAX_SECRET]), now, lock=True)
        if flow is None or (flow.approved_by is not None and flow.approved_by != user_id):
            raise LoginFlowNotFound("This connection request expired or was already used.")
        flow.approved_by, flow.approved_at = user_id, now
        await self.flows.flush()
        return flow

    async def refuse(self, login_token: str, now: datetime) -> None:
        """The learner turns the app away: the flow ends (its polls answer 404)."""
        flow = await self.flows.by_login(secret_hash(login_token[:_MAX_SECRET]), now, lock=True)
        if flow is None:
            raise LoginFlowNotFound("This connection request expired or was already used.")
        flow.consumed_at = now
        await self.flows.flush()

    async def poll(self, poll_token: str, now: datetime) -> FlowCredentials:
        """Once the flow is approved, and only once: the account's e-mail and a new app password named after
        the app; 404 before, after, and for an expired or unknown flow."""
        flow = await self.flows.consume_approved(secret_hash(poll_token[:_MAX_SECRET]), now)
        if flow is None or flow.approved_by is None:
            raise LoginFlowNotFound("Not approved (yet), expired, or already answered.")
        made = await self.passwords.create(flow.approved_by, flow.app_name, now)
        user = await self.accounts.get(flow.approved_by)
        return FlowCredentials(user.email, made.password)
