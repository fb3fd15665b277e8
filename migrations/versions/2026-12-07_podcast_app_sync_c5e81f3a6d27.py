"""Podcast-app sync (issue 25): app passwords, Nextcloud Login Flow v2, devices, subscriptions and episode actions.

Revision ID: c5e81f3a6d27
Revises: a4c7e2f9b318
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e81f3a6d27"
down_revision: str | None = "a4c7e2f9b318"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_password",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("feed_token_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_token_id"],
            ["private_feed_token.id"],
            name=op.f("fk_app_password_feed_token_id_private_feed_token"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_app_password_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_password")),
        sa.UniqueConstraint("feed_token_id", name=op.f("uq_app_password_feed_token_id")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_app_password_secret_hash")),
    )
    op.create_index(op.f("ix_app_password_user_id"), "app_password", ["user_id"], unique=False)
    op.create_table(
        "login_flow",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("poll_hash", sa.String(length=64), nullable=False),
        sa.Column("login_hash", sa.String(length=64), nullable=False),
        sa.Column("app_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["user_account.id"],
            name=op.f("fk_login_flow_approved_by_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_flow")),
        sa.UniqueConstraint("login_hash", name=op.f("uq_login_flow_login_hash")),
        sa.UniqueConstraint("poll_hash", name=op.f("uq_login_flow_poll_hash")),
    )
    op.create_index(op.f("ix_login_flow_expires_at"), "login_flow", ["expires_at"], unique=False)
    op.create_table(
        "sync_device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sync_device_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_device")),
        sa.UniqueConstraint("user_id", "device", name=op.f("uq_sync_device_user_id_device")),
    )
    op.create_table(
        "sync_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("app_password_id", sa.Uuid(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("from_course", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_password_id"],
            ["app_password.id"],
            name=op.f("fk_sync_subscription_app_password_id_app_password"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_subscription")),
        sa.UniqueConstraint(
            "app_password_id", "device", "url_hash", name=op.f("uq_sync_subscription_app_password_id_device_url_hash")
        ),
    )
    op.create_table(
        "sync_episode_action",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("app_password_id", sa.Uuid(), nullable=True),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("podcast", sa.Text(), nullable=False),
        sa.Column("episode", sa.Text(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_password_id"],
            ["app_password.id"],
            name=op.f("fk_sync_episode_action_app_password_id_app_password"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_sync_episode_action_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_episode_action")),
        sa.UniqueConstraint("user_id", "digest", name=op.f("uq_sync_episode_action_user_id_digest")),
    )
    op.create_index(
        "ix_sync_episode_action_user_id_received_at", "sync_episode_action", ["user_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("sync_episode_action")
    op.drop_table("sync_subscription")
    op.drop_table("sync_device")
    op.drop_index(op.f("ix_login_flow_expires_at"), table_name="login_flow")
    op.drop_table("login_flow")
    op.drop_index(op.f("ix_app_password_user_id"), table_name="app_password")
    op.drop_table("app_password")
