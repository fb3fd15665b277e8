"""Faststart wherever a podcast app looks: what a feed encloses and a video's stored original have their
index (``moov``) before their data (``mdat``), so a player starts without fetching the end of the file.

Reproduces issue 19: an M4A upload was enclosed as its original (``moov`` at the end) although a faststart
rendition existed, and video originals were kept as uploaded.
"""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import httpx
from tusclient import client as tus

from tests.helpers.database import sql
from tests.helpers.media import is_faststart, make_audio, make_video, top_level_boxes
from tests.uploads.conftest import Server

MODULE = "dix-ans-de-recherche"
LESSON = "de-la-caravane-au-voyage-d-etudes"
MARCH = "session:2019-03"


def _upload(server: Server, path: Path, target: str, filetype: str) -> dict[str, object]:
    metadata = {"filename": path.name, "target": target, "filetype": filetype}
    uploader = tus.TusClient(server.uploads, headers=server.headers).uploader(
        file_stream=io.BytesIO(path.read_bytes()), chunk_size=512 * 1024, metadata=metadata
    )
    uploader.upload()
    assert uploader.url is not None
    state = server.wait_until_done(uploader.url)
    assert state["status"] == "ready", state["error"]
    return state


def _video_packets(data: bytes) -> list[tuple[int | None, str]]:
    """Each video packet's time and a digest of its bytes: equal lists mean nothing was re-encoded."""
    with av.open(io.BytesIO(data)) as container:
        return [
            (packet.pts, hashlib.sha256(bytes(packet)).hexdigest())
            for packet in container.demux(video=0)
            if packet.size
        ]


def test_the_feed_encloses_a_faststart_file_for_an_m4a_upload(server: Server, media_dir: Path) -> None:
    source = make_audio(media_dir / "entretien.m4a", seconds=4.0, faststart=False)
    assert top_level_boxes(source.read_bytes())[-1] == "moov"  # as many recorders write it
    state = _upload(server, source, f"lesson:{MODULE}/{LESSON}", "audio/mp4")
    feed = ET.fromstring(httpx.get(f"{server.base}/feeds/modules/{MODULE}.xml").content)
    lesson = httpx.get(f"{server.base}/api/v1/modules/{MODULE}/lessons/{LESSON}").json()
    item = next(i for i in feed.iter("item") if i.findtext("guid") == lesson["id"])
    enclosure = item.find("enclosure")
    assert enclosure is not None
    enclosed = httpx.get(enclosure.attrib["url"].replace(server.settings.base_url, server.base))
    assert enclosed.status_code == 200
    assert int(enclosure.attrib["length"]) == len(enclosed.content)
    assert is_faststart(enclosed.content), top_level_boxes(enclosed.content)
    with av.open(io.BytesIO(enclosed.content)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert abs(container.duration / 1_000_000 - 4.0) < 0.1
    assert lesson["media"]["id"] == state["asset_id"]
    assert lesson["duration_seconds"] == 4  # measured at processing


def test_a_video_upload_is_stored_faststart_without_re_encoding(server: Server, media_dir: Path) -> None:
    source = make_video(media_dir / "mars.mp4", seconds=3.0, faststart=False)
    assert top_level_boxes(source.read_bytes())[-1] == "moov"
    state = _upload(server, source, MARCH, "video/mp4")
    original = sql(server.settings.require_database_url(), "SELECT * FROM media_asset WHERE id = $1::uuid",
                   state["asset_id"])[0]  # fmt: skip
    stored = (server.settings.media_root / original["storage_key"]).read_bytes()
    assert is_faststart(stored), top_level_boxes(stored)
    assert _video_packets(stored) == _video_packets(source.read_bytes())  # remuxed, not re-encoded
    assert original["sha256"] == hashlib.sha256(stored).hexdigest()
    assert original["size_bytes"] == len(stored)
    served = httpx.get(f"{server.base}/media/{original['id']}/mars.mp4")
    assert served.content == stored
