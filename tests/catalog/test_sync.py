"""`learning content sync`: idempotent, one transaction, unpublishes what left the files, keeps data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from learning.catalog.content import ContentError
from learning.catalog.content.loader import load_content
from learning.config import Settings
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import REPOSITORY, sql


def _count(settings: Settings, table: str) -> int:
    return int(sql(settings.require_database_url(), f"SELECT count(*) AS n FROM {table}")[0]["n"])  # noqa: S608


def test_sync_imports_everything_then_a_second_run_changes_nothing(settings: Settings) -> None:
    first = sync(settings, fresh=True)
    assert first.changes > 0
    assert _count(settings, "module") == 5
    assert _count(settings, "lesson") == 27
    assert _count(settings, "webinar_session") == 12
    url = settings.require_database_url()
    originals = sql(url, "SELECT count(*) AS n FROM media_asset WHERE rendition = 'original'")[0]["n"]
    assert originals == len(load_content(REPOSITORY).referenced_media())  # every shipped file the content names
    # Every shipped video also gets the audio-only .m4a podcast feeds enclose (audio first).
    audio = sql(
        url,
        "SELECT count(*) AS n FROM media_asset a JOIN media_asset v ON v.id = a.parent_id "
        "WHERE a.rendition = 'audio' AND a.mime_type = 'audio/x-m4a' AND v.kind = 'video'",
    )[0]["n"]
    assert audio == 16 == sql(url, "SELECT count(*) AS n FROM media_asset WHERE kind = 'video'")[0]["n"]
    assert _count(settings, "podcast_feed") == 6
    second = sync(settings, fresh=True)
    assert second.changes == 0
    assert second.lines() == []


def test_dry_run_reports_changes_and_writes_nothing(settings: Settings) -> None:
    report = sync(settings, dry_run=True)
    assert report.changes > 0
    assert _count(settings, "module") == 0
    assert _count(settings, "media_asset") == 0
    media_root = settings.media_root
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_media_objects_are_stored_with_generated_keys_and_their_sha256(settings: Settings) -> None:
    sync(settings, fresh=True)
    rows = sql(
        settings.require_database_url(),
        "SELECT ref, storage_key, sha256, size_bytes FROM media_asset WHERE rendition = 'original'",
    )
    for row in rows:
        stored = settings.media_root / row["storage_key"]
        assert stored.is_file()
        assert stored.stat().st_size == row["size_bytes"]
        assert row["ref"].split(".")[0] not in row["storage_key"]  # keys are generated, not the file name
        assert (REPOSITORY / "media" / row["ref"]).stat().st_size == row["size_bytes"]


def test_edited_file_updates_only_its_row(settings: Settings, content: Path) -> None:
    sync(settings, content)
    lesson = next((content / "modules" / "passer-a-l-action").glob("01-*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("# ", "# Révisé : ", 1), encoding="utf-8")
    report = sync(settings, content)
    assert report.updated == [f"lesson passer-a-l-action/{lesson.stem[3:]}"]
    assert report.changes == 1


def test_removed_content_is_unpublished_not_deleted(settings: Settings, content: Path) -> None:
    sync(settings, content)
    shutil.rmtree(content / "modules" / "passer-a-l-action")
    (content / "feeds" / "passer-a-l-action.yaml").unlink()
    session = next((content / "feeds" / "webinars" / SERIES).glob("2019-05-*.md"))
    session.unlink()
    report = sync(settings, content)
    assert "module passer-a-l-action" in report.unpublished
    assert f"session {SERIES}/{session.stem}" in report.unpublished
    url = settings.require_database_url()
    module = sql(url, "SELECT publication FROM module WHERE slug = 'passer-a-l-action'")
    assert [row["publication"] for row in module] == ["draft"]
    assert _count(settings, "lesson") == 27  # the rows (and what points at them) stay
    assert sync(settings, content).changes == 0


def test_invalid_content_writes_nothing(settings: Settings, content: Path) -> None:
    lesson = next((content / "modules" / "passer-a-l-action").glob("02-*.md"))
    lesson.write_text("---\ntitle: [cassé\n---\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        sync(settings, content)
    assert str(lesson) in str(raised.value)
    assert _count(settings, "module") == 0
    assert not settings.media_root.exists() or not any(p.is_file() for p in settings.media_root.rglob("*"))


def test_replaced_media_file_gets_a_new_object_and_the_old_one_goes(settings: Settings, content: Path) -> None:
    sync(settings, content)
    url = settings.require_database_url()
    old = sql(url, "SELECT id, storage_key FROM media_asset WHERE ref = 'mooc-audio-01.m4a'")[0]
    before = old["storage_key"]
    shutil.copy(content / "media" / "mooc-audio-02.m4a", content / "media" / "mooc-audio-01.m4a")
    report = sync(settings, content)
    assert report.media == ["mooc-audio-01.m4a (replaced)"]
    after = sql(url, "SELECT id, storage_key, size_bytes FROM media_asset WHERE ref = 'mooc-audio-01.m4a'")[0]
    assert after["storage_key"] != before
    assert after["id"] != old["id"]  # a new URL: what was served under the old one never changes
    retired = sql(url, "SELECT status, ref FROM media_asset WHERE id = $1", old["id"])[0]
    assert (retired["status"], retired["ref"]) == ("retired", None)
    lesson = sql(url, "SELECT media_id FROM lesson WHERE slug LIKE 'entretien%'")[0]
    assert lesson["media_id"] == after["id"]
    assert not (settings.media_root / before).exists()
    assert (settings.media_root / after["storage_key"]).stat().st_size == after["size_bytes"]


def test_a_replay_an_admin_uploaded_survives_later_syncs(settings: Settings, content: Path) -> None:
    sync(settings, content)
    url = settings.require_database_url()
    uploaded = sql(
        url,
        "INSERT INTO media_asset (id, ref, rendition, kind, status, name, extension, mime_type, size_bytes, "
        "storage_key) VALUES (gen_random_uuid(), NULL, 'original', 'video', 'ready', 'nouveau', 'mp4', "
        "'video/mp4', 10, 'uploads/nouveau.mp4') RETURNING id",
    )[0]["id"]
    sql(url, "UPDATE webinar_session SET replay_id = $1 WHERE slug LIKE '2019-03%'", uploaded)
    assert sync(settings, content).changes == 0
    session = next((content / "feeds" / "webinars" / SERIES).glob("2019-03-*.md"))
    session.write_text(session.read_text(encoding="utf-8").replace("# ", "# Revu : ", 1), encoding="utf-8")
    assert sync(settings, content).updated == [f"session {SERIES}/{session.stem}"]
    replay = sql(url, "SELECT replay_id FROM webinar_session WHERE slug LIKE '2019-03%'")[0]["replay_id"]
    assert replay == uploaded
