"""Replay processing on real media made with PyAV at test time: what a file is (from its bytes), the AAC
audio rendition, the poster picture and the checksum."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from learning.media.containers import UnsupportedMedia
from learning.media.inspection import MediaInfo, inspect
from learning.media.library import sha256_of
from learning.media.posters import make_poster
from learning.media.renditions import make_audio_rendition
from tests.helpers.media import (
    HEIGHT,
    WIDTH,
    VideoFormat,
    bytes_file,
    make_audio,
    make_empty,
    make_png,
    make_random_bytes,
    make_text,
    make_truncated,
    make_video,
    make_video_without_audio,
)

SECONDS = 3.0
TOLERANCE = 0.1  # seconds, the bar for durations

Maker = Callable[[Path], Path]


NOISE = np.random.default_rng(7).integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes()


def decoded_seconds(path: Path) -> float:
    """Decode the whole audio track: the seconds of sound a player would get."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def top_level_boxes(path: Path) -> list[str]:
    boxes = []
    with path.open("rb") as handle:
        while header := handle.read(8):
            boxes.append(header[4:8].decode("latin-1"))
            handle.seek(int.from_bytes(header[:4], "big") - 8, 1)
    return boxes


# --------------------------------------------------------------------------- inspect


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        pytest.param(
            "replay.mp4",
            lambda path: make_video(path, fmt="mp4"),
            ("mp4", "video/mp4", "h264", "aac"),
            id="mp4-h264-aac",
        ),
        pytest.param(
            "replay.mov",
            lambda path: make_video(path, fmt="mov"),
            ("mov", "video/quicktime", "h264", "aac"),
            id="mov",
        ),
        pytest.param(
            "replay.webm",
            lambda path: make_video(path, fmt="webm"),
            ("webm", "video/webm", "vp8", "opus"),
            id="webm-vp8-opus",
        ),
        pytest.param(
            "replay.webm",
            lambda path: make_video(path, fmt="webm", video_codec="libvpx-vp9"),
            ("webm", "video/webm", "vp9", "opus"),
            id="webm-vp9-opus",
        ),
        pytest.param(
            "replay.mp4",
            lambda path: make_video(path, fmt="mp4", audio_codec="libmp3lame"),
            ("mp4", "video/mp4", "h264", "mp3"),
            id="mp4-h264-mp3",
        ),
        pytest.param(
            "lesson.m4a", lambda path: make_audio(path, fmt="m4a"), ("m4a", "audio/x-m4a", None, "aac"), id="m4a"
        ),
        pytest.param(
            "lesson.mp3",
            lambda path: make_audio(path, fmt="mp3", sample_rate=44_100),
            ("mp3", "audio/mpeg", None, "mp3"),
            id="mp3",
        ),
    ],
)
def test_inspect_recognises_accepted_format(
    tmp_path: Path, name: str, make: Maker, expected: tuple[str, str, str | None, str]
) -> None:
    media_format, mime_type, video_codec, audio_codec = expected

    info = inspect(make(tmp_path / name))

    assert (info.format, info.mime_type, info.extension) == (media_format, mime_type, f".{media_format}")
    assert (info.video_codec, info.audio_codec) == (video_codec, audio_codec)
    assert info.duration_seconds == pytest.approx(SECONDS, abs=TOLERANCE)
    assert info.bit_rate > 0
    assert info.has_audio
    assert info.has_video is (video_codec is not None)
    if info.has_video:
        assert (info.width, info.height) == (WIDTH, HEIGHT)
    else:
        assert (info.width, info.height) == (None, None)


def test_inspect_reads_the_bytes_not_the_name(tmp_path: Path) -> None:
    disguised = make_video(tmp_path / "episode.mp3", fmt="mov")
    nameless = make_audio(tmp_path / "upload", fmt="m4a")

    assert inspect(disguised).format == "mov"
    assert inspect(nameless).format == "m4a"


