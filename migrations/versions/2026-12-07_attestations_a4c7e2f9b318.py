"""Attestations of completion (issue 24): the learner's name as given, what was attested, the dates, the measured
time, the public number and the revocation.

Revision ID: a4c7e2f9b318
Revises: d7b3f1a9e240
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a4c7e2f9b318"
down_revision: str | None = "d7b3f1a9e240"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=19), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=130), nullable=False),
        sa.Column("learner_name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("modules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measured_seconds", sa.Float(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_attestation_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation")),
        sa.UniqueConstraint("number", name=op.f("uq_attestation_number")),
    )
    op.create_index(op.f("ix_attestation_user_id"), "attestation", ["user_id"], unique=False)
    op.create_index(
        "ix_attestation_user_subject_in_force",
        "attestation",
        ["user_id", "subject"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_attestation_user_subject_in_force", table_name="attestation")
    op.drop_index(op.f("ix_attestation_user_id"), table_name="attestation")
    op.drop_table("attestation")
