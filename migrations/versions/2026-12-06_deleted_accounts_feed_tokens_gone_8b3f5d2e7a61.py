"""private-feed tokens outlive their account, anonymous and revoked, so its feed URLs answer 410 Gone

Deleting an account used to delete its tokens (ON DELETE CASCADE): its private feed URLs then answered 404,
which podcast apps take for a passing failure and keep polling. Now the foreign key sets ``user_id`` to NULL,
and a trigger on that change marks the token revoked and clears what could tell of its learner: the row keeps
only the token's hash and when it stopped working (``created_at`` and ``updated_at`` become that instant,
``hint`` empty, ``last_used_at`` NULL). Done in the database, at the deletion, whatever deletes the account.
A check says it: a token with no owner is revoked.

Revision ID: 8b3f5d2e7a61
Revises: c4a8e2f61d93
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8b3f5d2e7a61"
down_revision = "c4a8e2f61d93"
branch_labels = None
depends_on = None

FK = "fk_private_feed_token_user_id_user_account"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION private_feed_token_orphaned() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.revoked_at := coalesce(OLD.revoked_at, now());
          NEW.hint := '';
          NEW.last_used_at := NULL;
          NEW.created_at := NEW.revoked_at;
          NEW.updated_at := NEW.revoked_at;
          RETURN NEW;
        END $$
        """
    )
    # Fired by the foreign key's SET NULL, in the statement that deletes the account.
    op.execute(
        "CREATE TRIGGER private_feed_token_orphaned BEFORE UPDATE OF user_id ON private_feed_token FOR EACH ROW "
        "WHEN (OLD.user_id IS NOT NULL AND NEW.user_id IS NULL) EXECUTE FUNCTION private_feed_token_orphaned()"
    )
    op.alter_column("private_feed_token", "user_id", existing_type=sa.Uuid(), nullable=True)
    op.drop_constraint(FK, "private_feed_token", type_="foreignkey")
    op.create_foreign_key(FK, "private_feed_token", "user_account", ["user_id"], ["id"], ondelete="SET NULL")
    op.create_check_constraint(
        op.f("ck_private_feed_token_owned_or_revoked"),
        "private_feed_token",
        "user_id IS NOT NULL OR revoked_at IS NOT NULL",
    )


def downgrade() -> None:
    # Before this revision a token always had an account: the deleted accounts' tokens go (their URLs: 404).
    op.drop_constraint(op.f("ck_private_feed_token_owned_or_revoked"), "private_feed_token", type_="check")
    op.execute("DELETE FROM private_feed_token WHERE user_id IS NULL")
    op.drop_constraint(FK, "private_feed_token", type_="foreignkey")
    op.create_foreign_key(FK, "private_feed_token", "user_account", ["user_id"], ["id"], ondelete="CASCADE")
    op.alter_column("private_feed_token", "user_id", existing_type=sa.Uuid(), nullable=False)
    op.execute("DROP TRIGGER IF EXISTS private_feed_token_orphaned ON private_feed_token")
    op.execute("DROP FUNCTION IF EXISTS private_feed_token_orphaned()")
