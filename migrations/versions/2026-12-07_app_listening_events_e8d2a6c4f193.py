"""Which podcast app and device reported a progress event made from an episode action (issue 25): the xAPI export
names them in the statement's context. And an index for the clock budget of a new play action (the learner's
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
    op.create_table(
        "app_listening_event",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("app", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_app_listening_event_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_app_listening_event")),
    )
    op.create_index(op.f("ix_app_listening_event_user_id"), "app_listening_event", ["user_id"], unique=False)
    op.create_index(
        "ix_sync_episode_action_user_id_action_timestamp",
        "sync_episode_action",
        ["user_id", "action", "timestamp"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sync_episode_action_user_id_action_timestamp", table_name="sync_episode_action")
    op.drop_index(op.f("ix_app_listening_event_user_id"), table_name="app_listening_event")
    op.drop_table("app_listening_event")
