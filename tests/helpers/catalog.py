"""Loading the shipped content into a test database.

Hundreds of tests start from the shipped catalog. Syncing it takes a second or more (files read, media
probed and copied into the store), so each test process runs the real sync once per public base URL and
keeps what it wrote: the rows of the tables it filled (binary COPY) and the media store's files. A later
test asking for the shipped content where those tables are empty gets that copy: the same rows, objects
and content fingerprint a sync would leave there, its moments of writing made now, announced by the same
NOTIFY to the apps already listening (tests/catalog/test_shipped_copy.py holds the copy to the sync).
Tests of the sync itself pass ``fresh=True`` (or their own content folder).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import io
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema
from litestar.testing import TestClient

from learning.admin.commands import sync_content
from learning.catalog.content.manifest import content_fingerprint
from learning.catalog.sync import SyncReport
from learning.config import Settings, StorageBackend
from learning.db.session import CONTENT_CHANGED
from tests.helpers.database import REPOSITORY, libpq

SERIES = "innovation-territoriale-en-actions-2019"


@dataclass(frozen=True)
class _Table:
    name: str
    columns: list[str]
    rows: bytes  # COPY (FORMAT binary)


@dataclass(frozen=True)
class _Shipped:
    """What a real sync of the shipped content wrote into empty tables and an empty store."""

    tables: list[_Table]
    stamps: list[tuple[str, str]]  # (table, column) holding the moment of the sync: now() in a copy
    synced_at: datetime
    media: Path
    report: SyncReport


_SHIPPED: dict[str, _Shipped] = {}  # by public base URL: media URLs are built from it


def sync(settings: Settings, root: Path | None = None, *, dry_run: bool = False, fresh: bool = False) -> SyncReport:
    """Sync ``root`` (the shipped content by default) into ``settings``' database and store: for real, or for
    the shipped content a copy of this process's first real sync (module docstring) unless ``fresh``."""
    root = root or settings.content_root
    shipped = root.resolve() == REPOSITORY and settings.storage_backend is StorageBackend.LOCAL
    if dry_run or fresh or not shipped:
        return asyncio.run(sync_content(settings, root, dry_run=dry_run))
    return asyncio.run(_sync_shipped(settings, root))


async def _sync_shipped(settings: Settings, root: Path) -> SyncReport:
    connection = await asyncpg.connect(libpq(settings.require_database_url()))
    try:
        filled = await _filled_tables(connection)
        kept = _SHIPPED.get(settings.base_url)
        if kept is not None and not filled & {table.name for table in kept.tables}:
            await _restore(connection, kept, settings, root)
            return dataclasses.replace(kept.report)
        store_was_empty = not settings.media_root.exists() or not any(settings.media_root.iterdir())
        before = await _digests(connection, filled) if kept is None else {}
        report = await sync_content(settings, root)
        # Kept when what the sync wrote can be told apart: tables it filled from empty, none it changed.
        if kept is None and store_was_empty and await _digests(connection, filled) == before:
            _SHIPPED[settings.base_url] = await _keep(connection, settings, report, filled)
        return report
    finally:
        await connection.close()


async def _tables(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    return [row["tablename"] for row in rows if row["tablename"] != "alembic_version"]


async def _filled_tables(connection: asyncpg.Connection) -> set[str]:
    """The public tables that hold at least one row."""
    tables = await _tables(connection)
    # Table and column names in this module come from PostgreSQL's catalog, never from input.
    probes = " UNION ALL ".join(f'SELECT {i} FROM (SELECT 1 FROM "{name}" LIMIT 1) AS t{i}'  # noqa: S608
                                for i, name in enumerate(tables))  # fmt: skip
    return {tables[row[0]] for row in await connection.fetch(probes)} if tables else set()


async def _digests(connection: asyncpg.Connection, tables: set[str]) -> dict[str, Any]:
    """A digest of each table's rows, to see whether anything wrote to them."""
    digest = "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{}\" AS t"
    return {name: await connection.fetchval(digest.format(name)) for name in tables}


async def _columns(connection: asyncpg.Connection, table: str) -> list[str]:
    """The columns COPY can write (generated columns are computed by PostgreSQL)."""
    rows = await connection.fetch(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        f'public."{table}"',
    )
    return [row["attname"] for row in rows]


_MOMENTS = (
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped "
    "AND atttypid = 'timestamptz'::regtype"
)


async def _keep(
    connection: asyncpg.Connection, settings: Settings, report: SyncReport, untouched: set[str]
) -> _Shipped:
    tables = []
    for name in sorted(await _filled_tables(connection) - untouched):
        columns = await _columns(connection, name)
        rows = io.BytesIO()
        await connection.copy_from_table(name, columns=columns, output=rows, format="binary")
        tables.append(_Table(name, columns, rows.getvalue()))
    media = Path(tempfile.mkdtemp(prefix="learning-shipped-"))
    atexit.register(shutil.rmtree, media, True)
    shutil.copytree(settings.media_root, media, dirs_exist_ok=True)
    synced_at = await connection.fetchval("SELECT synced_at FROM content_manifest")
    stamps = []
    for table in tables:
        for column in await connection.fetch(_MOMENTS, f'public."{table.name}"'):
            name = column["attname"]
            if await connection.fetchval(
                f'SELECT EXISTS (SELECT 1 FROM "{table.name}" WHERE "{name}" = $1)',  # noqa: S608
                synced_at,
            ):
                stamps.append((table.name, name))
    return _Shipped(tables, stamps, synced_at, media, dataclasses.replace(report))


async def _restore(connection: asyncpg.Connection, kept: _Shipped, settings: Settings, root: Path) -> None:
    shutil.copytree(kept.media, settings.media_root, dirs_exist_ok=True)
    async with connection.transaction():
        # The rows are a sync's own, derived ones (search passages, rollups) included: no trigger runs again.
        await connection.execute("SET LOCAL session_replication_role = replica")
        for table in kept.tables:
            await connection.copy_to_table(table.name, columns=table.columns, source=io.BytesIO(table.rows),
                                           format="binary")  # fmt: skip
        for table_name, column in kept.stamps:  # written "now" by the sync: now by this copy
            await connection.execute(f'UPDATE "{table_name}" SET "{column}" = now() WHERE "{column}" = $1',  # noqa: S608
                                     kept.synced_at)  # fmt: skip
        # The fingerprint names the store the media went to: this test's, as its own sync would record.
        await connection.execute("UPDATE content_manifest SET fingerprint = $1",
                                 content_fingerprint(root, settings).digest)  # fmt: skip
        for table in kept.tables:
            await connection.execute("SELECT pg_notify($1, $2)", CONTENT_CHANGED, table.name)


def resolve_ref(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema for one response, with the document's components to resolve $refs."""
    return {**schema, "components": document["components"]}


def validate(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Check ``body`` against what the OpenAPI document says ``method path`` answers with ``status``."""
    operation = document["paths"][path][method]
    content = operation["responses"][str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    validator = jsonschema.Draft202012Validator(resolve_ref(schema, document))
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def search(client: TestClient[Any], query: str, **params: Any) -> dict[str, Any]:
    """``GET /api/v1/search?q=query`` (and ``params``): the answer's body, once it is a 200."""
    response = client.get("/api/v1/search", params={"q": query, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
