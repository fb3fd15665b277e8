"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from learning.db import models as m
from learning.db.base import NAMING_CONVENTION
from learning.db.types import recognise_our_types
from tests.helpers.database import sql


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
