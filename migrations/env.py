"""Alembic environment: runs migrations over asyncpg. The URL comes from the caller or the environment."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from learning.db import models as m
from learning.db.types import recognise_our_types

config = context.config
target_metadata = m.Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("LEARNING_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: pass one from learning.db.migrate or set LEARNING_DATABASE_URL")
    return str(url)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """The job queue's tables belong to pgqueuer, not to our models: autogenerate leaves them alone."""
    return not (type_ == "table" and name is not None and name.startswith("pgqueuer"))


def _run(connection: Connection) -> None:
    recognise_our_types(connection.dialect)
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=include_name
    )
    with context.begin_transaction():
        # One migration run at a time, even when several app processes start together.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
