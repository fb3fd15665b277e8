"""Podcast feeds (one per webinar series or module) and learners' private feed tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db.base import Base, Timestamps, UUIDPrimaryKey
from learning.db.models.catalog import Origin
from learning.db.models.media import MediaAsset, _enum


class FeedKind(StrEnum):
    WEBINAR_SERIES = "webinar_series"
    MODULE = "module"


class PodcastFeed(UUIDPrimaryKey, Timestamps, Base):
    """A feed's channel settings (from ``feeds/*.yaml``); its episodes come from the series or module."""

    __tablename__ = "podcast_feed"

    slug: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[FeedKind] = mapped_column(_enum(FeedKind, "feed_kind"))
    source_slug: Mapped[str] = mapped_column(String(120))  # the series' or the module's slug
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(255), default="")
    owner_name: Mapped[str] = mapped_column(String(255), default="")
    owner_email: Mapped[str] = mapped_column(String(320), default="")
    language: Mapped[str] = mapped_column(String(16), default="fr")
    category: Mapped[str] = mapped_column(String(100), default="Education")
    subcategory: Mapped[str | None] = mapped_column(String(100))
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    artwork_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    podcast_type: Mapped[str] = mapped_column(String(16), default="episodic")
    medium: Mapped[str] = mapped_column(String(32), default="podcast")
    locked: Mapped[bool] = mapped_column(Boolean, default=True)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)  # itunes:complete once no session is to come
    # A series: the enclosure of its podcast:liveItem entries, and podcast:updateFrequency (rule and wording).
    live_enclosure_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
    update_rrule: Mapped[str | None] = mapped_column(String(200))
    update_text: Mapped[str | None] = mapped_column(String(120))
    copyright: Mapped[str | None] = mapped_column(String(255))
    # podcast:guid, assigned once from the first public URL and kept when the host moves.
    podcast_guid: Mapped[uuid.UUID] = mapped_column(unique=True)
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "content_origin"), default=Origin.CONTENT)
    content_hash: Mapped[str | None] = mapped_column(String(64))

    artwork: Mapped[MediaAsset | None] = relationship(foreign_keys=[artwork_id], lazy="raise")
    live_enclosure: Mapped[MediaAsset | None] = relationship(foreign_keys=[live_enclosure_id], lazy="raise")

    __table_args__ = (UniqueConstraint("kind", "source_slug"),)


class PrivateFeedToken(UUIDPrimaryKey, Timestamps, Base):
    """A learner's private feed token: only its SHA-256 is stored; revoking keeps the row (for the record).

    Its account deleted, the row stays so its URLs answer 410 Gone, but names nobody: the foreign key sets
    ``user_id`` to NULL and a trigger (``private_feed_token_orphaned``, migration 8b3f5d2e7a61) revokes it and
    keeps only the hash and ``revoked_at`` (``hint`` empty, ``last_used_at`` NULL, both dates ``revoked_at``).
    """

    __tablename__ = "private_feed_token"

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )  # NULL: the account was deleted
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the token's first characters, to tell tokens apart
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("user_id IS NOT NULL OR revoked_at IS NOT NULL", name="owned_or_revoked"),)


class FeedVersion(Base):
    """What a public feed last looked like (a digest of everything rendered) and since when: its Last-Modified
    and lastBuildDate move whenever its bytes change, a new public base URL included.

    No NOTIFY trigger: writing it is a consequence of rendering, not a catalog change.
    """

    __tablename__ = "feed_version"

    feed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("podcast_feed.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
