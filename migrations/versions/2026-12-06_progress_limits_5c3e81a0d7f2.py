"""progress limits: the xAPI export's keyset index and the event quota counters (issue 17)

Revision ID: 5c3e81a0d7f2
Revises: e7b2c9d4a1f3
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c3e81a0d7f2"
down_revision: str | None = "e7b2c9d4a1f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Replaces the index on user_id alone (its prefix serves the same lookups): no extra index on the hot insert.
    op.create_index(
        "ix_progress_event_user_client_time", "progress_event", ["user_id", "client_time", "id"], unique=False
    )
    op.drop_index("ix_progress_event_user_id", table_name="progress_event")
    op.add_column("lesson_progress", sa.Column("quota_minute", sa.DateTime(timezone=True), nullable=True))
    op.add_column("lesson_progress", sa.Column("minute_events", sa.Integer(), server_default="0", nullable=False))
    op.add_column("lesson_progress", sa.Column("quota_day", sa.Date(), nullable=True))
    op.add_column("lesson_progress", sa.Column("day_events", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("lesson_progress", "day_events")
    op.drop_column("lesson_progress", "quota_day")
    op.drop_column("lesson_progress", "minute_events")
    op.drop_column("lesson_progress", "quota_minute")
    op.create_index("ix_progress_event_user_id", "progress_event", ["user_id"], unique=False)
    op.drop_index("ix_progress_event_user_client_time", table_name="progress_event")
