"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from learning.db import models as m
from learning.db.base import NAMING_CONVENTION


async def _differences(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "compare_server_default": True}
                    ),
                    m.Base.metadata,
                )
            )
    finally:
        await engine.dispose()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    assert asyncio.run(_differences(database_url)) == []


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
