"""Opening a replay with PyAV (FFmpeg), and what inspection, renditions and posters share: the errors an
uploader is shown, the demuxer chosen from the file's bytes, the stream and duration helpers.

Every function here blocks (callers run them in a worker thread). The container is decided from the file's
first bytes (:mod:`learning.media.sniffing`), never from its name or the client's claim, and FFmpeg is told
which demuxer to use instead of guessing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import av
import av.error
from av.container import InputContainer

from learning.lib.errors import Unprocessable, UnsupportedMediaType
from learning.media import sniffing
from learning.media.sniffing import Family

# The French refusals end with what to do instead: one sentence an admin reads on the desk.
SEND_ACCEPTED = "envoyez un fichier MP4, M4A, MOV, MP3 ou WebM"

# Bounds on FFmpeg's stream analysis, so a damaged or hostile file cannot keep it reading (sizes in bytes,
# durations in microseconds); our three demuxers find their streams long before these limits.
_INPUT_OPTIONS: Final = {
    "probesize": str(8 * 1024 * 1024),
    "analyzeduration": str(10_000_000),
    "protocol_whitelist": "file",
}


class UnsupportedMedia(UnsupportedMediaType):
    """The file is not a replay we accept; ``reason`` says why, and what to send instead, in one French sentence
    meant for the uploader (the admin desk shows it)."""

    title = "Unsupported media"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaProcessingFailed(Unprocessable):
    """An accepted file could not be processed (FFmpeg failed while reading or writing it)."""

    title = "Media processing failed"


def replay_demuxer(path: Path) -> tuple[str, str | None]:
    """The FFmpeg demuxer for the replay's bytes, and the ISO BMFF major brand when there is one.

    Raises :class:`UnsupportedMedia` naming what the file is when it is not one of ours.
    """
    found = sniffing.sniff_file(path)
    if found.family is Family.RECORDING and found.demuxer is not None:
        return found.demuxer, found.brand
    raise UnsupportedMedia(_refusal(found))


def _refusal(found: sniffing.Sniffed) -> str:
    match found.family:
        case Family.EMPTY:
            return f"Le fichier est vide : {SEND_ACCEPTED} complet."
        case Family.PICTURE:
            return f"Le fichier est {found.fr}, une image fixe et non un enregistrement : {SEND_ACCEPTED}."
        case Family.MEDIA:
            return f"Le fichier est {found.fr}, un format non accepté : convertissez-le, puis {SEND_ACCEPTED}."
        case Family.TEXT:
            return f"Le fichier est du texte, ni audio ni vidéo : {SEND_ACCEPTED}."
        case Family.DOCUMENT:
            return f"Le fichier est {found.fr}, ni audio ni vidéo : {SEND_ACCEPTED}."
    return f"Le fichier n’est ni audio ni vidéo dans un format reconnu : {SEND_ACCEPTED}."


def open_input(path: Path, demuxer: str) -> InputContainer:
    """Open with the demuxer the bytes call for (FFmpeg does not guess); FFmpeg errors become UnsupportedMedia."""
    try:
        return av.open(
            str(path.resolve()), "r", format=demuxer, container_options=_INPUT_OPTIONS, metadata_errors="replace"
        )
    except av.error.FFmpegError as exc:
        kind = {"mov": "un fichier MP4 ou QuickTime", "matroska": "un fichier WebM", "mp3": "un fichier MP3"}[demuxer]
        raise UnsupportedMedia(
            f"Le fichier commence comme {kind} mais ne peut pas être lu : il est sans doute tronqué ou abîmé, "
            "envoyez-le à nouveau en entier."
        ) from exc


def first_video(container: InputContainer) -> av.VideoStream | None:
    """The first stream of moving pictures: cover art in an MP3 or M4A is a still, not a video."""
    stills = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
    return next((stream for stream in container.streams.video if not stream.disposition & stills), None)


def codec_name(stream: av.VideoStream | av.AudioStream) -> str | None:
    """The codec's name rather than the decoder's ("mp3", not "mp3float"); None when FFmpeg has no decoder."""
    context: av.CodecContext | None = stream.codec_context  # PyAV leaves it None without a decoder
    return context.codec.canonical_name if context is not None else None


def container_duration(container: InputContainer) -> float | None:
    """The container's duration, else the longest stream's; None when neither is known."""
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    durations = [
        float(stream.duration * stream.time_base)
        for stream in (*container.streams.audio, *container.streams.video)
        if stream.duration and stream.time_base
    ]
    return max(durations, default=None)


def scan_duration(path: Path, demuxer: str) -> float | None:
    """The duration from the packets themselves (read, not decoded): for files whose header has none."""
    start, end = float("inf"), float("-inf")
    with open_input(path, demuxer) as container:
        streams = [*container.streams.audio, *container.streams.video]
        try:
            for packet in container.demux(*streams):
                if packet.pts is None or packet.time_base is None:
                    continue
                time = float(packet.pts * packet.time_base)
                start = min(start, time)
                end = max(end, time + float((packet.duration or 0) * packet.time_base))
        except av.error.FFmpegError:
            pass  # a truncated tail: what was read so far is the duration
    if end < start:
        return None
    return end - max(start, 0.0)


def ffmpeg_message(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, av.error.FFmpegError) else None) or str(exc)
