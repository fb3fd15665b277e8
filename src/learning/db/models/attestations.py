"""Attestations of completion (« attestations de suivi »): what was attested, to whom, and whether it still holds.

An attestation keeps what it says (the learner's name as they gave it, the modules' titles, the dates and the
measured time) as it was issued, so its PDF, its public page and its credential say the same thing later, even
after the catalog changes. Its ``number`` is the key of a public page: random, never derived from an id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, UUIDPrimaryKey

COURSE_SUBJECT = "course"  # the subject of a course attestation; a module's is "module:<slug>"


class Attestation(UUIDPrimaryKey, Base):
    __tablename__ = "attestation"

    # Four groups of four Crockford base32 characters, joined by hyphens (attestations/numbers.py).
    number: Mapped[str] = mapped_column(String(19), nullable=False, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    subject: Mapped[str] = mapped_column(String(130), nullable=False)  # "course" or "module:<slug>"
    learner_name: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)  # the module's title, or the course's
    # Each module attested, as it was: slug, title, enrolled_at, completed_at, measured_seconds.
    modules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    measured_seconds: Mapped[float] = mapped_column(Float, nullable=False)  # watched and listened, as measured
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(String(500))

    # One attestation in force per learner and subject: asking again gives the same one.
    __table_args__ = (
        Index(
            "ix_attestation_user_subject_in_force", "user_id", "subject", unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )  # fmt: skip