def test_inspect_measures_a_recording_without_duration_in_its_header(tmp_path: Path) -> None:
    browser_recording = make_video(tmp_path / "recording.webm", fmt="webm", live=True)
    with av.open(str(browser_recording)) as container:
        assert container.duration is None  # the case being tested: nothing to read, the packets are counted

    info = inspect(browser_recording)

    assert info.format == "webm"
    assert info.duration_seconds == pytest.approx(SECONDS, abs=TOLERANCE)


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        pytest.param("replay.mp4", make_text, "Le fichier est du texte", id="text-named-mp4"),
        pytest.param("replay.mp4", make_random_bytes, "ni audio ni vidéo", id="random-bytes"),
        pytest.param("replay.mp4", make_empty, "Le fichier est vide", id="empty"),
        pytest.param("replay.mp4", bytes_file(b"<!doctype html><title>404</title>"), "texte", id="html"),
        pytest.param("replay.mp4", bytes_file(b"PK\x03\x04" + NOISE), "archive ZIP", id="zip"),
        pytest.param(
            "replay.mp4",
            bytes_file(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + NOISE),
            "commence comme un fichier MP4 ou QuickTime mais ne peut pas être lu",
            id="mp4-header-then-noise",
        ),
        pytest.param(
            "replay.mp3",
            bytes_file(b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16) + NOISE),
            "ne peut pas être",  # read or decoded: where FFmpeg gives up depends on the noise
            id="id3-tag-then-noise",
        ),
        pytest.param("poster.mp4", make_png, "image PNG, une image fixe", id="png"),
        pytest.param("replay.avi", lambda path: make_video(path, fmt="avi"), "AVI", id="avi"),
        pytest.param("replay.mkv", lambda path: make_video(path, fmt="mkv"), "Matroska (MKV) en h264", id="mkv-h264"),
        pytest.param("replay.ogg", lambda path: make_audio(path, fmt="ogg"), "Ogg", id="ogg"),
        pytest.param("replay.wav", lambda path: make_audio(path, fmt="wav"), "WAV", id="wav"),
        pytest.param("replay.flac", lambda path: make_audio(path, fmt="flac"), "FLAC", id="flac"),
        pytest.param("replay.mp4", make_video_without_audio, "pas de piste son", id="video-without-audio"),
        pytest.param(
            "replay.mp4",
            lambda path: make_truncated(make_video(path.with_suffix(".whole.mp4")), path),
            "tronqué",
            id="truncated-mp4",
        ),
    ],
)
def test_inspect_rejects_with_a_reason(tmp_path: Path, name: str, make: Maker, reason: str) -> None:
    path = make(tmp_path / name)

    with pytest.raises(UnsupportedMedia) as caught:
        inspect(path)

    # One French sentence for the admin, saying what to send instead.
    assert reason in caught.value.reason
    assert caught.value.reason.endswith(".")
    assert ".." not in caught.value.reason
    assert " : " in caught.value.reason
    assert not re.search(r"\b(the|file|cannot|must|upload)\b", caught.value.reason, re.IGNORECASE)
    assert caught.value.status_code == 415


# --------------------------------------------------------------------------- audio rendition


def assert_good_rendition(rendition: Path, source_info: MediaInfo) -> MediaInfo:
    """The rendition is an M4A (moov first) holding AAC that decodes to the source's length."""
    info = inspect(rendition)
    assert (info.format, info.audio_codec, info.has_video) == ("m4a", "aac", False)
    assert info.duration_seconds == pytest.approx(source_info.duration_seconds, abs=TOLERANCE)
    assert decoded_seconds(rendition) == pytest.approx(source_info.duration_seconds, abs=TOLERANCE)
    boxes = top_level_boxes(rendition)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart: podcast apps can play while downloading
    return info


def test_audio_rendition_copies_aac(tmp_path: Path) -> None:
    source = make_video(tmp_path / "replay.mp4")
    target = tmp_path / "replay.m4a"

    result = make_audio_rendition(source, target)

    assert result.remuxed
    assert (result.codec, result.sample_rate, result.channels) == ("aac", 48_000, 1)
    assert result.size_bytes == target.stat().st_size
    assert result.duration_seconds == pytest.approx(SECONDS, abs=TOLERANCE)
    assert_good_rendition(target, inspect(source))


