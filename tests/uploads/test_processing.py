"""From upload to playable, published episode, with no manual step; nothing half-done is visible."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import av
import httpx
from tusclient import client as tus

from learning.db.session import create_engine, create_sessionmaker
from learning.jobs.worker import run_maintenance
from learning.storage import create_object_store
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.helpers.media import make_text, make_video
from tests.uploads.conftest import Server

MARCH = "session:2019-03"


def _upload(server: Server, path: Path, target: str = MARCH, *, publish: bool = False) -> str:
    metadata = {"filename": path.name, "target": target, "filetype": "video/mp4"}
    if publish:
        metadata["publish"] = "true"
    uploader = tus.TusClient(server.uploads, headers=server.headers).uploader(
        file_stream=io.BytesIO(path.read_bytes()), chunk_size=512 * 1024, metadata=metadata
    )
    uploader.upload()
    assert uploader.url is not None
    return uploader.url


def _march(server: Server) -> dict[str, object]:
    series = httpx.get(f"{server.base}/api/v1/webinars/{SERIES}?limit=100").json()
    slug = next(s["slug"] for s in series["sessions"]["items"] if s["slug"].startswith("2019-03"))
    body: dict[str, object] = httpx.get(f"{server.base}/api/v1/webinars/{SERIES}/sessions/{slug}").json()
    return body


def test_an_uploaded_video_becomes_a_playable_replay(server: Server, media_dir: Path) -> None:
    source = make_video(media_dir / "mars.mp4", seconds=3.0)
    before = _march(server)["replay"]
    location = _upload(server, source)
    state = server.wait_until_done(location)
    assert state["status"] == "ready", state["error"]
    url = server.settings.require_database_url()
    original = sql(url, "SELECT * FROM media_asset WHERE id = $1::uuid", state["asset_id"])[0]
    assert original["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert abs(original["duration_seconds"] - 3.0) < 0.1
    assert (original["mime_type"], original["width"], original["height"]) == ("video/mp4", 160, 90)
    stored = server.settings.media_root / original["storage_key"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == original["sha256"]
    renditions = {
        row["rendition"]: row
        for row in sql(url, "SELECT * FROM media_asset WHERE parent_id = $1::uuid", state["asset_id"])
    }
    audio = renditions["audio"]
    assert (audio["extension"], audio["mime_type"]) == ("m4a", "audio/x-m4a")
    with av.open(str(server.settings.media_root / audio["storage_key"])) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert not container.streams.video
        assert sum(frame.samples for frame in container.decode(audio=0)) > 0
        assert abs(container.duration / 1_000_000 - 3.0) < 0.1
    poster = renditions["poster"]
    assert (poster["mime_type"], poster["width"], poster["height"]) == ("image/jpeg", 160, 90)
    assert (server.settings.media_root / poster["storage_key"]).read_bytes()[:2] == b"\xff\xd8"
    replay = _march(server)["replay"]
    assert replay != before
    assert isinstance(replay, dict)
    assert replay["url"].endswith("/mars.mp4")
    assert httpx.get(replay["url"].replace("http://testserver.local", server.base)).content == source.read_bytes()


def test_an_upload_asked_to_publish_publishes_its_target(server: Server, media_dir: Path) -> None:
    lesson = "lesson:passer-a-l-action/les-modeles-d-animation-territoriale"
    url = server.settings.require_database_url()
    sql(url, "UPDATE lesson SET publication = 'draft' WHERE slug = 'les-modeles-d-animation-territoriale'")
    public = f"{server.base}/api/v1/modules/passer-a-l-action/lessons/les-modeles-d-animation-territoriale"
    assert httpx.get(public).status_code == 404
    source = make_video(media_dir / "lecon.mp4", seconds=2.0)
    state = server.wait_until_done(_upload(server, source, lesson, publish=True))
    assert state["status"] == "ready", state["error"]
    body = httpx.get(public).json()
    assert body["media"]["mime_type"] == "video/mp4"
    assert body["duration_seconds"] == 2


def test_a_text_file_named_mp4_is_rejected_and_removed(server: Server, media_dir: Path) -> None:
    source = make_text(media_dir / "faux.mp4")
    before = _march(server)["replay"]
    location = _upload(server, source)
    state = server.wait_until_done(location)
    assert state["status"] == "failed"
    assert "Le fichier est du texte" in state["error"]
    key = sql(server.settings.require_database_url(), "SELECT storage_key FROM upload WHERE id = $1::uuid",
              location.rsplit("/", 1)[1])[0]["storage_key"]  # fmt: skip
    assert not (server.settings.media_root / key).exists()
    assert _march(server)["replay"] == before
    # Its bytes are gone: retrying cannot help, and says so (it used to wait for them forever).
    refused = httpx.post(f"{location}/retry", headers=server.headers)
    assert refused.status_code == 409
    assert "again" in refused.json()["detail"]


def test_a_job_whose_file_is_gone_fails_with_a_reason_instead_of_waiting(
    start_server: Callable[..., Server], media_dir: Path
) -> None:
    app_only = start_server(jobs_in_process=False)
    location = _upload(app_only, make_video(media_dir / "disparu.mp4", seconds=2.0))
    key = sql(app_only.settings.require_database_url(), "SELECT storage_key FROM upload WHERE id = $1::uuid",
              location.rsplit("/", 1)[1])[0]["storage_key"]  # fmt: skip
    (app_only.settings.media_root / key).unlink()  # lost before the job ran
    app_only.stop()
    state = start_server().wait_until_done(location)
    assert state["status"] == "failed"
    assert state["error"] == "Le fichier envoyé n’est plus stocké : envoyez-le à nouveau."


def test_nothing_is_visible_before_processing_and_a_failed_job_can_be_retried(
    start_server: Callable[..., Server], media_dir: Path
) -> None:
    # The app alone (jobs in a separate worker that is not running yet): the upload waits, unseen.
    app_only = start_server(jobs_in_process=False)
    before = _march(app_only)["replay"]
    source = make_video(media_dir / "attente.mp4", seconds=2.0)
    location = _upload(app_only, source)
    assert app_only.state(location)["status"] == "uploaded"
    assert _march(app_only)["replay"] == before
    url = app_only.settings.require_database_url()
    upload_id = location.rsplit("/", 1)[1]
    sql(url, "UPDATE upload SET status = 'failed', error = 'essai' WHERE id = $1::uuid", upload_id)
    retried = httpx.post(f"{location}/retry", headers=app_only.headers)
    assert retried.status_code == 201
    assert retried.json()["status"] == "uploaded"
    assert httpx.post(f"{location}/retry", headers=app_only.headers).status_code == 409
    app_only.stop()
    with_jobs = start_server()
    assert with_jobs.wait_until_done(location)["status"] == "ready"
    assert _march(with_jobs)["replay"] != before


def test_a_job_lost_in_a_crash_is_picked_up_again(start_server: Callable[..., Server], media_dir: Path) -> None:
    app_only = start_server(jobs_in_process=False)
    location = _upload(app_only, make_video(media_dir / "crash.mp4", seconds=2.0))
    url = app_only.settings.require_database_url()
    # As if a worker died mid-way: its job is gone, the upload says "processing" and nobody touches it.
    sql(url, "DELETE FROM pgqueuer")
    sql(url, "UPDATE upload SET status = 'processing', updated_at = now() - interval '1 hour'")
    app_only.stop()

    async def sweep() -> dict[str, int]:
        engine = create_engine(url, pool_size=1)
        try:
            return await run_maintenance(create_sessionmaker(engine), create_object_store(app_only.settings))
        finally:
            await engine.dispose()

    assert asyncio.run(sweep())["requeued_uploads"] == 1
    with_jobs = start_server()
    assert with_jobs.wait_until_done(location)["status"] == "ready"
