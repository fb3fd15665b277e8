"""notify account changes (verified-token memory of every app process)

Revision ID: c3f8a1d2e4b7
Revises: 182ba002c152
Create Date: 2026-11-26 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c3f8a1d2e4b7"
down_revision: str | None = "182ba002c152"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every app process listens on this channel to forget the tokens it verified (see accounts/auth.py):
    # a changed password, role or a deleted account must count at once everywhere.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION notify_accounts_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('learning_accounts', TG_OP);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER user_account_changed AFTER UPDATE OR DELETE OR TRUNCATE ON user_account "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_accounts_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS user_account_changed ON user_account")
    op.execute("DROP FUNCTION IF EXISTS notify_accounts_change()")
