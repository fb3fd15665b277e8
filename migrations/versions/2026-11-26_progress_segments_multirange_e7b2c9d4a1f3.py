"""watched segments as a multirange of seconds (one-statement event ingestion)

Revision ID: e7b2c9d4a1f3
Revises: d566b37d0d4a
Create Date: 2026-11-26 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e7b2c9d4a1f3"
down_revision: str | None = "d566b37d0d4a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A range of seconds (float8, like the events' from/to): PostgreSQL then unions watched segments natively
    # (``+`` on multiranges joins overlapping and touching [from, to) ranges), so one statement can merge a
    # batch of events into a learner's progress under the row lock of its upsert (progress/repositories.py).
    op.execute(
        "CREATE TYPE seconds_range AS RANGE (subtype = float8, subtype_diff = float8mi, "
        "multirange_type_name = seconds_multirange)"
    )
    op.execute(
        """
        CREATE FUNCTION seconds_watched(segments seconds_multirange) RETURNS float8
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM unnest(segments) AS r $$
        """
    )
    # Aborts the statement that calls it (SQLSTATE 40001, serialization_failure: the caller retries) unless
    # ``ok``: the ingestion statement uses it when a concurrent request stored one of its event ids meanwhile.
    op.execute(
        """
        CREATE FUNCTION retry_unless(ok boolean, reason text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
          IF ok IS NOT TRUE THEN
            RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = reason;
          END IF;
          RETURN true;
        END $$
        """
    )
    op.execute("ALTER TABLE lesson_progress ADD COLUMN watched_ranges seconds_multirange")
    op.execute(
        "UPDATE lesson_progress p SET watched_ranges = coalesce((SELECT range_agg(seconds_range(lo, hi)) "
        "FROM (SELECT (s ->> 0)::float8 AS lo, (s ->> 1)::float8 AS hi FROM jsonb_array_elements(p.segments) s) x "
        "WHERE lo < hi), '{}')"
    )
    op.execute("ALTER TABLE lesson_progress DROP COLUMN segments")
    op.execute("ALTER TABLE lesson_progress RENAME COLUMN watched_ranges TO segments")
    op.execute("ALTER TABLE lesson_progress ALTER COLUMN segments SET NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE lesson_progress ADD COLUMN segments_json jsonb")
    op.execute(
        "UPDATE lesson_progress p SET segments_json = (SELECT coalesce(jsonb_agg(jsonb_build_array(lower(r), "
        "upper(r)) ORDER BY lower(r)), '[]') FROM unnest(p.segments) r)"
    )
    op.execute("ALTER TABLE lesson_progress DROP COLUMN segments")
    op.execute("ALTER TABLE lesson_progress RENAME COLUMN segments_json TO segments")
    op.execute("ALTER TABLE lesson_progress ALTER COLUMN segments SET NOT NULL")
    op.execute("DROP FUNCTION retry_unless(boolean, text)")
    op.execute("DROP FUNCTION seconds_watched(seconds_multirange)")
    op.execute("DROP TYPE seconds_range")
