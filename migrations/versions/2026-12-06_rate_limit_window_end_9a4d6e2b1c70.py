"""Rate-limit counters keep their window's end, so maintenance never drops a window that is still running.

Windows last from a second to a week (registrations) or more (logins): a fixed retention of one day deleted
the counters of longer windows while they still counted. Existing rows keep the old one-day retention.

Revision ID: 9a4d6e2b1c70
Revises: 7d2f4c1b9e03
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9a4d6e2b1c70"
down_revision = "7d2f4c1b9e03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rate_limit_counter", sa.Column("window_end", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE rate_limit_counter SET window_end = window_start + interval '1 day'")
    op.alter_column("rate_limit_counter", "window_end", nullable=False)
    op.create_index("ix_rate_limit_counter_window_end", "rate_limit_counter", ["window_end"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_counter_window_end", table_name="rate_limit_counter")
    op.drop_column("rate_limit_counter", "window_end")
