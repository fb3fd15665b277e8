"""Accounts: users with a role, and the shared counters behind login rate limiting."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, Timestamps, UUIDPrimaryKey


class Role(StrEnum):
    LEARNER = "learner"
    ADMIN = "admin"


class UserAccount(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda roles: [r.value for r in roles]),
        nullable=False,
        default=Role.LEARNER,
    )
    # Bumped on password change: tokens carry it, so older tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # When the owner opened a confirmation link sent to ``email`` (None: never, or the address changed since).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitCounter(Base):
    """A fixed-window counter shared by every app process (the window is part of the key)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    # When the window stops counting: maintenance removes the row after that, never before.
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)


class RevokedToken(Base):
    """A signed-out bearer token's id (``jti``), refused until the token would have expired anyway.

    Kept in PostgreSQL so every app process refuses it; a trigger sends ``NOTIFY learning_accounts`` on insert,
    so every process also forgets the token it had verified (accounts/auth.py)."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
