"""Series feeds: the liveItem stand-in enclosure and podcast:updateFrequency.

Revision ID: 7d2f4c1b9e03
Revises: 356848dfbcdb
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7d2f4c1b9e03"
down_revision = "356848dfbcdb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "podcast_feed",
        sa.Column("live_enclosure_id", sa.Uuid(), sa.ForeignKey("media_asset.id", ondelete="SET NULL"), nullable=True),
    )
    op.add_column("podcast_feed", sa.Column("update_rrule", sa.String(200), nullable=True))
    op.add_column("podcast_feed", sa.Column("update_text", sa.String(120), nullable=True))


def downgrade() -> None:
    op.drop_column("podcast_feed", "update_text")
    op.drop_column("podcast_feed", "update_rrule")
    op.drop_column("podcast_feed", "live_enclosure_id")
