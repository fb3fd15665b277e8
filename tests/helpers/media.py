"""Small, real media files made with PyAV at test time, and a few files that only pretend to be media.

Every generator writes one file into the given path and returns it. The pictures and sounds are drawn with
numpy (a moving bar over a gradient, a sine tone), so the same call writes the same content; encoders run
single-threaded with ``+bitexact`` so most outputs are byte-identical from one run to the next. Defaults
keep them quick: 160x90 at 10 fps, mono 48 kHz audio, a few seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from numpy.typing import NDArray

VideoFormat = Literal["mp4", "mov", "webm", "mkv", "avi"]
AudioFormat = Literal["m4a", "mp3", "webm", "ogg", "flac", "wav"]

WIDTH, HEIGHT, FPS = 160, 90, 10
SAMPLE_RATE = 48_000
TONE_HZ = 440.0

# The FFmpeg muxer behind each file type.
_MUXERS: dict[str, str] = {
    "mp4": "mp4",
    "mov": "mov",
    "m4a": "ipod",
    "webm": "webm",
    "mkv": "matroska",
    "avi": "avi",
    "mp3": "mp3",
    "ogg": "ogg",
    "flac": "flac",
    "wav": "wav",
}
# What each file type carries unless the caller asks otherwise.
_DEFAULT_VIDEO_CODEC = {"mp4": "libx264", "mov": "libx264", "webm": "libvpx", "mkv": "libx264", "avi": "mpeg4"}
_DEFAULT_AUDIO_CODEC = {
    "mp4": "aac",
    "mov": "aac",
    "m4a": "aac",
    "webm": "libopus",
    "mkv": "aac",
    "avi": "libmp3lame",
    "mp3": "libmp3lame",
    "ogg": "libopus",
    "flac": "flac",
    "wav": "pcm_s16le",
}
_ISO_BMFF = {"mp4", "mov", "m4a"}


def make_video(
    path: Path,
    *,
    seconds: float = 3.0,
    fmt: VideoFormat = "mp4",
    video_codec: str | None = None,
    audio_codec: str | None = None,
    with_audio: bool = True,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: int = FPS,
    sample_rate: int = SAMPLE_RATE,
    channels: int = 1,
    audio_offset: float = 0.0,
    live: bool = False,
    faststart: bool = True,
) -> Path:
    """A video with a moving bar (and, unless ``with_audio`` is false, a tone); codecs default per format.

    ``audio_offset`` starts the sound that many seconds after the pictures (and shortens it as much);
    ``live`` writes a WebM the way a browser's MediaRecorder does: no duration and no cues in the file;
    ``faststart=False`` leaves an MP4's index (``moov``) after its data (``mdat``), as most cameras do.
    """
    video_codec = video_codec or _DEFAULT_VIDEO_CODEC[fmt]
    audio_codec = audio_codec or _DEFAULT_AUDIO_CODEC[fmt]
    options = {"live": "1"} if live else _container_options(fmt, faststart=faststart)
    with av.open(str(path), "w", format=_MUXERS[fmt], container_options=options) as container:
        video = container.add_stream(video_codec, rate=fps)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = fps  # a keyframe every second, so seeking has something to find
        video.codec_context.thread_count = 1
        if video_codec == "libx264":
            video.codec_context.options = {"preset": "ultrafast", "crf": "30", "x264-params": "mbtree=0"}
        elif video_codec in {"libvpx", "libvpx-vp9"}:
            video.codec_context.bit_rate = 200_000
            video.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        else:
            video.codec_context.bit_rate = 200_000
            video.codec_context.options = {"flags": "+bitexact"}
        audio = _add_audio_stream(container, audio_codec, sample_rate, channels) if with_audio else None

        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(_picture(index, fps, width, height), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            _encode_tone(container, audio, seconds - audio_offset, offset=audio_offset)
    return path


def make_video_without_audio(path: Path, *, seconds: float = 3.0, fmt: VideoFormat = "mp4") -> Path:
    """A silent video: pictures only, no audio stream at all."""
    return make_video(path, seconds=seconds, fmt=fmt, with_audio=False)


def make_audio(
    path: Path,
    *,
    seconds: float = 3.0,
    fmt: AudioFormat = "m4a",
    codec: str | None = None,
    sample_rate: int = SAMPLE_RATE,
    channels: int = 1,
    faststart: bool = True,
) -> Path:
    """An audio-only file holding a tone; the codec defaults per format (AAC in m4a, MP3, Opus in webm...).

    ``faststart=False`` leaves an M4A's index (``moov``) after its data (``mdat``).
    """
    codec = codec or _DEFAULT_AUDIO_CODEC[fmt]
    options = _container_options(fmt, faststart=faststart)
    with av.open(str(path), "w", format=_MUXERS[fmt], container_options=options) as container:
        stream = _add_audio_stream(container, codec, sample_rate, channels)
        _encode_tone(container, stream, seconds)
    return path


def make_png(path: Path, *, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A still PNG picture (one frame of the test pattern)."""
    context = av.CodecContext.create("png", "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = width, height, "rgb24"
    context.time_base = Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(_picture(0, FPS, width, height), format="rgb24")
    path.write_bytes(b"".join(bytes(packet) for packet in [*context.encode(frame), *context.encode(None)]))
    return path


def make_jpeg(path: Path, *, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A still JPEG picture (one frame of the test pattern, JFIF, 4:2:0)."""
    context = av.CodecContext.create("mjpeg", "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = width, height, "yuvj420p"
    context.time_base = Fraction(1, 1)
    context.sample_aspect_ratio = Fraction(1, 1)  # makes the encoder write the JFIF header
    picture = av.VideoFrame.from_ndarray(_picture(0, FPS, width, height), format="rgb24")
    frame = picture.reformat(width, height, "yuvj420p", dst_color_range="JPEG")
    frame.pts = 0
    path.write_bytes(b"".join(bytes(packet) for packet in [*context.encode(frame), *context.encode(None)]))
    return path


def make_text(path: Path, text: str = "Ceci n'est pas une vidéo.\n" * 200) -> Path:
    """A text file (whatever its name claims)."""
    path.write_text(text, encoding="utf-8")
    return path


def make_random_bytes(path: Path, size: int = 256 * 1024, *, seed: int = 5) -> Path:
    """Noise: bytes that are no format at all."""
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def make_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def bytes_file(data: bytes) -> Callable[[Path], Path]:
    """A maker writing ``data``: for files made of a few chosen bytes."""

    def write(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return write


def make_truncated(source: Path, path: Path, *, keep: float = 0.6) -> Path:
    """The first ``keep`` of ``source``'s bytes: an upload cut short."""
    data = source.read_bytes()
    path.write_bytes(data[: round(len(data) * keep)])
    return path


# --------------------------------------------------------------------------- internals


def top_level_boxes(data: bytes) -> list[str]:
    """The types of an ISO BMFF file's top-level boxes, in file order (``ftyp``, ``moov``, ``mdat``...)."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            break
        if size < 8:
            raise ValueError(f"not an ISO BMFF file: box of {size} bytes at {offset}")
        offset += size
    return boxes


def is_faststart(data: bytes) -> bool:
    """A player can start before the end arrives: the index (``moov``) comes before the data (``mdat``)."""
    boxes = top_level_boxes(data)
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")


def _container_options(fmt: str, *, faststart: bool = True) -> dict[str, str]:
    # bitexact: no muxer version strings, so the bytes only change when the content does.
    options = {"fflags": "+bitexact"}
    if fmt in _ISO_BMFF and faststart:
        options["movflags"] = "+faststart"
    return options


def _add_audio_stream(
    container: av.container.OutputContainer, codec: str, sample_rate: int, channels: int
) -> av.AudioStream:
    stream = container.add_stream(codec, rate=sample_rate)
    assert isinstance(stream, av.AudioStream)
    stream.layout = "mono" if channels == 1 else "stereo"
    if codec not in {"flac", "pcm_s16le"}:
        stream.bit_rate = 64_000 * channels
    stream.codec_context.options = {"flags": "+bitexact"}
    return stream


def _encode_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, seconds: float, *, offset: float = 0.0
) -> None:
    """A 440 Hz tone with a slow tremolo, fed in 1024-sample frames (the encoder re-chunks as it needs)."""
    context = stream.codec_context
    for frame in _tone_frames(seconds, context.sample_rate, context.layout.nb_channels):
        assert frame.pts is not None
        frame.pts += round(offset * context.sample_rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _tone_frames(seconds: float, sample_rate: int, channels: int, frame_size: int = 1024) -> Iterator[av.AudioFrame]:
    total = round(seconds * sample_rate)
    layout = "mono" if channels == 1 else "stereo"
    for offset in range(0, total, frame_size):
        t = np.arange(offset, min(offset + frame_size, total), dtype=np.float64) / sample_rate
        level = 0.25 * (0.75 + 0.25 * np.sin(2 * math.pi * 0.5 * t))
        samples = (level * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.tile(samples, (channels, 1)), format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = offset
        frame.time_base = Fraction(1, sample_rate)
        yield frame


def _picture(index: int, fps: int, width: int, height: int) -> NDArray[np.uint8]:
    """A blue-green gradient with a white bar sweeping across once every two seconds."""
    picture = np.zeros((height, width, 3), dtype=np.uint8)
    picture[..., 1] = np.linspace(40, 200, height, dtype=np.uint8)[:, None]
    picture[..., 2] = np.linspace(200, 60, width, dtype=np.uint8)[None, :]
    bar = width // 8
    x = round((index / (2 * fps)) % 1 * (width - bar))
    picture[:, x : x + bar] = 235
    return picture


def probed_seconds(name: str) -> float:
    """A shipped medium's duration as FFmpeg reads it from ``media/`` (independently of the app)."""
    from tests.helpers.database import REPOSITORY

    with av.open(str(REPOSITORY / "media" / name)) as container:
        assert container.duration is not None
        return float(container.duration) / 1_000_000
