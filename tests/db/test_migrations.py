"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
import warnings
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from learning.db import models as m
from learning.db.base import NAMING_CONVENTION
from learning.db.migrate import alembic_config, upgrade
from learning.db.types import recognise_our_types
from tests.helpers.database import empty_database, on_database, sql


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("pgqueuer"))  # the job queue's own


async def _differences(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        recognise_our_types(engine.dialect)
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        opts={"compare_type": True, "compare_server_default": True, "include_name": _ours},
                    ),
                    m.Base.metadata,
                )
            )
    finally:
        await engine.dispose()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    with warnings.catch_warnings():
        # Alembic cannot compare generated-column expressions (the search vectors) and says so.
        warnings.filterwarnings("ignore", message="Computed default on .* cannot be modified", category=UserWarning)
        assert asyncio.run(_differences(database_url)) == []


def test_search_vectors_are_generated_with_the_french_unaccent_configuration(database_url: str) -> None:
    rows = sql(
        database_url,
        "SELECT table_name, generation_expression FROM information_schema.columns "
        "WHERE column_name = 'search_vector' ORDER BY table_name",
    )
    assert [row["table_name"] for row in rows] == ["lesson", "module", "webinar_session"]
    for row in rows:
        assert "fr_unaccent" in row["generation_expression"]


def test_constraint_names_follow_the_convention() -> None:
    names = {
        constraint.name
        for table in m.Base.metadata.tables.values()
        for constraint in table.constraints
        if constraint.name
    }
    assert "pk_user_account" in names
    assert "uq_user_account_email" in names
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}


def test_the_download_rollup_migration_backfills_keeps_up_and_downgrades(server_url: str) -> None:
    with empty_database(server_url, "learning_rollup") as name:
        url = on_database(server_url, name)
        upgrade(url, "b7e3f0a91c25")
        asset = uuid.uuid4()
        sql(url, "INSERT INTO media_asset (id, ref, rendition, kind, status, name, extension, mime_type, size_bytes,"
                 " storage_key) VALUES ($1, 'e1', 'original', 'audio', 'ready', 'e1', 'mp3', 'audio/mpeg', 10, 'k')",
            asset)  # fmt: skip
        add = ("INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day)"
               " SELECT $1, md5(n::text), $2::date + interval '9 hours', $2::date + interval '9 hours', $3, $2"
               " FROM generate_series(1, $4) AS n")  # fmt: skip
        sql(url, add, asset, dt.date(2026, 3, 2), "AntennaPod", 3)
        sql(url, add, asset, dt.date(2026, 3, 3), "Spotify", 2)
        upgrade(url)
        rollup = "SELECT day, app, downloads FROM download_day ORDER BY day, app"
        assert [tuple(row) for row in sql(url, rollup)] == [
            (dt.date(2026, 3, 2), "AntennaPod", 3), (dt.date(2026, 3, 3), "Spotify", 2)
        ]  # fmt: skip
        sql(url, add, asset, dt.date(2026, 3, 3), "Spotify", 4)  # kept up by the trigger from now on
        sql(url, "DELETE FROM media_download WHERE app = 'AntennaPod'")
        assert [tuple(row) for row in sql(url, rollup)] == [(dt.date(2026, 3, 3), "Spotify", 6)]
        command.downgrade(alembic_config(url), "b7e3f0a91c25")
        tables = "SELECT tablename FROM pg_tables WHERE tablename = 'download_day'"
        assert sql(url, tables) == []
        indexes = "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_media_download_asset_day'"
        assert len(sql(url, indexes)) == 1
        sql(url, add, asset, dt.date(2026, 3, 4), "Spotify", 1)  # no trigger left behind
        upgrade(url)
        assert [tuple(row) for row in sql(url, rollup)] == [
            (dt.date(2026, 3, 3), "Spotify", 6), (dt.date(2026, 3, 4), "Spotify", 1)
        ]  # fmt: skip


def test_the_deleted_accounts_feed_tokens_migration_keeps_them_gone_and_downgrades(server_url: str) -> None:
    with empty_database(server_url, "learning_gone") as name:
        url = on_database(server_url, name)
        upgrade(url, "c4a8e2f61d93")
        add_user = (
            "INSERT INTO user_account (id, email, password_hash, role, token_version)"
            " VALUES ($1, $2, 'x', 'learner', 1)"
        )
        add_token = (
            "INSERT INTO private_feed_token (id, user_id, token_hash, hint, revoked_at) VALUES ($1, $2, $3, $4, $5)"
        )
        leaving, staying = uuid.uuid4(), uuid.uuid4()
        sql(url, add_user, leaving, "part@example.org")
        sql(url, add_user, staying, "reste@example.org")
        replaced_at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        sql(url, add_token, uuid.uuid4(), leaving, "a" * 64, "aaaaaa", replaced_at)
        sql(url, add_token, uuid.uuid4(), leaving, "b" * 64, "bbbbbb", None)
        sql(url, add_token, uuid.uuid4(), staying, "c" * 64, "cccccc", None)
        upgrade(url)

        sql(url, "DELETE FROM user_account WHERE id = $1", leaving)
        tokens = (
            "SELECT token_hash, user_id, hint, revoked_at, last_used_at, created_at, updated_at"
            " FROM private_feed_token ORDER BY token_hash"
        )
        gone_a, gone_b, kept = sql(url, tokens)
        assert gone_a["revoked_at"] == replaced_at  # revoked before: its instant stays
        assert gone_b["revoked_at"] is not None  # live until the account went
        for row in (gone_a, gone_b):
            assert row["user_id"] is None
            assert row["hint"] == ""
            assert row["last_used_at"] is None
            assert row["created_at"] == row["updated_at"] == row["revoked_at"]
        assert (kept["user_id"], kept["hint"], kept["revoked_at"]) == (staying, "cccccc", None)  # others untouched
        with pytest.raises(asyncpg.CheckViolationError):  # an owner-less token is never live
            sql(url, add_token, uuid.uuid4(), None, "d" * 64, "dddddd", None)

        command.downgrade(alembic_config(url), "c4a8e2f61d93")
        assert [row["token_hash"] for row in sql(url, tokens)] == ["c" * 64]  # the orphans went
        sql(url, "DELETE FROM user_account WHERE id = $1", staying)
        assert sql(url, tokens) == []  # CASCADE again
        triggers = "SELECT tgname FROM pg_trigger WHERE tgname = 'private_feed_token_orphaned'"
        assert sql(url, triggers) == []
        upgrade(url)
