"""Webinar sessions as events (issue 23): where to join (any external room), why a session was cancelled, and a
sequence raised on every change of time, place or state (calendars keep the highest, RFC 5545). The stored state
only says « cancelled » or not: the others follow the clock, and « ended » is new.

Revision ID: 9e4c2a7b5d18
Revises: 7d2e4b9a1c65
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4c2a7b5d18"
down_revision: str | None = "7d2e4b9a1c65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE session_status ADD VALUE IF NOT EXISTS 'ended' BEFORE 'replay_available'")
    op.add_column("webinar_session", sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False))
    op.add_column("webinar_session", sa.Column("join_url", sa.String(length=2000), nullable=True))
    op.add_column("webinar_session", sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("webinar_session", "sequence")
    op.drop_column("webinar_session", "join_url")
    op.drop_column("webinar_session", "cancel_reason")
    # PostgreSQL cannot drop an enum value: 'ended' stays in session_status (no row is stored with it).
