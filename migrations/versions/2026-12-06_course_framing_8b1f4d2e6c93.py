"""A module's framing and objectives, a series' framing (issue 21).

- ``module.notice`` and ``webinar_series.notice``: a short statement of what the content is (for the shipped
  course: a reconstitution written from one published account), shown at the top of its pages and given by
  the API.
- ``module.objectives`` (what a learner will be able to do), ``module.audience`` and ``module.prerequisites``.

Revision ID: 8b1f4d2e6c93
Revises: 4e7a2c9b1d58
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "8b1f4d2e6c93"
down_revision = "4e7a2c9b1d58"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("module", sa.Column("notice", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "module",
        sa.Column("objectives", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    )
    op.add_column("module", sa.Column("audience", sa.Text(), server_default="", nullable=False))
    op.add_column("module", sa.Column("prerequisites", sa.Text(), server_default="", nullable=False))
    op.add_column("webinar_series", sa.Column("notice", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    op.drop_column("webinar_series", "notice")
    for column in ("prerequisites", "audience", "objectives", "notice"):
        op.drop_column("module", column)
