"""Issuing, showing and revoking attestations.

A learner may have one attestation in force per subject (a module, or the whole course): asking again gives
the same one. It is issued only when the module is completed — ``ModuleProgress.completed``, the one rule of
completion — or, for the course, when every published module is. What it says is kept as it was issued."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from learning.attestations.credentials import page_url, signed
from learning.attestations.keys import InstanceKey
from learning.attestations.numbers import new_number, normalise
from learning.attestations.pdf import printable, render_pdf
from learning.attestations.repositories import AttestationRepository
from learning.attestations.text import PLATFORM
from learning.catalog.services import CatalogService
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, LearningError, NotFound, Unprocessable
from learning.progress.events import ModuleProgress, ProgressService

NAME_MAX = 120
REASON_MAX = 500
MODULES_MAX = 1000  # the published modules a course attestation reads: far past the catalog, still a bound
MEDIA_KINDS = (m.LessonKind.VIDEO, m.LessonKind.AUDIO)
_SPACES = re.compile(r"\s+")


class AttestationNotFound(NotFound):
    title = "Attestation not found"


class NotCompleted(Conflict):
    title = "Not completed"


class AttestationRevoked(LearningError):
    status_code = 410
    title = "Attestation revoked"


class InvalidName(Unprocessable):
    title = "Invalid name"


class InvalidSubject(Unprocessable):
    title = "Invalid subject"


class InvalidReason(Unprocessable):
    title = "Invalid revocation reason"


@dataclass(frozen=True, slots=True)
class Offers:
    """What a learner may ask for now: the modules they completed without an attestation in force, and the
    course when they completed every published module and have none for it."""

    modules: list[m.Module]
    course: bool


@dataclass(frozen=True, slots=True)
class Issued:
    attestation: m.Attestation
    created: bool  # False: the one already in force


def module_subject(slug: str) -> str:
    return f"module:{slug}"


def clean_name(name: str) -> str:
    """The name as it will be printed: spaces collapsed; ``InvalidName`` (422) when empty, longer than 120
    characters or with a character the PDF's fonts cannot print."""
    cleaned = _SPACES.sub(" ", name).strip()
    if not cleaned or len(cleaned) > NAME_MAX:
        raise InvalidName(f"The name must have 1 to {NAME_MAX} characters.")
    if not printable(cleaned):
        raise InvalidName("The name has characters the attestation's fonts cannot print.")
    return cleaned


