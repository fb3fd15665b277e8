"""Registering for an upcoming session, and what it is told: a confirmation with the event attached at once, two
reminders before it, a notice when it moves or is cancelled, the replay when it is out. The messages go by the
mail queue; the « due » pass (``send_due``) runs every minute in whichever process runs the jobs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from learning.db import models as m
from learning.lib.calendar import render_calendar, session_event
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, NotFound
from learning.mail.compose import Attachment
from learning.mail.services import MailService
from learning.registrations.repositories import Registered, RegistrationRepository

DUE_BATCH = 500  # registrations one pass handles (the next pass takes the rest)


class SessionNotOpen(Conflict):
    title = "Registration closed"


class RegistrationNotFound(NotFound):
    title = "Registration not found"


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    first: timedelta  # before the session
    second: timedelta


class RegistrationService:
    def __init__(
        self,
        registrations: RegistrationRepository,
        mail: MailService,
        base_url: str,
        secret: str,
        policy: ReminderPolicy,
    ) -> None:
        self.registrations = registrations
        self.mail = mail
        self.base = base_url.rstrip("/")
        self.secret = secret.encode()
        self.policy = policy
        self._events: dict[tuple[uuid.UUID, int, datetime], bytes] = {}  # a session's event, once per version

    # --- a learner ------------------------------------------------------------------------------
    async def register(self, user_id: uuid.UUID, series_slug: str, session_slug: str) -> Registered:
        """Register for an upcoming session (again after unregistering: the same registration); the
        confirmation, with the event attached, is queued in this transaction."""
        now = utcnow()
        session = await self.registrations.session_of(series_slug, session_slug, now)
        if session is None:
            raise NotFound(f"No published session '{session_slug}' in '{series_slug}'.")
        has_replay = await self.registrations.has_replay(session)
        state = m.session_state(session.status, has_replay, session.scheduled_at, session.duration_minutes, now)
        if state not in (m.SessionStatus.UPCOMING, m.SessionStatus.LIVE):
            raise SessionNotOpen(f"This session is {state.value}: registration is closed.")
        found = await self.registrations.get(user_id, session.id, lock=True)
        if found is not None and found.cancelled_at is None:
            return await self._one(found.id)  # already registered: nothing sent again
        if found is None:
            found = m.SessionRegistration(
                user_id=user_id, session_id=session.id, created_at=now, told_sequence=session.sequence
            )
            await self.registrations.add(found)
        else:
            found.cancelled_at = None
            found.created_at = now
            found.told_sequence = session.sequence
            found.first_reminder_at = found.second_reminder_at = None
            await self.registrations.flush()
        # Reminders whose moment passed already are not sent late: registering 10 minutes before is enough.
        if session.scheduled_at - self.policy.first <= now:
            found.first_reminder_at = now
        if session.scheduled_at - self.policy.second <= now:
            found.second_reminder_at = now
        registered = await self._one(found.id)
        await self._send(registered, "registration_confirmed", f"Inscription confirmée : {session.title}", hold=False)
        return registered

    async def unregister(self, user_id: uuid.UUID, series_slug: str, session_slug: str) -> None:
        session = await self.registrations.session_of(series_slug, session_slug, utcnow())
        found = await self.registrations.get(user_id, session.id, lock=True) if session is not None else None
        if found is None or found.cancelled_at is not None:
            raise RegistrationNotFound("You are not registered for this session.")
        found.cancelled_at = utcnow()
        await self.registrations.flush()

    async def unregister_by_token(self, token: str) -> Registered:
        """The signed link of every message: unregisters without signing in (again: no change)."""
        registration_id = self.read_token(token)
        found = await self.registrations.by_id(registration_id, lock=True) if registration_id else None
        if found is None:
            raise RegistrationNotFound("This unregister link is not valid.")
        if found.cancelled_at is None:
            found.cancelled_at = utcnow()
            await self.registrations.flush()
        return await self._one(found.id)

    async def _one(self, registration_id: uuid.UUID) -> Registered:
        found = await self.registrations.one(registration_id)
        if found is None:
            raise RegistrationNotFound("No such registration.")
        return found

    async def attend(self, user_id: uuid.UUID | None, series_slug: str, session_slug: str) -> str | None:
        """The room of a live or upcoming session (None without one); a registered learner opening it during the
        session is recorded as attending (once)."""
        now = utcnow()
        session = await self.registrations.session_of(series_slug, session_slug, now)
        if session is None or session.join_url is None:
            return None
        state = m.session_state(session.status, False, session.scheduled_at, session.duration_minutes, now)
        if state not in (m.SessionStatus.UPCOMING, m.SessionStatus.LIVE):
            return None
        if user_id is not None and state is m.SessionStatus.LIVE:
            found = await self.registrations.get(user_id, session.id, lock=True)
            if found is not None and found.cancelled_at is None and found.attended_at is None:
                found.attended_at = now
                await self.registrations.flush()
        return session.join_url

    async def mine(self, user_id: uuid.UUID) -> list[Registered]:
        return await self.registrations.of_user(user_id)

    async def is_registered(self, user_id: uuid.UUID, series_slug: str, session_slug: str) -> bool:
        session = await self.registrations.session_of(series_slug, session_slug, utcnow())
        found = await self.registrations.get(user_id, session.id) if session is not None else None
        return found is not None and found.cancelled_at is None

    async def of_session(self, series_slug: str, session_slug: str) -> list[Registered]:
        session = await self.registrations.session_of(series_slug, session_slug, utcnow())
        if session is None:
            raise NotFound(f"No published session '{session_slug}' in '{series_slug}'.")
        return await self.registrations.of_session(session.id)

    # --- the signed links -------------------------------------------------------------------------
    def token(self, registration_id: uuid.UUID) -> str:
        mac = hmac.new(self.secret, b"unregister:" + registration_id.bytes, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(registration_id.bytes + mac).decode().rstrip("=")

    def read_token(self, token: str) -> uuid.UUID | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) if len(token) <= 64 else b""
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 32:
            return None
        registration_id = uuid.UUID(bytes=raw[:16])
        return (
            registration_id
            if hmac.compare_digest(raw, base64.urlsafe_b64decode(self.token(registration_id) + "=="))
            else None
        )

    def unregister_url(self, registration_id: uuid.UUID) -> str:
        """The page a message links to (it asks, then unregisters: link checkers open links)."""
        return f"{self.base}/seances/desinscription/{self.token(registration_id)}"

    def one_click_url(self, registration_id: uuid.UUID) -> str:
        """What mail apps POST to for List-Unsubscribe-Post (RFC 8058)."""
        return f"{self.base}/api/v1/registrations/unregister/{self.token(registration_id)}"

    # --- the due pass ------------------------------------------------------------------------------
    async def send_due(self, now: datetime) -> dict[str, int]:
        """Whatever is due at ``now``: notices of a change first (a moved session's reminders follow its new
        time), then reminders, then the replay. Each registration is told each thing once."""
        sent = {"notices": 0, "first_reminders": 0, "second_reminders": 0, "replays": 0}
        due = await self.registrations.due(now, now + self.policy.first, now + self.policy.second, DUE_BATCH)
        for found in due:
            registration, session = found.registration, found.session
            title = session.title
            if registration.told_sequence < session.sequence:
                cancelled = session.status is m.SessionStatus.CANCELLED
                subject = f"Séance annulée : {title}" if cancelled else f"Séance modifiée : {title}"
                await self._send(found, "session_changed", subject, cancelled=cancelled)
                registration.told_sequence = session.sequence
                # The reminders follow the new time: those still ahead of it will go.
                registration.first_reminder_at = now if session.scheduled_at - self.policy.first <= now else None
                registration.second_reminder_at = now if session.scheduled_at - self.policy.second <= now else None
                sent["notices"] += 1
                continue
            ahead = session.scheduled_at > now and session.status is not m.SessionStatus.CANCELLED
            if ahead and registration.second_reminder_at is None and session.scheduled_at <= now + self.policy.second:
                await self._send(found, "reminder", f"Bientôt : {title}", soon=True)
                registration.first_reminder_at = registration.first_reminder_at or now
                registration.second_reminder_at = now
                sent["second_reminders"] += 1
            elif ahead and registration.first_reminder_at is None and session.scheduled_at <= now + self.policy.first:
                await self._send(found, "reminder", f"Rappel : {title}", soon=False)
                registration.first_reminder_at = now
                sent["first_reminders"] += 1
            elif registration.replay_notice_at is None and await self.registrations.has_replay(session):
                await self._send(found, "replay_available", f"La rediffusion est disponible : {title}", calendar=False)
                registration.replay_notice_at = now
                sent["replays"] += 1
        await self.mail.send_held()
        await self.registrations.flush()
        return sent

    async def _send(
        self,
        found: Registered,
        template: str,
        subject: str,
        *,
        calendar: bool = True,
        hold: bool = True,
        **context: object,
    ) -> None:
        """Compose and queue a message about a registration (``hold``: with the pass's others, one job)."""
        session, series = found.session, found.series
        page = f"{self.base}/webinaires/{series.slug}/{session.slug}"
        unregister = self.unregister_url(found.registration.id)
        attachments = (
            [Attachment("seance.ics", "text/calendar; method=PUBLISH", self._event(found, page))] if calendar else []
        )
        await self.mail.send(
            template, kind=template, recipient=found.email, subject=subject, attachments=attachments, hold=hold,
            headers={
                "List-Unsubscribe": f"<{self.one_click_url(found.registration.id)}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            name=found.name or "", title=session.title, series=series.title, start=session.scheduled_at,
            minutes=session.duration_minutes, join_url=session.join_url or "", page=page, unregister=unregister,
            reason=session.cancel_reason, site=self.base, **context,
        )  # fmt: skip

    def _event(self, found: Registered, page: str) -> bytes:
        session = found.session
        version = (session.id, session.sequence, session.updated_at)
        if (known := self._events.get(version)) is not None:
            return known
        event = session_event(session, page)
        body = render_calendar(found.series.title, found.series.timezone, [event]).body
        self._events[version] = body
        return body
