"""Learners' enrollments in modules (their progress builds on these)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey
from learning.db.models.media import _enum
from learning.db.types import Segments


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
    # The learner's visible lessons of the module they touched and completed, kept by triggers on
    # ``lesson_progress`` and ``lesson`` (the progress-tally migration): the admin's figures read these, not the
    # progress rows.
    lessons_touched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lessons_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("user_id", "module_id"),)


class ModuleProgressTally(Base):
    """How many actively enrolled learners of a module completed ``lessons_done`` of its lessons (``started``:
    touched at least one): the admin's figures (enrolled, started, completed, median) in a few rows per module.

    Folded from ``module_progress_change`` by the worker's maintenance; a read adds the changes not folded yet.
    """

    __tablename__ = "module_progress_tally"

    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), primary_key=True)
    lessons_done: Mapped[int] = mapped_column(Integer, primary_key=True)
    started: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    learners: Mapped[int] = mapped_column(BigInteger)


class ModuleProgressChange(Base):
    """One change of the tally (+1 or -1 learner in a bucket), appended by a trigger on ``enrollment``: inserts
    only, so learners progressing at once never wait for each other on a shared counter row."""

    __tablename__ = "module_progress_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    lessons_done: Mapped[int] = mapped_column(Integer)
    started: Mapped[bool] = mapped_column(Boolean)
    learners: Mapped[int] = mapped_column(Integer)


class EventKind(StrEnum):
    PLAYED = "played"  # a watched segment: from, to (seconds)
    POSITION = "position"  # a heartbeat: where the player is
    COMPLETED = "completed"  # a text lesson marked done


class ProgressEvent(Base):
    """Every event a client sent, once (its id is the client's): replays are recognised, not re-applied."""

    __tablename__ = "progress_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lesson.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "progress_event_kind"))
    client_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    start_seconds: Mapped[float | None] = mapped_column(Float)
    end_seconds: Mapped[float | None] = mapped_column(Float)
    position_seconds: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A podcast app's listening (issue 25): which app password's app, on which device, reported it; the xAPI
    # export names them. Empty for the web player's events.
    source_app: Mapped[str | None] = mapped_column(String(100))
    source_device: Mapped[str | None] = mapped_column(String(64))

    # A learner's events in the xAPI export's order: its keyset pages (and every lookup by learner) use it.
    __table_args__ = (Index("ix_progress_event_user_client_time", "user_id", "client_time", "id"),)


class LessonProgress(Base):
    """A learner's merged progress on a lesson: what was watched (a union of segments), where to resume,
    and completion, which never goes back."""

    __tablename__ = "lesson_progress"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lesson.id", ondelete="RESTRICT"), primary_key=True)
    segments: Mapped[list[list[float]]] = mapped_column(Segments, default=list)
    watched_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    position_seconds: Mapped[float | None] = mapped_column(Float)
    position_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Quota counters, kept in the row the ingestion statement writes anyway: the events stored for this lesson
    # in the minute starting at ``quota_minute`` (summed over the learner's rows: the per-learner quota) and
    # on the UTC day ``quota_day`` (the per-lesson quota).
    quota_minute: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    minute_events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quota_day: Mapped[date | None] = mapped_column(Date)
    day_events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
