"""Registrations for upcoming webinar sessions: who asked to be told (confirmation, reminders, notices of a change,
the replay), and what they were already sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, UUIDPrimaryKey


class SessionRegistration(UUIDPrimaryKey, Base):
    __tablename__ = "session_registration"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webinar_session.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # unregistered
    # The session's SEQUENCE the learner was last told of: a higher one means a notice is due.
    told_sequence: Mapped[int] = mapped_column(Integer, default=0)
    first_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    second_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replay_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("user_id", "session_id"),)
