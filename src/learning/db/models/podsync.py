"""Podcast-app sync (issue 25): app passwords, Nextcloud Login Flow v2, the apps' devices, subscription
changes and episode actions, as gPodder's and Nextcloud gpoddersync's APIs carry them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, UUIDPrimaryKey


class AppPassword(UUIDPrimaryKey, Base):
    """A named password for a podcast app: only its SHA-256 is stored. Each has its own private-feed token
    (``feed_token_id``), the one its subscription URLs carry; revoking the password revokes that token."""

    __tablename__ = "app_password"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    feed_token_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("private_feed_token.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFlow(UUIDPrimaryKey, Base):
    """A Nextcloud Login Flow v2: the app polls with ``poll_token`` (only its hash kept), the learner approves
    at the page named by ``login_token`` (hash kept too). The app password is made when the approved flow is
    polled, answered once (``consumed_at``), so no password is ever kept in clear, even briefly."""

    __tablename__ = "login_flow"

    poll_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncDevice(UUIDPrimaryKey, Base):
    """A device as gpodder.net clients name it (``/api/2/devices/{user}/{device}.json``)."""

    __tablename__ = "sync_device"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default="other")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("user_id", "device"),)


class SyncSubscription(UUIDPrimaryKey, Base):
    """What one app password (and, for gpodder.net, one of its devices; ``""`` for gpoddersync) was told or
    told us it subscribes to. ``from_course``: one of the learner's course feeds (added by the server while
    enrolled, removed when not); the app's own removals are kept (they never unenroll)."""

    __tablename__ = "sync_subscription"

    app_password_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_password.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64))
    subscribed: Mapped[bool] = mapped_column(Boolean)
    from_course: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("app_password_id", "device", "url_hash"),)


class SyncEpisodeAction(Base):
    """An episode action as an app sent it (seconds; NULL where the app gave none). ``digest`` covers every
    field the app sent, so the same action sent twice is kept once; ``received_at`` answers ``since``."""

    __tablename__ = "sync_episode_action"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    app_password_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_password.id", ondelete="SET NULL"))
    device: Mapped[str] = mapped_column(String(64))
    podcast: Mapped[str] = mapped_column(Text)
    episode: Mapped[str] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))
    timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("user_id", "digest"),
        Index("ix_sync_episode_action_user_id_received_at", "user_id", "received_at"),
        # The clock budget of a new play action reads the learner's play actions around it (podsync/listening.py).
        Index("ix_sync_episode_action_user_id_action_timestamp", "user_id", "action", "timestamp"),
    )
