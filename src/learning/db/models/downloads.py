"""Download counting: the day's listener salt, the raw (hashed) requests and the counted downloads.

No raw IP address is ever stored: a listener is sha256(salt of the UTC day ‖ IP ‖ user agent), and the
salts are deleted after two days, after which the hashes can no longer be linked to anyone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base


class ListenerSalt(Base):
    """A random salt per UTC day, shared by every app process."""

    __tablename__ = "listener_salt"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class MediaRequest(Base):
    """One byte range served to a listener (kept a couple of days, to evaluate rolling windows)."""

    __tablename__ = "media_request"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media_asset.id", ondelete="CASCADE"), nullable=False)
    listener: Mapped[str] = mapped_column(String(64), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    range_start: Mapped[int] = mapped_column(BigInteger, nullable=False)
    range_end: Mapped[int] = mapped_column(BigInteger, nullable=False)  # inclusive
    app: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        Index("ix_media_request_asset_listener", "asset_id", "listener", "requested_at"),
        Index("ix_media_request_requested_at", "requested_at"),
    )


class MediaDownload(Base):
    """A counted download: at most one per listener and asset in any 24-hour window."""

    __tablename__ = "media_download"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media_asset.id", ondelete="CASCADE"), nullable=False)
    listener: Mapped[str] = mapped_column(String(64), nullable=False)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    app: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)  # the UTC day of counted_at

    __table_args__ = (Index("ix_media_download_asset_listener", "asset_id", "listener", "window_start"),)


class DownloadDay(Base):
    """Counted downloads per UTC day, asset and listening app: what the admin's figures read.

    Kept in step with ``media_download`` by its statement triggers (migration c4a8e2f61d93: one upsert per
    statement, in the transaction that counts the downloads), so the figures never scan the downloads."""

    __tablename__ = "download_day"

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media_asset.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    app: Mapped[str] = mapped_column(String(64), primary_key=True)
    downloads: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_download_day_day", "day"),)
