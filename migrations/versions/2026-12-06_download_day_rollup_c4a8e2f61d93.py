"""download_day: downloads per UTC day, asset and app; backfilled here, then kept by statement triggers on
media_download (in the transaction that counts the downloads, one upsert per statement).

The admin's figures read this rollup instead of ``media_download``, so ``ix_media_download_asset_day`` (only
used by those figures) goes: one index less to maintain on every counted download.

Revision ID: c4a8e2f61d93
Revises: e3a9c41f7b20
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4a8e2f61d93"
down_revision = "e3a9c41f7b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "download_day",
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("app", sa.String(length=64), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["media_asset.id"], name=op.f("fk_download_day_asset_id_media_asset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", "day", "app", name=op.f("pk_download_day")),
    )
    op.create_index("ix_download_day_day", "download_day", ["day"], unique=False)
    op.execute(
        "INSERT INTO download_day (asset_id, day, app, downloads)"
        " SELECT asset_id, day, app, count(*) FROM media_download GROUP BY asset_id, day, app"
    )
    op.drop_index("ix_media_download_asset_day", table_name="media_download")
    op.execute(
        "CREATE FUNCTION download_day_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO download_day AS t (asset_id, day, app, downloads)"
        " SELECT asset_id, day, app, count(*) FROM added GROUP BY asset_id, day, app ORDER BY asset_id, day, app"
        " ON CONFLICT (asset_id, day, app) DO UPDATE SET downloads = t.downloads + excluded.downloads;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION download_day_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE download_day AS t SET downloads = t.downloads - r.n"
        " FROM (SELECT asset_id, day, app, count(*) AS n FROM removed GROUP BY asset_id, day, app) AS r"
        " WHERE t.asset_id = r.asset_id AND t.day = r.day AND t.app = r.app;"
        " DELETE FROM download_day AS t USING (SELECT DISTINCT asset_id, day, app FROM removed) AS r"
        " WHERE t.asset_id = r.asset_id AND t.day = r.day AND t.app = r.app AND t.downloads <= 0;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER media_download_rollup_insert AFTER INSERT ON media_download REFERENCING NEW TABLE AS added"
        " FOR EACH STATEMENT EXECUTE FUNCTION download_day_added()"
    )
    op.execute(
        "CREATE TRIGGER media_download_rollup_delete AFTER DELETE ON media_download REFERENCING OLD TABLE AS removed"
        " FOR EACH STATEMENT EXECUTE FUNCTION download_day_removed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER media_download_rollup_delete ON media_download")
    op.execute("DROP TRIGGER media_download_rollup_insert ON media_download")
    op.execute("DROP FUNCTION download_day_removed()")
    op.execute("DROP FUNCTION download_day_added()")
    op.create_index("ix_media_download_asset_day", "media_download", ["asset_id", "day"], unique=False)
    op.drop_index("ix_download_day_day", table_name="download_day")
    op.drop_table("download_day")
