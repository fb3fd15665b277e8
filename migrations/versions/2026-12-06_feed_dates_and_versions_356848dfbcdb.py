"""lesson dates from the content, and what each public feed last looked like (issue 19)

``lesson.published_at``: the episode's date, filled by the next ``learning content sync`` from the content
(the lesson's or its module's ``published``); null for a lesson the content does not date (feeds fall back to
``publish_at``, then ``created_at``, as before). ``feed_version``: the digest of a public feed and the instant
it last changed, so that Last-Modified and lastBuildDate move whenever the feed's bytes do, a new public base
URL included. Ids need no migration: existing rows keep theirs, only new rows get derived ids.

Revision ID: 356848dfbcdb
Revises: 5c1e9a7d2b40
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "356848dfbcdb"
down_revision: str | None = "5c1e9a7d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lesson", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "feed_version",
        sa.Column("feed_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["podcast_feed.id"], name=op.f("fk_feed_version_feed_id_podcast_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_feed_version")),
    )


def downgrade() -> None:
    op.drop_table("feed_version")
    op.drop_column("lesson", "published_at")
