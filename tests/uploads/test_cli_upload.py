"""`learning upload FILE --session 2019-03 [--publish]`: progress, resume after an interruption, and the
same command with no server running (it starts the app for its own duration)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from learning.config import Settings
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.helpers.live import free_port
from tests.helpers.media import make_random_bytes, make_video
from tests.uploads.conftest import Server


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEARNING_")}
    env.update(
        {
            "LEARNING_DATABASE_URL": settings.require_database_url(),
            "LEARNING_DATA_DIR": str(settings.data_dir),
            "LEARNING_LOCAL_STORAGE_ROOT": str(settings.media_root),
            "LEARNING_SECRET_KEY": settings.signing_key(),
            "LEARNING_CONTENT_DIR": str(settings.content_root),
        }
    )
    env.update(extra)
    return env


def _learning(*args: str) -> list[str]:
    return [sys.executable, "-m", "learning.cli", *args]


def test_upload_publishes_a_replay_through_the_running_server(server: Server, media_dir: Path) -> None:
    source = make_video(media_dir / "mai.mp4", seconds=2.0)
    result = subprocess.run(
        _learning("upload", str(source), "--session", "2019-05", "--publish", "--server", server.base),
        env=_env(server.settings), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # It ends with what was published where: the session's public page.
    assert result.stdout.strip().splitlines()[-1].startswith("Replay prêt et publié : http")
    assert f"/webinaires/{SERIES}/2019-05" in result.stdout
    row = sql(server.settings.require_database_url(),
              "SELECT s.publication, a.sha256 FROM webinar_session s JOIN media_asset a ON a.id = s.replay_id "
              "WHERE s.slug LIKE '2019-05%'")[0]  # fmt: skip
    assert row["publication"] == "published"
    assert row["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


def test_running_it_again_after_an_interruption_resumes(start_server: Callable[..., Server], media_dir: Path) -> None:
    server = start_server(jobs_in_process=False)  # random bytes: look at them before any processing
    source = make_random_bytes(media_dir / "long.bin", 40 * 1024 * 1024 + 3)
    url = server.settings.require_database_url()
    command = _learning("upload", str(source), "--session", "2019-06", "--server", server.base, "--no-wait")
    process = subprocess.Popen(command, env=_env(server.settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    offset = 0
    while time.monotonic() < deadline and process.poll() is None:
        rows = sql(url, 'SELECT "offset" FROM upload')
        offset = rows[0]["offset"] if rows else 0
        if offset > 0:
            break
        time.sleep(0.05)  # polling for the first bytes, not a timing assertion
    process.send_signal(signal.SIGKILL)  # the admin's laptop dies mid-upload
    process.wait()
    assert 0 < offset < source.stat().st_size
    again = subprocess.run(command, env=_env(server.settings), capture_output=True, text=True, timeout=180, check=False)
    assert again.returncode == 0, again.stderr
    uploads = sql(url, "SELECT status, storage_key FROM upload")
    assert len(uploads) == 1  # resumed, not started over
    assert uploads[0]["status"] == "uploaded"
    stored = server.settings.media_root / uploads[0]["storage_key"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()


def test_upload_with_no_server_running_starts_the_app_itself(upload_settings: Settings, media_dir: Path) -> None:
    source = make_video(media_dir / "juin.mp4", seconds=2.0)
    env = _env(upload_settings, LEARNING_PORT=str(free_port()))
    result = subprocess.run(
        _learning("upload", str(source), "--lesson", "passer-a-l-action/les-modeles-d-animation-territoriale"),
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Replay prêt, non publié"), result.stdout
    assert "/modules/passer-a-l-action/lecons/les-modeles-d-animation-territoriale" in last


def test_a_rejected_file_is_reported(server: Server, media_dir: Path) -> None:
    source = media_dir / "notes.mp4"
    source.write_text("pas une vidéo\n" * 100, encoding="utf-8")
    result = subprocess.run(
        _learning("upload", str(source), "--session", "2019-07", "--server", server.base),
        env=_env(server.settings), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "text" in result.stderr.lower()
