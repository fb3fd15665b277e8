"""A real media client reads our URLs: FFmpeg (through PyAV) opens a /media URL over HTTP as a seekable
input, seeks into the video and decodes the same frames as from the local file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest

from learning.app import create_app
from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import REPOSITORY
from tests.helpers.live import live_server
from tests.helpers.media import probed_seconds

VIDEO = REPOSITORY / "media" / "webinar-2019-03.mp4"


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    sync(settings)
    with live_server(create_app(settings)) as url:
        yield url


def _frames_after_seek(source: str, seconds: float, count: int = 5) -> list[Any]:
    with av.open(source, options={"seekable": "1"} if source.startswith("http") else {}) as container:
        stream = container.streams.video[0]
        container.seek(int(seconds / stream.time_base), stream=stream, any_frame=False, backward=True)
        frames = []
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                frames.append((round(frame.time, 3), frame.to_ndarray(format="rgb24")))
            if len(frames) == count:
                break
        return frames


def test_ffmpeg_seeks_over_http_and_decodes_the_same_frames(base_url: str, settings: Settings) -> None:
    from tests.helpers.database import sql

    row = sql(settings.require_database_url(), "SELECT id FROM media_asset WHERE ref = 'webinar-2019-03.mp4'")[0]
    url = f"{base_url}/media/{row['id']}/webinar-2019-03.mp4"
    remote = _frames_after_seek(url, 12.0)
    local = _frames_after_seek(str(VIDEO), 12.0)
    assert len(remote) == len(local) == 5
    for (remote_time, remote_pixels), (local_time, local_pixels) in zip(remote, local, strict=True):
        assert remote_time == local_time
        assert np.array_equal(remote_pixels, local_pixels)


def test_ffmpeg_reads_the_audio_of_an_m4a_over_http(base_url: str, settings: Settings) -> None:
    from tests.helpers.database import sql

    row = sql(settings.require_database_url(), "SELECT id FROM media_asset WHERE ref = 'mooc-audio-02.m4a'")[0]
    with av.open(f"{base_url}/media/{row['id']}/mooc-audio-02.m4a") as container:
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - probed_seconds("mooc-audio-02.m4a")) < 0.1
        samples = sum(frame.samples for frame in container.decode(audio=0))
        assert samples > 0
