"""What a media file really is: duration and dimensions read with PyAV (FFmpeg)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.error


@dataclass(frozen=True, slots=True)
class Probe:
    duration_seconds: float | None
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool


class ProbeFailed(Exception):
    """The file could not be read as media."""


def probe(path: Path) -> Probe:
    """Read the container: duration (s), the first video stream's size, which streams exist. Blocking."""
    try:
        with av.open(str(path)) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            duration = container.duration / 1_000_000 if container.duration else None
            if duration is None and video is not None and video.duration and video.time_base:
                duration = float(video.duration * video.time_base)
            is_still = video is not None and container.format.name in {
                "image2",
                "png_pipe",
                "jpeg_pipe",
                "mjpeg",
            }
            return Probe(
                duration_seconds=None if is_still else duration,
                width=video.codec_context.width if video is not None else None,
                height=video.codec_context.height if video is not None else None,
                has_video=video is not None and not is_still,
                has_audio=audio is not None,
            )
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ProbeFailed(f"{path.name}: {exc}") from exc
