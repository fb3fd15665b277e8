"""Test database helpers: settings for an app under test, emptying the tables."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from learning.config import Settings

REPOSITORY = Path(__file__).resolve().parents[2]


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an app under test: no environment, no .env, a throwaway data folder."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-key-not-for-production-use-0123456789",
        "public_base_url": "http://testserver.local",
        "content_dir": REPOSITORY,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


async def admin_execute(server_url: str, *statements: str) -> None:
    """Run statements on the server's maintenance database (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(libpq(server_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def on_database(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    base, _, query = server_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


@contextmanager
def empty_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new empty database (no schema) named ``prefix_<random>``: its name; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    connection = await asyncpg.connect(libpq(url))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def truncate_all(url: str) -> None:
    """Empty every table (each test starts from empty tables)."""
    asyncio.run(_truncate_all(url))


async def fetch(url: str, query: str, *args: Any) -> list[Any]:
    connection = await asyncpg.connect(libpq(url))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def sql(url: str, query: str, *args: Any) -> list[Any]:
    """Run one statement directly (outside the app) and return its rows."""
    return asyncio.run(fetch(url, query, *args))


class SwitchableSessionmaker:
    """A sessionmaker stand-in that can be pointed at another database while in use (``target``)."""

    def __init__(self, target: async_sessionmaker[AsyncSession]) -> None:
        self.target = target

    def begin(self) -> Any:
        return self.target.begin()

    def __call__(self) -> AsyncSession:
        return self.target()


async def statements_sent(
    url: str, work: Callable[[AsyncSession, AsyncEngine], Awaitable[object]]
) -> list[tuple[str, Any]]:
    """The statements (with their parameters) ``work`` sends through a fresh engine, in order."""
    engine = create_async_engine(url)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    try:
        async with AsyncSession(engine) as session:
            await work(session, engine)
    finally:
        await engine.dispose()
    return sent


async def plan_of(url: str, statement: str, parameters: Any, *, analyze: bool = False) -> dict[str, Any]:
    """PostgreSQL's plan of ``statement`` (EXPLAIN, FORMAT JSON; with ANALYZE and VERBOSE when ``analyze``)."""
    options = "ANALYZE, VERBOSE, FORMAT JSON" if analyze else "FORMAT JSON"
    connection = await asyncpg.connect(libpq(url))
    try:
        found = await connection.fetchval(f"EXPLAIN ({options}) {statement}", *parameters)
    finally:
        await connection.close()
    plan: dict[str, Any] = json.loads(found)[0]["Plan"]
    return plan
