"""Search passages in plain text: snippets show words, not Markdown (issue 22).

``search_passages_of`` cut a lesson's or a session's Markdown at blank lines and kept each part as written, so
results showed ``**``, ``##`` and table rules (``|---|---|``). Each part is now made plain before it is
stored (and so before it is ranked and highlighted): headings', quotes' and lists' markers, emphasis, inline
code marks, images and links (their text kept), HTML tags and table pipes go; a table's rule row is dropped;
line breaks become spaces. The stored passages are rebuilt.

Revision ID: 3f6b8d1a2c47
Revises: 8b1f4d2e6c93
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "3f6b8d1a2c47"
down_revision = "8b1f4d2e6c93"
branch_labels = None
depends_on = None

WITH_PASSAGES = ("lesson", "webinar_session")

_PLAIN = r"""
CREATE OR REPLACE FUNCTION search_plain_text(markdown text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT btrim(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
      markdown,
      E'^[ \t]*\\|?[ \t]*:?-{3,}:?[ \t]*(\\|[ \t]*:?-{3,}:?[ \t]*)*\\|?[ \t]*$', '', 'gn'),  -- table rules
      E'^[ \t]{0,3}(#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\\d{1,9}[.)][ \t]+)', '', 'gn'),  -- block markers
      E'!\\[([^]]*)\\]\\([^)]*\\)', '\1', 'g'),  -- images: their text
      E'\\[([^]]*)\\]\\([^)]*\\)', '\1', 'g'),  -- links: their text
      E'<[^>]{1,200}>', '', 'g'),  -- HTML tags
      E'(\\*\\*|__|\\*|`)', '', 'g'),  -- emphasis and code marks
      E'[ \t]*\\|[ \t]*', ' · ', 'g'),  -- table cells
      E'^ · | · $', '', 'gn'),  -- a row's outer pipes
      E'(^|\n) · ', '\1', 'g'),
      E' · (\n|$)', '\1', 'g'),
    E'[ \t\r\n]+', ' ', 'g'), ' ')
$$
"""

_PASSAGES = r"""
CREATE OR REPLACE FUNCTION search_passages_of(summary_md text, body_md text)
RETURNS TABLE (ordinal bigint, passage text) LANGUAGE sql IMMUTABLE AS $$
  SELECT row_number() OVER (ORDER BY part.ordinal), part.plain
  FROM (
    SELECT split.ordinal, search_plain_text(split.passage) AS plain
    FROM regexp_split_to_table(summary_md || E'\n\n' || body_md, E'\n[ \t\r]*\n') WITH ORDINALITY AS split(passage, ordinal)
  ) AS part
  WHERE part.plain <> ''
$$
"""

_RAW_PASSAGES = r"""
CREATE OR REPLACE FUNCTION search_passages_of(summary_md text, body_md text)
RETURNS TABLE (ordinal bigint, passage text) LANGUAGE sql IMMUTABLE AS $$
  SELECT part.ordinal, part.passage
  FROM regexp_split_to_table(summary_md || E'\n\n' || body_md, E'\n[ \t\r]*\n')
       WITH ORDINALITY AS part(passage, ordinal)
  WHERE btrim(part.passage, E' \t\r\n') <> ''
$$
"""


def _rebuild() -> None:
    op.execute("DELETE FROM search_passage")
    for table in WITH_PASSAGES:
        passages = f"SELECT t.id, part.ordinal, part.passage FROM {table} AS t, search_passages_of(t.summary, t.body_md) AS part"  # noqa: S608 — table names are constants
        op.execute(f"INSERT INTO search_passage (owner_id, position, body) {passages}")


def upgrade() -> None:
    op.execute(_PLAIN)
    op.execute(_PASSAGES)
    _rebuild()


def downgrade() -> None:
    op.execute(_RAW_PASSAGES)
    op.execute("DROP FUNCTION IF EXISTS search_plain_text(text)")
    _rebuild()
