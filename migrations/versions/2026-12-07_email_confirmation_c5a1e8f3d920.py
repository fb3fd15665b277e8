"""Confirmed e-mail addresses (issue 23): when an account's address was last confirmed, and the single-use links
that confirm one (the account's own address, or the one it asks to move to; SHA-256 only).

Revision ID: c5a1e8f3d920
Revises: b3f8d1e6a924
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5a1e8f3d920"
down_revision: str | None = "b3f8d1e6a924"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "email_confirmation",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_email_confirmation_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_email_confirmation")),
    )
    op.create_index(op.f("ix_email_confirmation_user_id"), "email_confirmation", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_confirmation_user_id"), table_name="email_confirmation")
    op.drop_table("email_confirmation")
    op.drop_column("user_account", "email_verified_at")
