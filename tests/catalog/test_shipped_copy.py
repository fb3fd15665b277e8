"""The tests' copy of the shipped catalog (tests/helpers/catalog.py) is what a real sync writes.

Hundreds of tests start from that copy instead of syncing again: if it drifted from the sync (a table
missed, a sequence not moved, a media file or the fingerprint wrong, apps not told), they would test
something no installation holds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from learning.catalog.content.manifest import content_fingerprint
from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, sql, truncate_all

# Moments of writing (the sync's transaction time, the copy's in a copy) and the store's generated names.
VARY = ("created_at", "updated_at", "synced_at", "storage_key")


def _rows(url: str) -> dict[str, list[str]]:
    tables = [r["tablename"] for r in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    dump: dict[str, list[str]] = {}
    for table in sorted(set(tables) - {"alembic_version"}):
        rows = sql(url, f'SELECT (to_jsonb(t) - $1::text[])::text AS row FROM "{table}" AS t', list(VARY))  # noqa: S608
        if rows:
            dump[table] = sorted(r["row"] for r in rows)
    return dump


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def _sequences(url: str) -> dict[str, Any]:
    return {r["sequencename"]: r["last_value"] for r in sql(url, "SELECT sequencename, last_value FROM pg_sequences")}


def test_the_copy_holds_the_rows_objects_and_fingerprint_a_sync_writes(settings: Settings, tmp_path: Path) -> None:
    url = settings.require_database_url()
    sync(settings)  # this process's first real sync is kept here, unless an earlier test's was
    kept = {r["storage_key"] for r in sql(url, "SELECT storage_key FROM media_asset")}
    truncate_all(url)
    before = sql(url, "SELECT now() AS t")[0]["t"]
    copied = make_settings(url, tmp_path / "copied")
    sync(copied)  # empty tables: a copy
    rows, files, sequences = _rows(url), _files(copied.media_root), _sequences(url)
    assets = sql(url, "SELECT storage_key, sha256 FROM media_asset")
    assert {a["storage_key"]: a["sha256"] for a in assets}.items() <= files.items()  # every object, intact
    assert {a["storage_key"] for a in assets} == kept  # copied: a sync names new objects afresh
    assert sql(url, "SELECT bool_and(updated_at >= $1) AS ok FROM lesson", before)[0]["ok"]  # written now
    manifest = sql(url, "SELECT fingerprint FROM content_manifest")[0]["fingerprint"]
    assert manifest == content_fingerprint(copied.content_root, copied).digest  # its own store, not the kept one

    truncate_all(url)
    synced = make_settings(url, tmp_path / "synced")
    sync(synced, fresh=True)
    assert _rows(url).keys() == rows.keys()
    for table, expected in _rows(url).items():
        if table != "content_manifest":
            assert rows[table] == expected, table
    assert sorted(files.values()) == sorted(_files(synced.media_root).values())
    assert sequences == _sequences(url)
    assert len(files) > 20


def test_apps_already_running_see_the_copied_catalog(settings: Settings, client: Any) -> None:
    sync(settings)
    truncate_all(settings.require_database_url())
    assert client.get("/api/v1/modules").json()["items"] == []  # an answer the app may keep
    sync(settings)  # a copy
    assert len(client.get("/api/v1/modules").json()["items"]) == 4
