"""Apply the Alembic migrations from code (``learning db upgrade``, ``learning serve``, the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from learning.paths import migrations_dir


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s_%%(rev)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; blocking (Alembic runs its own event loop for asyncpg)."""
    command.upgrade(alembic_config(database_url), revision)
