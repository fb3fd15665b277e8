"""The ``password_reset`` job: for an address that has an account, a new single-use link, sent by e-mail (an
address without one gets nothing, and its requester the same answer as anyone: see accounts/resets.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.accounts.repositories import ResetRepository, UserRepository
from learning.accounts.resets import PasswordResets, ResetPolicy
from learning.config import Settings
from learning.lib.queue import JobQueue
from learning.lib.ratelimit import RateLimiter
from learning.mail.repositories import MailRepository
from learning.mail.services import MailService

RESET_SUBJECT = "Choisir un nouveau mot de passe"


class PasswordResetMailer:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, policy: ResetPolicy) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.policy = policy

    async def handle(self, payload: bytes) -> None:
        email = payload.decode()
        async with self.sessionmaker.begin() as session:
            jobs = JobQueue(session)
            resets = PasswordResets(
                UserRepository(session), ResetRepository(session), RateLimiter(self.sessionmaker), jobs, self.policy
            )
            issued = await resets.issue(email)
            if issued is None:
                return
            user, token = issued
            base = self.settings.base_url
            await MailService(MailRepository(session), jobs, self.settings.mail_from).send(
                "password_reset", kind="password_reset", recipient=user.email, subject=RESET_SUBJECT,
                link=f"{base}/mot-de-passe/nouveau/{token}", minutes=int(self.policy.ttl.total_seconds() // 60),
                name=user.display_name or "", site=base,
            )  # fmt: skip
