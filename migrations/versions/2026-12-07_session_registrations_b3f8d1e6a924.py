"""Registrations for webinar sessions (issue 23): confirmation, reminders, notices of a change, the replay, and
attendance.

Revision ID: b3f8d1e6a924
Revises: 9e4c2a7b5d18
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3f8d1e6a924"
down_revision: str | None = "9e4c2a7b5d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_registration",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("told_sequence", sa.Integer(), nullable=False),
        sa.Column("first_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("second_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["webinar_session.id"],
            name=op.f("fk_session_registration_session_id_webinar_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_session_registration_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_registration")),
        sa.UniqueConstraint("user_id", "session_id", name=op.f("uq_session_registration_user_id_session_id")),
    )
    op.create_index(op.f("ix_session_registration_session_id"), "session_registration", ["session_id"], unique=False)
    op.create_index(op.f("ix_session_registration_user_id"), "session_registration", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_session_registration_user_id"), table_name="session_registration")
    op.drop_index(op.f("ix_session_registration_session_id"), table_name="session_registration")
    op.drop_table("session_registration")
