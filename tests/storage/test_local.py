"""What only ``LocalStore`` does: its files, its staging folder, its guard on upload ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning.storage import UploadNotFound
from learning.storage.local import LocalStore


@pytest.fixture
async def local(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "objects")
    await store.open()
    return store


def leftovers(root: Path) -> list[str]:
    """Temporary files and staging folders still under the root."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.name.startswith(".tmp-") or (path.parent.name == ".multipart")
    )


async def test_objects_are_plain_files_under_the_root(local: LocalStore, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(b"hello")
    await local.put_file("audio/a.mp3", source, "audio/mpeg")

    assert (local.root / "audio" / "a.mp3").read_bytes() == b"hello"
    assert local.path_for("audio/a.mp3").resolve().is_relative_to(local.root.resolve())
    assert leftovers(local.root) == []


async def test_complete_and_abort_remove_the_staging_folder(local: LocalStore) -> None:
    completed = await local.begin_multipart("video/a.mp4", "video/mp4")
    etag = await local.put_part("video/a.mp4", completed, 1, b"data")
    aborted = await local.begin_multipart("video/b.mp4", "video/mp4")
    await local.put_part("video/b.mp4", aborted, 1, b"data")
    assert len(leftovers(local.root)) == 2

    await local.complete_multipart("video/a.mp4", completed, [(1, etag)])
    await local.abort_multipart("video/b.mp4", aborted)

    assert leftovers(local.root) == []
    assert (local.root / "video" / "a.mp4").read_bytes() == b"data"


@pytest.mark.parametrize("upload_id", ["../../../etc", "", "0" * 32, "A" * 32])
async def test_an_upload_id_not_ours_names_no_upload(local: LocalStore, upload_id: str) -> None:
    with pytest.raises(UploadNotFound):
        await local.put_part("video/a.mp4", upload_id, 1, b"data")
    with pytest.raises(UploadNotFound):
        await local.complete_multipart("video/a.mp4", upload_id, [(1, "x")])
    await local.abort_multipart("video/a.mp4", upload_id)


async def test_an_upload_belongs_to_its_key(local: LocalStore) -> None:
    upload_id = await local.begin_multipart("video/a.mp4", "video/mp4")
    with pytest.raises(UploadNotFound):
        await local.put_part("video/other.mp4", upload_id, 1, b"data")
    await local.abort_multipart("video/other.mp4", upload_id)  # not its key: a no-op, as on S3

    etag = await local.put_part("video/a.mp4", upload_id, 1, b"data")
    await local.complete_multipart("video/a.mp4", upload_id, [(1, etag)])
