"""Which podcast app and device reported a progress event made from an episode action (issue 25), on the event
itself (empty for the web player's): the xAPI export names them in the statement's context. And an index for the clock budget of a new play action (the learner's
play actions around it).

Revision ID: e8d2a6c4f193
Revises: c5e81f3a6d27
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8d2a6c4f193"
down_revision: str | None = "c5e81f3a6d27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("progress_event", sa.Column("source_app", sa.String(length=100), nullable=True))
    op.add_column("progress_event", sa.Column("source_device", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_sync_episode_action_user_id_action_timestamp",
        "sync_episode_action",
        ["user_id", "action", "timestamp"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sync_episode_action_user_id_action_timestamp", table_name="sync_episode_action")
    op.drop_column("progress_event", "source_device")
    op.drop_column("progress_event", "source_app")
