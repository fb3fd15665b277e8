"""The catalog: MOOC modules and lessons, webinar series and sessions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from learning.db.base import Base, Timestamps, UUIDPrimaryKey
from learning.db.models.media import MediaAsset, _enum

# French stemming plus accent folding (created by the catalog migration).
SEARCH_CONFIG = "public.fr_unaccent"


def _search_vector(*weighted: tuple[str, str]) -> Computed:
    parts = [
        f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce({column}, '')), '{weight}')"
        for column, weight in weighted
    ]
    return Computed(" || ".join(parts), persisted=True)


class Publication(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class Origin(StrEnum):
    CONTENT = "content"  # managed by `learning content sync` from the files
    ADMIN = "admin"  # created through the admin API


class LessonKind(StrEnum):
    TEXT = "text"
    VIDEO = "video"
    AUDIO = "audio"


class CompletionRule(StrEnum):
    MARK_DONE = "mark_done"
    COVERAGE = "coverage"


class SessionStatus(StrEnum):
    """A session's state. Stored, only CANCELLED (an admin's decision) counts; the others follow the clock and the
    replay (see ``session_state``): upcoming → live → ended → replay_available."""

    UPCOMING = "upcoming"
    LIVE = "live"
    ENDED = "ended"
    REPLAY_AVAILABLE = "replay_available"
    CANCELLED = "cancelled"


def session_state(
    stored: SessionStatus, has_replay: bool, scheduled_at: datetime, duration_minutes: int, now: datetime
) -> SessionStatus:
    """Where a session is now: cancelled if an admin said so, replay available once it has one, else by the
    clock (before its start, during it, after it)."""
    if stored is SessionStatus.CANCELLED:
        return SessionStatus.CANCELLED
    if has_replay:
        return SessionStatus.REPLAY_AVAILABLE
    if now < scheduled_at:
        return SessionStatus.UPCOMING
    if now < scheduled_at + timedelta(minutes=duration_minutes):
        return SessionStatus.LIVE
    return SessionStatus.ENDED


class Scheduled(Protocol):
    """Anything that carries a publication state: a catalog row, or a plain row read from one."""

    @property
    def publication(self) -> Publication: ...

    @property
    def publish_at(self) -> datetime | None: ...


def is_visible(row: Scheduled, now: datetime) -> bool:
    """The visibility rule, in Python (``Publishable.visible`` is the same rule in SQL): published, or
    scheduled and due."""
    return row.publication is Publication.PUBLISHED or (
        row.publication is Publication.SCHEDULED and row.publish_at is not None and row.publish_at <= now
    )


def publishes_later(row: Scheduled, now: datetime) -> datetime | None:
    """When a row scheduled but not yet due becomes visible; None for any other row."""
    if row.publication is Publication.SCHEDULED and row.publish_at is not None and row.publish_at > now:
        return row.publish_at
    return None


class Publishable:
    """Draft, scheduled (visible from ``publish_at``, without restart or cron) or published."""

    publication: Mapped[Publication] = mapped_column(_enum(Publication, "publication_state"), default=Publication.DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "content_origin"), default=Origin.ADMIN)
    # Hash of the source file for content-managed rows: a sync changes a row only when its file changed.
    content_hash: Mapped[str | None] = mapped_column(String(64))

    @classmethod
    def visible(cls, now: Any = None) -> ColumnElement[bool]:
        """The visibility rule in SQL (``is_visible`` is the same rule in Python)."""
        moment = now if now is not None else func.now()
        return or_(
            cls.publication == Publication.PUBLISHED,
            and_(cls.publication == Publication.SCHEDULED, cls.publish_at <= moment),
        )


class Module(UUIDPrimaryKey, Timestamps, Publishable, Base):
    __tablename__ = "module"

    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    notice: Mapped[str] = mapped_column(Text, default="", server_default="")  # what this content is (framing)
    objectives: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'::text[]"))
    audience: Mapped[str] = mapped_column(Text, default="", server_default="")
    prerequisites: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, _search_vector(("title", "A"), ("summary", "B"), ("description_md", "C"))
    )

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", lazy="raise", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_module_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_module_tags", "tags", postgresql_using="gin"),
    )


class Lesson(UUIDPrimaryKey, Timestamps, Publishable, Base):
    __tablename__ = "lesson"

    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[LessonKind] = mapped_column(_enum(LessonKind, "lesson_kind"))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    transcript_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    chapters_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    artwork_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The episode's date (RSS pubDate, Atom published), from the content: the lesson's `published`, or its
    # module's date plus one minute per position, so that apps sorting by date show the course order.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completion_rule: Mapped[CompletionRule] = mapped_column(_enum(CompletionRule, "completion_rule"))
    completion_threshold: Mapped[float] = mapped_column(Float, default=0.9)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, _search_vector(("title", "A"), ("summary", "B"), ("body_md", "C"))
    )

    module: Mapped[Module] = relationship(back_populates="lessons", lazy="raise")
    media: Mapped[MediaAsset | None] = relationship(foreign_keys=[media_id], lazy="raise")
    transcript: Mapped[MediaAsset | None] = relationship(foreign_keys=[transcript_id], lazy="raise")
    chapters: Mapped[MediaAsset | None] = relationship(foreign_keys=[chapters_id], lazy="raise")
    artwork: Mapped[MediaAsset | None] = relationship(foreign_keys=[artwork_id], lazy="raise")

    __table_args__ = (
        UniqueConstraint("module_id", "slug"),
        Index("ix_lesson_search_vector", "search_vector", postgresql_using="gin"),
    )


class WebinarSeries(UUIDPrimaryKey, Timestamps, Publishable, Base):
    __tablename__ = "webinar_series"

    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    organiser: Mapped[str] = mapped_column(String(200), default="")
    notice: Mapped[str] = mapped_column(Text, default="", server_default="")  # what this content is (framing)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    year: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)

    sessions: Mapped[list[WebinarSession]] = relationship(
        back_populates="series",
        lazy="raise",
        order_by="WebinarSession.scheduled_at",
        cascade="all, delete-orphan",
    )


class WebinarSession(UUIDPrimaryKey, Timestamps, Publishable, Base):
    __tablename__ = "webinar_session"

    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webinar_series.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, "session_status"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    join_url: Mapped[str | None] = mapped_column(String(2000))  # the room: BigBlueButton, Jitsi, Visio…
    # Raised on every change of time, place or state: a calendar takes the event with the highest (RFC 5545).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    speakers: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    replay_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    transcript_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    chapters_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    artwork_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, _search_vector(("title", "A"), ("summary", "B"), ("body_md", "C"))
    )

    series: Mapped[WebinarSeries] = relationship(back_populates="sessions", lazy="raise")
    replay: Mapped[MediaAsset | None] = relationship(foreign_keys=[replay_id], lazy="raise")
    transcript: Mapped[MediaAsset | None] = relationship(foreign_keys=[transcript_id], lazy="raise")
    chapters: Mapped[MediaAsset | None] = relationship(foreign_keys=[chapters_id], lazy="raise")
    artwork: Mapped[MediaAsset | None] = relationship(foreign_keys=[artwork_id], lazy="raise")

    __table_args__ = (
        UniqueConstraint("series_id", "slug"),
        Index("ix_webinar_session_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_webinar_session_scheduled_at", "scheduled_at"),
    )


class ContentManifest(Base):
    """The fingerprint of the content files (and of the code that turns them into rows) at the last sync that
    wrote them: `learning serve` skips its start-up sync when the files still have this fingerprint."""

    __tablename__ = "content_manifest"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # one row: "content"
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    files: Mapped[int] = mapped_column(Integer, nullable=False)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class SearchPassage(Base):
    """One paragraph of a lesson's or a session's summary and body, with its own search vector.

    Made by triggers on ``lesson`` and ``webinar_session`` (the search-passages migration), so every way of
    writing a text keeps its passages. Search results take their snippet from their best passage: highlighting
    a paragraph costs little, highlighting a whole body costs as much as indexing it again.
    """

    __tablename__ = "search_passage"

    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # a lesson's or a session's id
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(f"to_tsvector('{SEARCH_CONFIG}'::regconfig, body)", persisted=True)
    )
