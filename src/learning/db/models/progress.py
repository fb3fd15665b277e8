"""Learners' enrollments in modules (their progress builds on these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey
from learning.db.models.media import _enum


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"  # unenrolled: the history stays, re-enrolling restores it


class Enrollment(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "enrollment"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="RESTRICT"), index=True)
    # The xAPI registration: one per learner and module, kept across unenrolling and re-enrolling.
    registration: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    status: Mapped[EnrollmentStatus] = mapped_column(_enum(EnrollmentStatus, "enrollment_status"))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("user_id", "module_id"),)
