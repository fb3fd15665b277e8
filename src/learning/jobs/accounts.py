"""The jobs that e-mail an account's links: ``password_reset`` (for an address that has an account, a new
single-use link; an address without one gets nothing, and its requester the same answer as anyone: see
accounts/resets.py) and ``email_confirmation`` (a link confirming an address: see accounts/addresses.py)."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.accounts.addresses import AddressConfirmations, ConfirmationJob, ConfirmationPolicy
from learning.accounts.repositories import ConfirmationRepository, ResetRepository, UserRepository
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


CONFIRM_SUBJECT = "Confirmer votre adresse e-mail"
CHANGE_SUBJECT = "Confirmer votre nouvelle adresse e-mail"
CHANGE_NOTICE_SUBJECT = "Demande de changement d’adresse e-mail"


class AddressConfirmationMailer:
    """The ``email_confirmation`` job: a single-use link to the address to confirm, and for a change a notice to
    the account's present address (see accounts/addresses.py)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, policy: ConfirmationPolicy
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.policy = policy

    async def handle(self, payload: bytes) -> None:
        job = msgspec.json.decode(payload, type=ConfirmationJob)
        async with self.sessionmaker.begin() as session:
            jobs = JobQueue(session)
            confirmations = AddressConfirmations(
                UserRepository(session), ConfirmationRepository(session), RateLimiter(self.sessionmaker), jobs,
                self.policy,
            )  # fmt: skip
            issued = await confirmations.issue(job)
            if issued is None:
                return
            user, token = issued
            base = self.settings.base_url
            mail = MailService(MailRepository(session), jobs, self.settings.mail_from)
            name = user.display_name or ""
            await mail.send(
                "confirm_email", kind="email_confirmation", recipient=job.email,
                subject=CHANGE_SUBJECT if job.change else CONFIRM_SUBJECT, link=f"{base}/adresse/confirmer/{token}",
                hours=int(self.policy.ttl.total_seconds() // 3600), change=job.change, email=job.email, name=name,
                site=base,
            )  # fmt: skip
            if job.change:
                await mail.send(
                    "email_change_notice", kind="email_change_notice", recipient=user.email,
                    subject=CHANGE_NOTICE_SUBJECT, new_email=job.email, name=name, site=base,
                )  # fmt: skip
