"""Issue 21, media that say something true: every media lesson and replay is narrated (a French synthetic
voice that says so first), has a WebVTT transcript made from the same script, served with the media, linked in
the API and the feeds (``podcast:transcript``) and shown as captions; and the voice is where the cues say.

The alignment is checked on the decoded sound (PyAV), not on the generator's own numbers: energy in the speech
band (300–3,400 Hz) per 20 ms; every cue must start and end within half a second of the voice, and no voice may
be heard outside the cues.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import webvtt

from learning.config import Settings
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import REPOSITORY, sql

MEDIA = REPOSITORY / "media"
TOLERANCE = 0.5  # seconds
WINDOW = 0.02  # seconds per analysis frame
FLOOR_DB = 35.0  # voice: within 35 dB of the loudest frame in the speech band
NS = {"podcast": "https://podcastindex.org/namespace/1.0"}


NARRATED = re.compile(r"(mooc-(video|audio)-\d\d|webinar-2019-\d\d)\.(mp4|m4a|mp3)")


def _media_files() -> list[Path]:
    return sorted(path for path in MEDIA.iterdir() if NARRATED.fullmatch(path.name))


def speech_activity(path: Path) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(frame centre times, whether the frame holds voice) of the file's sound."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        pcm = np.concatenate([frame.to_ndarray().mean(axis=0) for frame in container.decode(stream)])
    size = round(WINDOW * rate)
    frames = len(pcm) // size
    spectrum = np.abs(np.fft.rfft(pcm[: frames * size].reshape(frames, size) * np.hanning(size), axis=1)) ** 2
    frequencies = np.fft.rfftfreq(size, 1 / rate)
    band = spectrum[:, (frequencies >= 300) & (frequencies <= 3400)].sum(axis=1)
    level = 10 * np.log10(band + 1e-12)
    return (np.arange(frames) + 0.5) * WINDOW, level > level.max() - FLOOR_DB


@pytest.mark.parametrize("path", _media_files(), ids=lambda p: p.name)
def test_the_voice_is_where_the_transcript_says(path: Path) -> None:
    captions = webvtt.read(str(path.with_suffix(".vtt")))
    assert captions.captions[0].text.startswith("Voix de synthèse")  # written, as it is said, first
    times, voiced = speech_activity(path)
    heard_outside = voiced.copy()
    for caption in captions:
        start, end = caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000
        near = voiced & (times >= start - TOLERANCE) & (times <= end + TOLERANCE)
        heard = times[near]
        assert heard.size, f"{path.name}: nothing said during « {caption.text} »"
        assert abs(heard[0] - start) <= TOLERANCE, f"{path.name}: « {caption.text} » starts at {heard[0]:.2f} s"
        assert abs(heard[-1] - end) <= TOLERANCE, f"{path.name}: « {caption.text} » ends at {heard[-1]:.2f} s"
        heard_outside &= ~((times >= start - TOLERANCE) & (times <= end + TOLERANCE))
    assert not heard_outside.any(), f"{path.name}: voice at {times[heard_outside][:5]} s, outside every cue"


def test_every_media_lesson_and_replay_has_its_transcript_served_linked_and_captioned(
    settings: Settings, client: Any
) -> None:
    sync(settings)
    checked = 0
    for module in client.get("/api/v1/modules?limit=100").json()["items"]:
        detail = client.get(f"/api/v1/modules/{module['slug']}").json()
        for summary in detail["lessons"]:
            if summary["kind"] == "text":
                continue
            lesson = client.get(f"/api/v1/modules/{module['slug']}/lessons/{summary['slug']}").json()
            _served_and_captioned(client, lesson["transcript"], lesson["media"],
                                  f"/modules/{module['slug']}/lecons/{summary['slug']}")  # fmt: skip
            checked += 1
        feed = ET.fromstring(client.get(f"/feeds/modules/{module['slug']}.xml").content)
        for item in feed.iter("item"):
            assert item.find("podcast:transcript", NS) is not None, item.findtext("title")
    series = client.get(f"/api/v1/webinars/{SERIES}?limit=100").json()
    for summary in series["sessions"]["items"]:
        session = client.get(f"/api/v1/webinars/{SERIES}/sessions/{summary['slug']}").json()
        page = f"/webinaires/{SERIES}/{summary['slug']}"
        _served_and_captioned(client, session["transcript"], session["replay"], page)
        checked += 1
        assert session["chapters"] is not None
    feed = ET.fromstring(client.get(f"/feeds/webinars/{SERIES}.xml").content)
    assert all(item.find("podcast:transcript", NS) is not None for item in feed.iter("item"))
    assert checked >= len(_media_files()) - 1  # all but the scheduled module's lesson, not public yet
    url = settings.require_database_url()  # every one, published or scheduled, carries its transcript
    lessons = sql(url, "SELECT count(*) AS n FROM lesson WHERE media_id IS NOT NULL AND transcript_id IS NULL")
    sessions = sql(
        url, "SELECT count(*) AS n FROM webinar_session WHERE replay_id IS NOT NULL AND transcript_id IS NULL"
    )
    assert (lessons[0]["n"], sessions[0]["n"]) == (0, 0)


def _served_and_captioned(client: Any, transcript: dict[str, Any] | None, media: dict[str, Any], page: str) -> None:
    assert transcript is not None, page
    answer = client.get(transcript["url"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/vtt")
    assert answer.text.startswith("WEBVTT")
    assert Path(media["url"]).stem in {p.stem for p in _media_files()}
    assert '<track kind="captions"' in client.get(page).text, page


def test_the_shipped_media_stay_small() -> None:
    """The repository's media/ (narrated media, transcripts, chapters, artwork) stays under ~20 MB."""
    assert sum(path.stat().st_size for path in MEDIA.rglob("*") if path.is_file()) < 20 * 1024 * 1024
