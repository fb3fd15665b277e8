"""`learning serve`'s start-up sync in proportion to change (issue 20, item 5).

At 5,000 lessons an unchanged restart spent 7.8 s re-reading and comparing every content file, and the
server's workers, forked after the sync, inherited ~400 MB from it. Now the start-up compares the content's
fingerprint with the one the last sync recorded and touches nothing when they match; when they differ, the
sync runs in a child process.
"""

from __future__ import annotations

import os
from pathlib import Path

from learning.catalog.content.manifest import HASHED_UP_TO, content_fingerprint
from learning.cli.commands import _sync_on_start
from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import sql


def _manifest(settings: Settings) -> tuple[str, int]:
    rows = sql(settings.require_database_url(), "SELECT fingerprint, files FROM content_manifest")
    assert len(rows) == 1
    return str(rows[0]["fingerprint"]), int(rows[0]["files"])


def test_an_unchanged_restart_syncs_nothing_and_a_changed_file_syncs_again(settings: Settings, content: Path) -> None:
    on = settings.model_copy(update={"content_dir": content})
    first = _sync_on_start(on)  # an empty database: the sync runs (in a child process)
    assert first is not None
    assert first.changes > 0
    recorded, files = _manifest(on)
    assert files == sum(
        1 for folder in ("modules", "feeds", "media") for p in (content / folder).rglob("*") if p.is_file()
    )
    url = on.require_database_url()
    lessons_before = sql(url, "SELECT slug, updated_at FROM lesson ORDER BY slug")

    assert _sync_on_start(on) is None  # unchanged: nothing read, nothing written
    assert _manifest(on)[0] == recorded
    assert sql(url, "SELECT slug, updated_at FROM lesson ORDER BY slug") == lessons_before

    lesson = next((content / "modules").rglob("*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n", encoding="utf-8")
    changed = _sync_on_start(on)
    assert changed is not None
    assert changed.updated  # the edited lesson (its module too) was synced
    assert _manifest(on)[0] != recorded
    assert _sync_on_start(on) is None


def test_the_fingerprint_covers_what_a_sync_depends_on(settings: Settings, content: Path) -> None:
    before = content_fingerprint(content, settings).digest
    assert content_fingerprint(content, settings).digest == before  # stable
    # The public address (written into feeds and enclosures) and the media store.
    moved = settings.model_copy(update={"public_base_url": "https://formation.example.org"})
    assert content_fingerprint(content, moved).digest != before
    elsewhere = settings.model_copy(update={"local_storage_root": settings.data_dir / "autre"})
    assert content_fingerprint(content, elsewhere).digest != before
    # A small file is read: touching it changes nothing, editing it does.
    small = next((content / "feeds").rglob("*.yaml"))
    os.utime(small, ns=(1, 1))
    assert content_fingerprint(content, settings).digest == before
    small.write_bytes(small.read_bytes() + b"\n")
    edited = content_fingerprint(content, settings).digest
    assert edited != before
    # A large file (a replay) is known by its size and modification time: a restart does not read it.
    big = content / "media" / "replay-de-demonstration.mp4"
    big.write_bytes(b"\0" * (HASHED_UP_TO + 1))
    with_big = content_fingerprint(content, settings).digest
    assert with_big != edited
    big.write_bytes(b"\1" * (HASHED_UP_TO + 1))
    os.utime(big, ns=(1, 1))
    again = content_fingerprint(content, settings).digest
    os.utime(big, ns=(1, 2))
    assert content_fingerprint(content, settings).digest != again


def test_a_full_sync_records_the_fingerprint_and_a_dry_run_does_not(settings: Settings, content: Path) -> None:
    sync(settings, content, dry_run=True)
    assert sql(settings.require_database_url(), "SELECT count(*) AS n FROM content_manifest")[0]["n"] == 0
    sync(settings, content)
    assert _manifest(settings)[0] == content_fingerprint(content, settings).digest
