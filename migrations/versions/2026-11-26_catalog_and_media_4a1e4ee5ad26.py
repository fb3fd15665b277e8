"""catalog and media

Revision ID: 4a1e4ee5ad26
Revises: 9b1d75bb8946
Create Date: 2026-11-26 03:28:38.043397
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4a1e4ee5ad26"
down_revision: str | None = "9b1d75bb8946"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CATALOG_TABLES = ("media_asset", "module", "lesson", "webinar_series", "webinar_session")


def upgrade() -> None:
    # French full-text search that ignores accents: « elus » finds « élus ».
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'fr_unaccent') THEN
            CREATE TEXT SEARCH CONFIGURATION public.fr_unaccent (COPY = pg_catalog.french);
            ALTER TEXT SEARCH CONFIGURATION public.fr_unaccent
              ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, french_stem;
          END IF;
        END $$
        """
    )
    op.create_table(
        "media_asset",
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("rendition", sa.Enum("original", "audio", "poster", name="media_rendition"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("video", "audio", "image", "transcript", "chapters", name="media_kind"),
            nullable=False,
        ),
        sa.Column("status", sa.Enum("pending", "ready", "failed", "retired", name="media_status"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("extension", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["media_asset.id"],
            name=op.f("fk_media_asset_parent_id_media_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_asset")),
        sa.UniqueConstraint("ref", name=op.f("uq_media_asset_ref")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_media_asset_storage_key")),
    )
    op.create_index(op.f("ix_media_asset_parent_id"), "media_asset", ["parent_id"], unique=False)
    op.create_table(
        "module",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("description_md", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(description_md, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "publication",
            sa.Enum("draft", "scheduled", "published", name="publication_state"),
            nullable=False,
        ),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.Enum("content", "admin", name="content_origin"), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module")),
        sa.UniqueConstraint("slug", name=op.f("uq_module_slug")),
    )
    op.create_index("ix_module_search_vector", "module", ["search_vector"], unique=False, postgresql_using="gin")
    op.create_index("ix_module_tags", "module", ["tags"], unique=False, postgresql_using="gin")
    op.create_table(
        "webinar_series",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("description_md", sa.Text(), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "publication",
            sa.Enum("draft", "scheduled", "published", name="publication_state"),
            nullable=False,
        ),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.Enum("content", "admin", name="content_origin"), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webinar_series")),
        sa.UniqueConstraint("slug", name=op.f("uq_webinar_series_slug")),
    )
    op.create_table(
        "lesson",
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("kind", sa.Enum("text", "video", "audio", name="lesson_kind"), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("media_id", sa.Uuid(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("completion_rule", sa.Enum("mark_done", "coverage", name="completion_rule"), nullable=False),
        sa.Column("completion_threshold", sa.Float(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(body_md, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "publication",
            sa.Enum("draft", "scheduled", "published", name="publication_state"),
            nullable=False,
        ),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.Enum("content", "admin", name="content_origin"), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_asset.id"], name=op.f("fk_lesson_media_id_media_asset"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["module.id"], name=op.f("fk_lesson_module_id_module"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson")),
        sa.UniqueConstraint("module_id", "slug", name=op.f("uq_lesson_module_id_slug")),
    )
    op.create_index(op.f("ix_lesson_module_id"), "lesson", ["module_id"], unique=False)
    op.create_index("ix_lesson_search_vector", "lesson", ["search_vector"], unique=False, postgresql_using="gin")
    op.create_table(
        "webinar_session",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("upcoming", "live", "replay_available", "cancelled", name="session_status"),
            nullable=False,
        ),
        sa.Column("speakers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("replay_id", sa.Uuid(), nullable=True),
        sa.Column("transcript_id", sa.Uuid(), nullable=True),
        sa.Column("chapters_id", sa.Uuid(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('public.fr_unaccent'::regconfig, coalesce(body_md, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "publication",
            sa.Enum("draft", "scheduled", "published", name="publication_state"),
            nullable=False,
        ),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.Enum("content", "admin", name="content_origin"), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["chapters_id"],
            ["media_asset.id"],
            name=op.f("fk_webinar_session_chapters_id_media_asset"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replay_id"],
            ["media_asset.id"],
            name=op.f("fk_webinar_session_replay_id_media_asset"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["webinar_series.id"],
            name=op.f("fk_webinar_session_series_id_webinar_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["media_asset.id"],
            name=op.f("fk_webinar_session_transcript_id_media_asset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webinar_session")),
        sa.UniqueConstraint("series_id", "slug", name=op.f("uq_webinar_session_series_id_slug")),
    )
    op.create_index("ix_webinar_session_scheduled_at", "webinar_session", ["scheduled_at"], unique=False)
    op.create_index(
        "ix_webinar_session_search_vector",
        "webinar_session",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(op.f("ix_webinar_session_series_id"), "webinar_session", ["series_id"], unique=False)
    # ### end Alembic commands ###
    # Every app process listens on this channel to drop its cached catalog and feeds (see lib/cache.py).
    op.execute(
        """
        CREATE OR REPLACE FUNCTION notify_catalog_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('learning_catalog', TG_TABLE_NAME);
          RETURN NULL;
        END $$
        """
    )
    for table in CATALOG_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_change()"
        )


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(op.f("ix_webinar_session_series_id"), table_name="webinar_session")
    op.drop_index("ix_webinar_session_search_vector", table_name="webinar_session", postgresql_using="gin")
    op.drop_index("ix_webinar_session_scheduled_at", table_name="webinar_session")
    op.drop_table("webinar_session")
    op.drop_index("ix_lesson_search_vector", table_name="lesson", postgresql_using="gin")
    op.drop_index(op.f("ix_lesson_module_id"), table_name="lesson")
    op.drop_table("lesson")
    op.drop_table("webinar_series")
    op.drop_index("ix_module_tags", table_name="module", postgresql_using="gin")
    op.drop_index("ix_module_search_vector", table_name="module", postgresql_using="gin")
    op.drop_table("module")
    op.drop_index(op.f("ix_media_asset_parent_id"), table_name="media_asset")
    op.drop_table("media_asset")
    # ### end Alembic commands ###
    op.execute("DROP FUNCTION IF EXISTS notify_catalog_change()")
    for name in (
        "session_status",
        "completion_rule",
        "lesson_kind",
        "content_origin",
        "publication_state",
        "media_status",
        "media_kind",
        "media_rendition",
    ):
        op.execute(f"DROP TYPE IF EXISTS {name}")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS public.fr_unaccent")
