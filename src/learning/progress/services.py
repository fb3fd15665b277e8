"""Enrollment rules: a learner enrolls in a published module; unenrolling keeps the history."""

from __future__ import annotations

import uuid

from learning.accounts.addresses import require_verified
from learning.accounts.repositories import UserRepository
from learning.accounts.services import UserNotFound
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import NotFound
from learning.progress.repositories import EnrollmentRepository


class ModuleNotOpen(NotFound):
    title = "Module not found"


class NotEnrolled(NotFound):
    title = "Not enrolled"


class EnrollmentService:
    def __init__(self, enrollments: EnrollmentRepository, *, verified_by: UserRepository | None = None) -> None:
        """``verified_by``: where the account is read when enrolling needs a confirmed e-mail address (a setting,
        ``require_verified_email``); None when it does not."""
        self.enrollments = enrollments
        self.verified_by = verified_by

    async def enroll(self, user_id: uuid.UUID, module_slug: str) -> tuple[m.Enrollment, m.Module, bool]:
        """Enroll (or re-enroll, restoring the same registration and history); True when it is new. Where the
        setting asks for it, an account whose address is not confirmed gets 403 (``EmailNotVerified``)."""
        module = await self.enrollments.visible_module(module_slug)
        if module is None:
            raise ModuleNotOpen(f"No published module '{module_slug}'.")
        enrollment = await self.enrollments.get(user_id, module.id, lock=True)
        if self.verified_by is not None and (enrollment is None or enrollment.status is not m.EnrollmentStatus.ACTIVE):
            user = await self.verified_by.get(user_id)
            if user is None:
                raise UserNotFound("No such user.")
            require_verified(user)
        if enrollment is None:
            created = m.Enrollment(
                user_id=user_id, module_id=module.id, registration=uuid.uuid4(), status=m.EnrollmentStatus.ACTIVE
            )
            return await self.enrollments.add(created), module, True
        if enrollment.status is m.EnrollmentStatus.WITHDRAWN:
            enrollment.status = m.EnrollmentStatus.ACTIVE
            enrollment.withdrawn_at = None
            await self.enrollments.flush()
            return enrollment, module, True
        return enrollment, module, False

    async def active(self, user_id: uuid.UUID) -> list[tuple[m.Enrollment, m.Module]]:
        return await self.enrollments.active_with_modules(user_id)

    async def withdraw(self, user_id: uuid.UUID, module_slug: str) -> None:
        """Unenroll: the enrollment and its history stay (re-enrolling restores them)."""
        module = await self.enrollments.module(module_slug)
        enrollment = await self.enrollments.get(user_id, module.id, lock=True) if module else None
        if enrollment is None or enrollment.status is not m.EnrollmentStatus.ACTIVE:
            raise NotEnrolled(f"You are not enrolled in '{module_slug}'.")
        enrollment.status = m.EnrollmentStatus.WITHDRAWN
        enrollment.withdrawn_at = utcnow()
        await self.enrollments.flush()
