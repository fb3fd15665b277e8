"""E-mail: every message the site sends is a row first (sent by a job, retried with backoff), and the single-use
tokens its links carry (stored hashed): password resets, and confirmations of an address."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey


class MailMessage(UUIDPrimaryKey, Timestamps, Base):
    """One e-mail to one recipient, as it will be sent (RFC 5322 bytes): a job sends it, at least once."""

    __tablename__ = "mail_message"

    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)  # password_reset…: what it is for
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # gave up after the last attempt
    last_error: Mapped[str | None] = mapped_column(Text)


class PasswordReset(Base):
    """A password-reset token, by its SHA-256: good once, until ``expires_at``."""

    __tablename__ = "password_reset"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailConfirmation(Base):
    """A link sent to ``email`` to prove its owner reads it, by its SHA-256: good once, until ``expires_at``.

    ``email`` is the account's address (verification) or the one it asked to move to (a change, made when the
    link is opened)."""

    __tablename__ = "email_confirmation"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
