"""downloads

Revision ID: 5462dd978f38
Revises: 4a1e4ee5ad26
Create Date: 2026-11-26 03:44:00.371161
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5462dd978f38"
down_revision: str | None = "4a1e4ee5ad26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Download counting (IAB v2): a salt per UTC day, the hashed requests of the last days, the downloads.
    op.create_table(
        "listener_salt",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_listener_salt")),
    )
    op.create_table(
        "media_download",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("listener", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("app", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_asset.id"],
            name=op.f("fk_media_download_asset_id_media_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_download")),
    )
    op.create_index("ix_media_download_asset_day", "media_download", ["asset_id", "day"], unique=False)
    op.create_index(
        "ix_media_download_asset_listener", "media_download", ["asset_id", "listener", "window_start"], unique=False
    )
    op.create_table(
        "media_request",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("listener", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("range_start", sa.BigInteger(), nullable=False),
        sa.Column("range_end", sa.BigInteger(), nullable=False),
        sa.Column("app", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_asset.id"],
            name=op.f("fk_media_request_asset_id_media_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_request")),
    )
    op.create_index(
        "ix_media_request_asset_listener", "media_request", ["asset_id", "listener", "requested_at"], unique=False
    )
    op.create_index("ix_media_request_requested_at", "media_request", ["requested_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_media_request_requested_at", table_name="media_request")
    op.drop_index("ix_media_request_asset_listener", table_name="media_request")
    op.drop_table("media_request")
    op.drop_index("ix_media_download_asset_listener", table_name="media_download")
    op.drop_index("ix_media_download_asset_day", table_name="media_download")
    op.drop_table("media_download")
    op.drop_table("listener_salt")
