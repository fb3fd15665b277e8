"""Resumable uploads (tus) of replays: their bytes' progress and the processing state machine."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey
from learning.db.models.media import _enum


class UploadStatus(StrEnum):
    UPLOADING = "uploading"  # bytes still arriving
    UPLOADED = "uploaded"  # every byte is in the store; waiting for processing
    PROCESSING = "processing"
    READY = "ready"  # renditions exist and are attached to the target
    FAILED = "failed"  # see `error`; an admin may retry


class UploadTarget(StrEnum):
    WEBINAR_SESSION = "webinar_session"
    LESSON = "lesson"


class Upload(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "upload"

    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[UploadStatus] = mapped_column(_enum(UploadStatus, "upload_status"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100), default="")
    target_kind: Mapped[UploadTarget] = mapped_column(_enum(UploadTarget, "upload_target"))
    target_id: Mapped[uuid.UUID] = mapped_column(index=True)
    publish_on_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the bytes go: a generated key, never derived from the client's file name.
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    # S3: the multipart upload the bytes go into. The store is the truth about how many bytes arrived
    # (its parts, plus the incomplete-part object); `offset` mirrors it for the admin API.
    multipart_id: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="SET NULL"))