@pytest.mark.parametrize(
    ("name", "make", "channels"),
    [
        pytest.param("replay.webm", lambda path: make_video(path, fmt="webm"), 1, id="webm-opus"),
        pytest.param(
            "lesson.webm", lambda path: make_audio(path, fmt="webm", channels=2), 2, id="webm-audio-opus-stereo"
        ),
        pytest.param("lesson.mp3", lambda path: make_audio(path, fmt="mp3", sample_rate=44_100), 1, id="mp3"),
        pytest.param("replay.mp4", lambda path: make_video(path, audio_codec="libmp3lame"), 1, id="mp4-mp3"),
    ],
)
def test_audio_rendition_transcodes_other_codecs_to_aac(tmp_path: Path, name: str, make: Maker, channels: int) -> None:
    source = make(tmp_path / name)
    source_info = inspect(source)
    target = tmp_path / "rendition.m4a"

    result = make_audio_rendition(source, target)

    assert not result.remuxed
    assert (result.codec, result.channels) == ("aac", channels)
    assert 80_000 <= result.bit_rate <= 140_000
    assert result.duration_seconds == pytest.approx(source_info.duration_seconds, abs=TOLERANCE)
    assert_good_rendition(target, source_info)


def test_audio_rendition_starts_at_zero_when_the_sound_starts_late(tmp_path: Path) -> None:
    source = make_video(tmp_path / "replay.mp4", audio_offset=0.5)
    target = tmp_path / "replay.m4a"

    result = make_audio_rendition(source, target)

    assert result.remuxed
    assert result.duration_seconds == pytest.approx(SECONDS - 0.5, abs=TOLERANCE)
    with av.open(str(target)) as container:
        first = next(container.decode(audio=0))
    assert first.time == pytest.approx(0.0, abs=0.03)


def test_audio_rendition_of_a_silent_video_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    source = make_video_without_audio(tmp_path / "silent.mp4")
    target = tmp_path / "silent.m4a"

    with pytest.raises(UnsupportedMedia, match="pas de piste son"):
        make_audio_rendition(source, target)

    assert not target.exists()


# --------------------------------------------------------------------------- poster


@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm"])
def test_poster_is_a_jpeg_of_the_picture_at_a_tenth(tmp_path: Path, fmt: VideoFormat) -> None:
    source = make_video(tmp_path / f"replay.{fmt}", fmt=fmt)
    target = tmp_path / "poster.jpg"

    result = make_poster(source, target)

    assert (result.width, result.height) == (WIDTH, HEIGHT)
    assert result.size_bytes == target.stat().st_size
    assert result.at_seconds == pytest.approx(0.1 * SECONDS, abs=0.01)
    assert target.read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(target)) as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        poster = next(container.decode(video=0)).to_ndarray(format="rgb24")
    with av.open(str(source)) as container:
        frame = next(f for f in container.decode(video=0) if f.time is not None and f.time >= result.at_seconds)
        original = frame.to_ndarray(format="rgb24")
    assert poster.shape == (HEIGHT, WIDTH, 3)
    assert poster.std() > 10  # not a blank picture
    # The same picture: colours survive the limited-to-full-range conversion, JPEG loses little.
    assert np.abs(poster.astype(np.int16) - original.astype(np.int16)).mean() < 4


def test_poster_of_a_large_video_is_at_most_1280_wide(tmp_path: Path) -> None:
    source = make_video(tmp_path / "replay.mp4", seconds=1.0, width=1920, height=1080, fps=5)

    result = make_poster(source, tmp_path / "poster.jpg")

    assert (result.width, result.height) == (1280, 720)
    with av.open(str(tmp_path / "poster.jpg")) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (1280, 720)


def test_poster_of_audio_only_is_refused(tmp_path: Path) -> None:
    source = make_audio(tmp_path / "lesson.m4a")

    with pytest.raises(UnsupportedMedia, match="pas de vidéo"):
        make_poster(source, tmp_path / "poster.jpg")


# --------------------------------------------------------------------------- checksum


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    path = make_random_bytes(tmp_path / "blob", size=3 * 1024 * 1024 + 17)  # several 1 MiB blocks and a tail

    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha256_of(make_empty(tmp_path / "empty")) == hashlib.sha256(b"").hexdigest()
