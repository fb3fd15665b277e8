"""MP4 and QuickTime files a player can start before it has them whole ("faststart"): the index (``moov``
box) before the data (``mdat``), moved there by remuxing with PyAV (FFmpeg), never re-encoding.

Cameras and most editors write the index last; a podcast app or a browser then has to fetch the end of the
file before it plays a second. Blocking (callers run it in a worker thread); files are read in packets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import av
import av.error

from learning.media.containers import MediaProcessingFailed, first_video, open_input

_HEADER: Final = 8  # a box starts with its 32-bit size and its type
_MAX_BOXES: Final = 10_000  # a real file has a handful of top-level boxes; this bounds a hostile one


def index_first(path: Path) -> bool:
    """True when an ISO BMFF file's ``moov`` box comes before its first ``mdat`` box (or it has no ``mdat``).

    Only the top-level box headers are read. A file whose boxes cannot be walked answers False: remuxing it
    is then the safe choice.
    """
    size = path.stat().st_size
    offset = 0
    with path.open("rb") as handle:
        for _ in range(_MAX_BOXES):
            if offset + _HEADER > size:
                return True
            handle.seek(offset)
            header = handle.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if length == 1:  # a 64-bit size follows the type
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:  # the box runs to the end of the file
                return True
            if length < _HEADER:
                return False
            offset += length
    return False


def remux_faststart(source: Path, target: Path, *, muxer: str) -> None:
    """Copy the source's video and audio packets into ``target`` (``muxer``: "mp4" or "mov") with the index
    first. Nothing is decoded or encoded; on failure no partial ``target`` is left behind."""
    try:
        with open_input(source, "mov") as container:
            video = first_video(container)
            streams = [*([video] if video is not None else []), *container.streams.audio]
            with av.open(str(target), "w", format=muxer, container_options={"movflags": "+faststart"}) as output:
                copies = {stream.index: output.add_stream_from_template(stream) for stream in streams}
                for packet in container.demux(*streams):
                    if packet.dts is None:  # the demuxer's empty flush packet
                        continue
                    packet.stream = copies[packet.stream.index]
                    output.mux(packet)
    except av.error.FFmpegError as exc:
        target.unlink(missing_ok=True)
        raise MediaProcessingFailed(
            "L’index de la vidéo n’a pas pu être placé en tête du fichier : relancez le traitement, et si l’échec "
            "se répète, exportez la vidéo à nouveau."
        ) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
