"""The content manifest: `learning serve` skips its start-up sync when the content files have not changed.

Revision ID: b7e3f0a91c25
Revises: 9a4d6e2b1c70
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7e3f0a91c25"
down_revision = "9a4d6e2b1c70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_manifest",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_content_manifest")),
    )


def downgrade() -> None:
    op.drop_table("content_manifest")
