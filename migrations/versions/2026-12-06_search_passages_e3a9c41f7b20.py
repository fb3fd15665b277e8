"""Search that scales with the page: passages for snippets, search vectors kept in the row.

- ``search_passage``: each paragraph of a lesson's or a session's summary and body, with its own vector,
  kept by triggers on every write. A result's snippet is highlighted in its best passage only: highlighting
  a whole body parses it again, which cost as much as the rest of the search for a page of 20.
- The search vectors are stored ``MAIN`` (compressed in the row, out of line only as a last resort): ranking
  reads every match's vector, and fetching each one from the TOAST table cost most of the ranking time. The
  rows are rewritten so that the vectors already stored move back into their rows.

Revision ID: e3a9c41f7b20
Revises: b7e3f0a91c25
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e3a9c41f7b20"
down_revision = "b7e3f0a91c25"
branch_labels = None
depends_on = None

SEARCHED = ("module", "lesson", "webinar_session")
WITH_PASSAGES = ("lesson", "webinar_session")


def upgrade() -> None:
    op.create_table(
        "search_passage",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('public.fr_unaccent'::regconfig, body)", persisted=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("owner_id", "position", name=op.f("pk_search_passage")),
    )
    # The passages are what the snippet was cut from before: the summary, then the body, split at blank lines.
    op.execute(
        r"""
        CREATE FUNCTION search_passages_of(summary_md text, body_md text)
        RETURNS TABLE (ordinal bigint, passage text) LANGUAGE sql IMMUTABLE AS $$
          SELECT part.ordinal, part.passage
          FROM regexp_split_to_table(summary_md || E'\n\n' || body_md, E'\n[ \t\r]*\n')
               WITH ORDINALITY AS part(passage, ordinal)
          WHERE btrim(part.passage, E' \t\r\n') <> ''
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION search_passages_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            DELETE FROM search_passage WHERE owner_id = OLD.id;
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO search_passage (owner_id, position, body)
            SELECT NEW.id, part.ordinal, part.passage FROM search_passages_of(NEW.summary, NEW.body_md) AS part;
          END IF;
          RETURN NULL;
        END $$
        """
    )
    for table in WITH_PASSAGES:
        op.execute(
            f"CREATE TRIGGER {table}_passages_added AFTER INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION search_passages_refresh()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_passages_changed AFTER UPDATE OF summary, body_md ON {table} FOR EACH ROW "
            "WHEN (OLD.summary IS DISTINCT FROM NEW.summary OR OLD.body_md IS DISTINCT FROM NEW.body_md) "
            "EXECUTE FUNCTION search_passages_refresh()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_passages_removed AFTER DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION search_passages_refresh()"
        )
        passages = f"SELECT t.id, part.ordinal, part.passage FROM {table} AS t, search_passages_of(t.summary, t.body_md) AS part"  # noqa: S608 — table names are constants
        op.execute(f"INSERT INTO search_passage (owner_id, position, body) {passages}")
    for table in SEARCHED:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute(f"UPDATE {table} SET title = title")  # noqa: S608 — recomputes and re-stores the generated vector


def downgrade() -> None:
    for table in SEARCHED:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE EXTENDED")
    for table in WITH_PASSAGES:
        for trigger in ("added", "changed", "removed"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_passages_{trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS search_passages_refresh()")
    op.execute("DROP FUNCTION IF EXISTS search_passages_of(text, text)")
    op.drop_table("search_passage")
