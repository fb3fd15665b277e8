"""The one sniffer: a file is named from its first bytes by one table, for replays and side files alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from learning.media import sniffing
from learning.media.containers import UnsupportedMedia
from learning.media.inspection import inspect
from learning.uploads.sidefile_artwork import InvalidArtwork, check_artwork
from tests.helpers.media import bytes_file, make_audio, make_jpeg, make_png, make_text, make_video

Maker = Callable[[Path], Path]


@pytest.mark.parametrize(
    ("make", "name"),
    [
        pytest.param(bytes_file(b"GIF89a" + bytes(100)), "gif", id="gif"),
        pytest.param(bytes_file(b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(100)), "webp", id="webp"),
        pytest.param(bytes_file(b'<svg xmlns="http://www.w3.org/2000/svg"/>\n'), "svg", id="svg"),
        pytest.param(bytes_file(b"%PDF-1.7\n" + bytes(100)), "pdf", id="pdf"),
        pytest.param(bytes_file(b"PK\x03\x04" + bytes(100)), "zip", id="zip"),
        pytest.param(bytes_file(b"\x00\x00\x00\x18ftypavif" + bytes(100)), "heif", id="avif"),
        pytest.param(lambda path: make_video(path, fmt="avi"), "avi", id="avi"),
        pytest.param(lambda path: make_audio(path, fmt="wav"), "wav", id="wav"),
        pytest.param(lambda path: make_audio(path, fmt="flac"), "flac", id="flac"),
        pytest.param(make_text, "text", id="text"),
    ],
)
def test_replay_and_artwork_checks_name_a_file_alike(tmp_path: Path, make: Maker, name: str) -> None:
    path = make(tmp_path / "upload")
    found = sniffing.sniff_file(path)

    with pytest.raises(UnsupportedMedia) as replay:
        inspect(path)
    with pytest.raises(InvalidArtwork) as artwork:
        check_artwork(path)

    assert found.name == name
    assert replay.value.reason.startswith(f"Le fichier est {found.fr}")
    assert artwork.value.detail.startswith(f"The file is {found.what}, not a JPEG or PNG picture.")


@pytest.mark.parametrize(
    ("make", "demuxer"),
    [
        pytest.param(lambda path: make_video(path, fmt="mp4"), "mov", id="mp4"),
        pytest.param(lambda path: make_video(path, fmt="mov"), "mov", id="mov"),
        pytest.param(lambda path: make_video(path, fmt="webm"), "matroska", id="webm"),
        pytest.param(lambda path: make_audio(path, fmt="mp3"), "mp3", id="mp3"),
        pytest.param(make_png, "png_pipe", id="png"),
        pytest.param(make_jpeg, "jpeg_pipe", id="jpeg"),
    ],
)
def test_sniff_names_the_demuxer_for_our_formats(tmp_path: Path, make: Maker, demuxer: str) -> None:
    assert sniffing.sniff_file(make(tmp_path / "upload")).demuxer == demuxer


def test_artwork_check_names_a_recording_sent_as_artwork(tmp_path: Path) -> None:
    path = make_video(tmp_path / "upload", fmt="mp4")

    with pytest.raises(InvalidArtwork, match="The file is an MP4 or QuickTime file, not a JPEG or PNG picture"):
        check_artwork(path)