class AttestationService:
    def __init__(
        self,
        attestations: AttestationRepository,
        progress: ProgressService,
        catalog: CatalogService,
        key: InstanceKey,
        base_url: str,
    ) -> None:
        self.attestations = attestations
        self.progress = progress
        self.catalog = catalog
        self.key = key
        self.base_url = base_url.rstrip("/")

    # --- a learner ------------------------------------------------------------------------------
    async def issue(self, user_id: uuid.UUID, *, module_slug: str | None, name: str) -> Issued:
        """Issue the attestation of a completed module (``module_slug``) or, with None, of the course (every
        published module completed); the one in force if there is one. 409 (``NotCompleted``) before that, 404
        for a module that is not published."""
        printed = await anyio.to_thread.run_sync(clean_name, name)  # the first call reads the fonts' tables
        if module_slug is not None:
            subject, title = module_subject(module_slug), None
            found = [await self.progress.module(user_id, module_slug)]
        else:
            subject, title = m.COURSE_SUBJECT, PLATFORM
            found = await self._course(user_id)
        current = await self.attestations.in_force(user_id, subject)
        if current is not None:
            return Issued(current, created=False)
        unfinished = [item.module.title for item in found if not item.completed or item.enrollment is None]
        if unfinished:
            raise NotCompleted(
                "Not completed yet: " + ", ".join(unfinished) + ". Finish every lesson first.", modules=unfinished
            )
        modules = [_snapshot(item) for item in found]
        values: dict[str, Any] = {
            "id": uuid.uuid4(), "number": new_number(), "user_id": user_id, "subject": subject,
            "learner_name": printed, "title": title or found[0].module.title, "modules": modules,
            "enrolled_at": min(item.enrollment.enrolled_at for item in found if item.enrollment is not None),
            "completed_at": max(_completed_at(item) for item in found),
            "measured_seconds": sum(float(module["measured_seconds"]) for module in modules),
            "issued_at": utcnow(),
        }  # fmt: skip
        attestation = await self.attestations.add_unless_in_force(values)
        return Issued(attestation, created=attestation.id == values["id"])

    async def _course(self, user_id: uuid.UUID) -> list[ModuleProgress]:
        published, _ = await self.catalog.modules(limit=MODULES_MAX, offset=0)
        if not published:
            raise NotCompleted("The course has no published module.", modules=[])
        return [await self.progress.module(user_id, module.slug) for module in published]

    async def offers(self, user_id: uuid.UUID) -> Offers:
        """The attestations the learner may ask for now (see ``Offers``)."""
        published, _ = await self.catalog.modules(limit=MODULES_MAX, offset=0)
        found = [await self.progress.module(user_id, module.slug) for module in published]
        done = [item for item in found if item.completed and item.enrollment is not None]
        held = {
            attestation.subject
            for attestation in await self.attestations.of_user(user_id)
            if not attestation.revoked_at
        }
        return Offers(
            modules=[item.module for item in done if module_subject(item.module.slug) not in held],
            course=bool(found) and len(done) == len(found) and m.COURSE_SUBJECT not in held,
        )

    async def mine(self, user_id: uuid.UUID) -> list[m.Attestation]:
        """The learner's attestations, the latest first (revoked ones too, saying so)."""
        return await self.attestations.of_user(user_id)

    async def own(self, user_id: uuid.UUID, number: str) -> m.Attestation:
        """One of the learner's attestations (404 for a number that is not theirs)."""
        found = await self._find(number)
        if found.user_id != user_id:
            raise AttestationNotFound("You have no attestation with this number.")
        return found

    async def pdf(self, user_id: uuid.UUID, number: str) -> tuple[m.Attestation, bytes]:
        """The PDF of one of the learner's attestations in force (410 once revoked)."""
        found = await self.own(user_id, number)
        _in_force(found)
        return found, await anyio.to_thread.run_sync(render_pdf, found, page_url(self.base_url, found.number))

    # --- anyone ---------------------------------------------------------------------------------
    async def public(self, number: str) -> m.Attestation:
        """The attestation a public page shows (a number typed by hand is read as Crockford base32)."""
        return await self._find(number)

    async def credential(self, number: str) -> tuple[m.Attestation, str]:
        """The attestation and its Open Badges 3.0 credential, as a VC-JWT (410 once revoked)."""
        found = await self._find(number)
        _in_force(found)
        return found, signed(found, self.base_url, self.key)

    # --- an admin -------------------------------------------------------------------------------
    async def every(self, *, limit: int, offset: int) -> tuple[list[m.Attestation], int]:
        """Every attestation, the latest first."""
        return await self.attestations.page(limit=limit, offset=offset)

    async def revoke(self, number: str, reason: str) -> m.Attestation:
        """Revoke an attestation: its page and its credential say so from now on. Revoking it again changes
        nothing (the first date and reason stay)."""
        cleaned = _SPACES.sub(" ", reason).strip()
        if not cleaned or len(cleaned) > REASON_MAX:
            raise InvalidReason(f"The reason must have 1 to {REASON_MAX} characters.")
        key = normalise(number)
        found = await self.attestations.by_number(key, lock=True) if key else None
        if found is None:
            raise AttestationNotFound("No attestation has this number.")
        if found.revoked_at is None:
            found.revoked_at = utcnow()
            found.revocation_reason = cleaned
            await self.attestations.flush()
        return found

    async def _find(self, number: str) -> m.Attestation:
        key = normalise(number)
        found = await self.attestations.by_number(key) if key else None
        if found is None:
            raise AttestationNotFound("No attestation has this number.")
        return found


def _in_force(attestation: m.Attestation) -> None:
    if attestation.revoked_at is not None:
        raise AttestationRevoked("This attestation was revoked.", revoked_at=attestation.revoked_at.isoformat())


def _completed_at(item: ModuleProgress) -> datetime:
    """When the module was completed: the latest completion of its lessons."""
    return max(row.completed_at for _, row in item.lessons if row is not None and row.completed_at is not None)


def _snapshot(item: ModuleProgress) -> dict[str, Any]:
    """A module as the attestation keeps it. The time is what the players measured on its video and audio
    lessons (the union of the segments played); a text lesson's reading is not timed, so it adds nothing."""
    enrollment = item.enrollment
    if enrollment is None:  # the caller issues only for modules the learner is enrolled in
        raise RuntimeError(f"no enrollment in {item.module.slug}")
    media = [(lesson, row) for lesson, row in item.lessons if lesson.kind in MEDIA_KINDS]
    return {
        "slug": item.module.slug, "title": item.module.title, "notice": item.module.notice,
        "enrolled_at": enrollment.enrolled_at.isoformat(), "completed_at": _completed_at(item).isoformat(),
        "measured_seconds": round(sum(row.watched_seconds for _, row in media if row is not None), 1),
        "media_lessons": len(media),
    }  # fmt: skip
