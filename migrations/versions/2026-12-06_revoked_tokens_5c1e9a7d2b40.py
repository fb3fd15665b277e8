"""revoked bearer tokens (sign-out and sign-out everywhere, issue 17)

Revision ID: 5c1e9a7d2b40
Revises: 5c3e81a0d7f2
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e9a7d2b40"
down_revision: str | None = "5c3e81a0d7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_token")),
    )
    op.create_index(op.f("ix_revoked_token_expires_at"), "revoked_token", ["expires_at"], unique=False)
    # A revoked token must be refused at once by every process, including one that verified it already.
    op.execute(
        "CREATE TRIGGER revoked_token_added AFTER INSERT ON revoked_token "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_accounts_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS revoked_token_added ON revoked_token")
    op.drop_index(op.f("ix_revoked_token_expires_at"), table_name="revoked_token")
    op.drop_table("revoked_token")
