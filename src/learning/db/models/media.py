"""Media assets in the object store: originals and their renditions."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey


def _enum(enum: type[StrEnum], name: str) -> Enum:
    return Enum(enum, name=name, values_callable=lambda members: [m.value for m in members])


class MediaKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    TRANSCRIPT = "transcript"
    CHAPTERS = "chapters"


class MediaStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    RETIRED = "retired"  # replaced by a newer file; kept for its download history


class Rendition(StrEnum):
    ORIGINAL = "original"
    AUDIO = "audio"
    POSTER = "poster"


class MediaAsset(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "media_asset"

    # The name content files use to refer to a shipped file (e.g. "webinar-2019-01"); null for uploads.
    ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("media_asset.id", ondelete="CASCADE"), index=True)
    rendition: Mapped[Rendition] = mapped_column(_enum(Rendition, "media_rendition"), default=Rendition.ORIGINAL)
    kind: Mapped[MediaKind] = mapped_column(_enum(MediaKind, "media_kind"))
    status: Mapped[MediaStatus] = mapped_column(_enum(MediaStatus, "media_status"), default=MediaStatus.PENDING)
    # The last URL segment: /media/{id}/{name}.{extension}
    name: Mapped[str] = mapped_column(String(200))
    extension: Mapped[str] = mapped_column(String(16))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
