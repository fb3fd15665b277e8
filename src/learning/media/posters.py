"""The poster of a video replay: a JPEG of one of its pictures, made with PyAV (FFmpeg). Blocking (callers
run it in a worker thread)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import av.error
from av.container import InputContainer

from learning.media.containers import (
    MediaProcessingFailed,
    UnsupportedMedia,
    container_duration,
    first_video,
    open_input,
    replay_demuxer,
    scan_duration,
)

POSTER_MAX_WIDTH: Final = 1280
_TIME_TOLERANCE: Final = 0.001  # seconds: 3072/10240 is 0.3, and 0.1 x 3.0 is 0.30000000000000004
_JPEG_QUALITY: Final = 3  # mjpeg quantiser: 2 (best) .. 31; 3 is visually clean at a fraction of 2's size


@dataclass(frozen=True, slots=True)
class PosterInfo:
    """The JPEG written by :func:`make_poster`."""

    width: int
    height: int
    size_bytes: int
    at_seconds: float  # the time of the picture in the video


def make_poster(
    source: Path, target: Path, *, at_fraction: float = 0.1, duration_seconds: float | None = None
) -> PosterInfo:
    """Write a JPEG of the video's picture at ``at_fraction`` of its duration (10 % by default).

    The picture keeps the video's size (shrunk to at most 1280 pixels wide, same aspect ratio). Pass
    ``duration_seconds`` from :func:`~learning.media.inspection.inspect` to spare a file whose header has no
    duration a second scan. Raises :class:`UnsupportedMedia` when the file has no video.
    """
    demuxer, _ = replay_demuxer(source)
    try:
        with open_input(source, demuxer) as container:
            video = first_video(container)
            if video is None:
                raise UnsupportedMedia("Le fichier n’a pas de vidéo dont tirer une image d’aperçu.")
            if duration_seconds is None:
                duration_seconds = container_duration(container) or scan_duration(source, demuxer) or 0.0
            # Clamped so that a short clip still gives a picture from its last second, not past its end.
            at = min(max(duration_seconds * at_fraction, 0.0), max(duration_seconds - 1.0, 0.0))
            start = float(video.start_time * video.time_base) if video.start_time and video.time_base else 0.0
            frame = _frame_at(container, video, start + at)
        width, height = _poster_size(frame.width, frame.height, video.sample_aspect_ratio)
        jpeg = _encode_jpeg(frame, width, height)
    except av.error.FFmpegError as exc:
        raise MediaProcessingFailed(
            "L’image d’aperçu n’a pas pu être tirée de la vidéo : relancez le traitement, et si l’échec se répète, "
            "exportez la vidéo à nouveau."
        ) from exc
    target.write_bytes(jpeg)
    at_seconds = max((frame.time if frame.time is not None else start) - start, 0.0)
    return PosterInfo(width=width, height=height, size_bytes=len(jpeg), at_seconds=at_seconds)


def _frame_at(container: InputContainer, video: av.VideoStream, at: float) -> av.VideoFrame:
    """The first frame shown at or after ``at`` (seconds on the stream's clock): seek to the keyframe
    before it, then decode forward."""
    if at > 0 and video.time_base:
        with contextlib.suppress(av.error.FFmpegError):  # no index to seek with: decode from the start
            container.seek(int(at / video.time_base), stream=video, backward=True)
    last: av.VideoFrame | None = None
    for frame in container.decode(video):
        last = frame
        if frame.time is not None and frame.time >= at - _TIME_TOLERANCE:
            break
    if last is None:
        raise MediaProcessingFailed(
            "L’image d’aperçu n’a pas pu être tirée de la vidéo (aucune image lisible) : envoyez un fichier corrigé."
        )
    return last


def _poster_size(width: int, height: int, aspect: Fraction | None) -> tuple[int, int]:
    """Display size (non-square pixels stretched), at most POSTER_MAX_WIDTH wide, even for 4:2:0 chroma."""
    if aspect and aspect > 0 and aspect != 1:
        width = round(width * aspect)
    if width > POSTER_MAX_WIDTH:
        height = round(height * POSTER_MAX_WIDTH / width)
        width = POSTER_MAX_WIDTH
    return width, height


def _encode_jpeg(frame: av.VideoFrame, width: int, height: int) -> bytes:
    context = av.CodecContext.create("mjpeg", "w")
    if not isinstance(context, av.VideoCodecContext):  # pragma: no cover - mjpeg is a video encoder
        raise TypeError("mjpeg is not a video encoder")
    context.width, context.height = width, height
    context.pix_fmt = "yuvj420p"  # full-range YCbCr, the JFIF convention
    context.time_base = Fraction(1, 1)
    context.sample_aspect_ratio = Fraction(1, 1)  # makes the encoder write the JFIF header
    context.qmin = context.qmax = _JPEG_QUALITY
    picture = frame.reformat(width, height, "yuvj420p", interpolation="AREA", dst_color_range="JPEG")
    picture.pts = 0
    return b"".join(bytes(packet) for packet in [*context.encode(picture), *context.encode(None)])
