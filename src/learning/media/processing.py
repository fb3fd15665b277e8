"""Replay processing with PyAV (FFmpeg): what an uploaded file really is, an AAC audio rendition for the
podcast feeds, a poster picture and a checksum.

Every function here blocks (callers run them in a worker thread) and keeps memory bounded however long the
recording: files are read in packets, never whole.

The container is decided from the file's first bytes, never from its name or the client's claim: an ISO
BMFF ``ftyp`` box (or a classic QuickTime atom), an EBML header, or an MP3 stream. FFmpeg is then told
which demuxer to use instead of guessing, so a text file is never read as a playlist, a concat script or
an ANSI-art "video", and nothing in an upload can make FFmpeg open another file or URL.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import av
import av.error
from av.container import InputContainer

from learning.lib.errors import Unprocessable, UnsupportedMediaType

MediaFormat = Literal["mp4", "m4a", "mov", "mp3", "webm"]

ACCEPTED = "Replays must be MP4, M4A, MOV, MP3 or WebM files."

_MIME_TYPES: Final[dict[MediaFormat, str]] = {
    "mp4": "video/mp4",
    "m4a": "audio/x-m4a",
    "mov": "video/quicktime",
    "mp3": "audio/mpeg",
    "webm": "video/webm",
}
_WEBM_VIDEO_CODECS: Final = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO_CODECS: Final = frozenset({"opus", "vorbis"})

# Bounds on FFmpeg's stream analysis, so a damaged or hostile file cannot keep it reading (sizes in bytes,
# durations in microseconds); our three demuxers find their streams long before these limits.
_INPUT_OPTIONS: Final = {
    "probesize": str(8 * 1024 * 1024),
    "analyzeduration": str(10_000_000),
    "protocol_whitelist": "file",
}
_HEAD_BYTES: Final = 8192
_DECODE_CHECK_PACKETS: Final = 500  # audio packets tried before calling a track undecodable (~10 s of AAC)

_AAC_BIT_RATES: Final = {1: 96_000, 2: 128_000}
_AAC_FALLBACK_RATE: Final = 48_000
_AAC_FRAME_SIZE: Final = 1024

POSTER_MAX_WIDTH: Final = 1280
_TIME_TOLERANCE: Final = 0.001  # seconds: 3072/10240 is 0.3, and 0.1 x 3.0 is 0.30000000000000004
_JPEG_QUALITY: Final = 3  # mjpeg quantiser: 2 (best) .. 31; 3 is visually clean at a fraction of 2's size


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What :func:`inspect` found in an accepted replay."""

    format: MediaFormat
    mime_type: str
    extension: str  # with its dot: ".mp4"
    duration_seconds: float
    video_codec: str | None  # FFmpeg's codec names: "h264", "hevc", "vp9", "av1"...
    audio_codec: str  # "aac", "mp3", "opus", "vorbis"...
    bit_rate: int  # bits per second, the whole file
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool


@dataclass(frozen=True, slots=True)
class RenditionInfo:
    """The audio-only ``.m4a`` written by :func:`make_audio_rendition`."""

    duration_seconds: float
    codec: str
    bit_rate: int
    sample_rate: int
    channels: int
    size_bytes: int
    remuxed: bool  # True: the source's AAC packets were copied; False: the audio was re-encoded


@dataclass(frozen=True, slots=True)
class PosterInfo:
    """The JPEG written by :func:`make_poster`."""

    width: int
    height: int
    size_bytes: int
    at_seconds: float  # the time of the picture in the video


class UnsupportedMedia(UnsupportedMediaType):
    """The file is not a replay we accept; ``reason`` says why in one sentence meant for the uploader."""

    title = "Unsupported media"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaProcessingFailed(Unprocessable):
    """An accepted file could not be processed (FFmpeg failed while reading or writing it)."""

    title = "Media processing failed"


# --------------------------------------------------------------------------- inspection


def inspect(path: Path) -> MediaInfo:
    """Identify a replay from its bytes and read its duration, codecs, bit rate and picture size.

    Raises :class:`UnsupportedMedia` for anything but MP4, M4A, MOV, MP3 or WebM with a decodable audio
    track and a duration; the reason names what the file is when it is recognisable (text, image, AVI...).
    """
    demuxer, sniffed_brand = _sniff(path)
    with _open_input(path, demuxer) as container:
        brand = container.metadata.get("major_brand", sniffed_brand)
        audio = container.streams.audio[0] if container.streams.audio else None
        video = _first_video(container)
        if audio is None:
            if video is not None:
                raise UnsupportedMedia("The video has no sound track; a replay needs audio for the podcast feed.")
            raise UnsupportedMedia(f"The file holds no audio or video. {ACCEPTED}")
        audio_codec = _codec_name(audio)
        video_codec = _codec_name(video) if video is not None else None
        if audio_codec is None or (video is not None and video_codec is None):
            raise UnsupportedMedia(f"The file uses a codec that cannot be decoded. {ACCEPTED}")
        media_format = _media_format(demuxer, brand, video_codec, audio_codec)
        if demuxer == "mov":
            _check_not_truncated(container, path.stat().st_size)
        _check_audio_decodes(container, audio)
        duration = _container_duration(container)
        bit_rate = container.bit_rate
        width = video.codec_context.width if video is not None else None
        height = video.codec_context.height if video is not None else None
    if duration is None:
        # A browser recording (MediaRecorder) has no duration in its header: count the packets instead.
        duration = _scan_duration(path, demuxer)
    if duration is None or duration <= 0:
        raise UnsupportedMedia("The recording has no duration: it is empty or was not finalised.")
    return MediaInfo(
        format=media_format,
        mime_type=_MIME_TYPES[media_format],
        extension=f".{media_format}",
        duration_seconds=duration,
        video_codec=video_codec,
        audio_codec=audio_codec,
        bit_rate=bit_rate if bit_rate > 0 else round(path.stat().st_size * 8 / duration),
        width=width,
        height=height,
        has_video=video is not None,
        has_audio=True,
    )


def _media_format(demuxer: str, brand: str | None, video_codec: str | None, audio_codec: str) -> MediaFormat:
    if demuxer == "mp3":
        return "mp3"
    if demuxer == "matroska":
        if (video_codec is None or video_codec in _WEBM_VIDEO_CODECS) and audio_codec in _WEBM_AUDIO_CODECS:
            return "webm"
        codecs = " and ".join(codec for codec in (video_codec, audio_codec) if codec)
        raise UnsupportedMedia(
            f"Matroska (MKV) with {codecs} is not accepted: a WebM replay must carry VP8, VP9 or AV1 video "
            f"and Opus or Vorbis audio. {ACCEPTED}"
        )
    # ISO BMFF. QuickTime writes the brand "qt  " (or, in old files, no ftyp box at all); every other brand
    # (isom, mp42, M4A, M4V, 3gp4...) is MP4, told apart from M4A by whether there are pictures.
    if brand is None or brand.strip() == "qt":
        return "mov"
    return "mp4" if video_codec is not None else "m4a"


def _first_video(container: InputContainer) -> av.VideoStream | None:
    """The first stream of moving pictures: cover art in an MP3 or M4A is a still, not a video."""
    stills = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
    return next((stream for stream in container.streams.video if not stream.disposition & stills), None)


def _codec_name(stream: av.VideoStream | av.AudioStream) -> str | None:
    """The codec's name rather than the decoder's ("mp3", not "mp3float"); None when FFmpeg has no decoder."""
    context: av.CodecContext | None = stream.codec_context  # PyAV leaves it None without a decoder
    return context.codec.canonical_name if context is not None else None


def _check_not_truncated(container: InputContainer, size: int) -> None:
    """An MP4's sample tables say where every sample lies: one past the end of the file means a cut upload.

    Only the ``moov`` box is needed to open a "faststart" file, so without this a half-uploaded replay
    would pass for a whole one.
    """
    for stream in container.streams:
        entries = stream.index_entries
        if len(entries) and (last := entries[len(entries) - 1]).pos + last.size > size:
            raise UnsupportedMedia("The file is truncated: its index points past its end (was the upload cut short?).")


def _check_audio_decodes(container: InputContainer, audio: av.AudioStream) -> None:
    """Decode the first audio frame: a real track yields one at once, bytes that only look like one never do."""
    error: av.error.FFmpegError | None = None
    try:
        for count, packet in enumerate(container.demux(audio)):
            if count >= _DECODE_CHECK_PACKETS:
                break
            if packet.dts is None:  # the demuxer's empty flush packet
                continue
            try:
                if packet.decode():
                    return
            except av.error.FFmpegError as exc:
                error = exc  # one damaged packet does not make a bad track: try the next ones
    except av.error.FFmpegError as exc:
        error = exc
    detail = f" ({_ffmpeg_message(error)})" if error is not None else ""
    raise UnsupportedMedia(f"The audio track cannot be decoded{detail}: no sound was found at its start.")


def _container_duration(container: InputContainer) -> float | None:
    """The container's duration, else the longest stream's; None when neither is known."""
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    durations = [
        float(stream.duration * stream.time_base)
        for stream in (*container.streams.audio, *container.streams.video)
        if stream.duration and stream.time_base
    ]
    return max(durations, default=None)


def _scan_duration(path: Path, demuxer: str) -> float | None:
    """The duration from the packets themselves (read, not decoded): for files whose header has none."""
    start, end = float("inf"), float("-inf")
    with _open_input(path, demuxer) as container:
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


# --------------------------------------------------------------------------- audio rendition


def make_audio_rendition(source: Path, target: Path) -> RenditionInfo:
    """Write the source's first audio track as an AAC ``.m4a`` (MP4 audio, moov first) for podcast feeds.

    AAC is copied packet for packet (no quality loss, seconds for an hour); anything else (MP3, Opus,
    Vorbis...) is decoded and encoded to AAC, mono or stereo as the source (more channels are downmixed).
    On failure no partial ``target`` is left behind.
    """
    demuxer, _ = _sniff(source)
    try:
        with _open_input(source, demuxer) as container:
            if not container.streams.audio:
                raise UnsupportedMedia("The file has no audio track to make a podcast episode from.")
            audio = container.streams.audio[0]
            remux = _codec_name(audio) == "aac"  # copied as is: no decoder needed
            with av.open(str(target), "w", format="ipod", container_options={"movflags": "+faststart"}) as output:
                if remux:
                    _remux_audio(container, audio, output)
                else:
                    _transcode_audio(container, audio, output)
    except (av.error.FFmpegError, ValueError) as exc:  # ValueError: the resampler meets a format change
        target.unlink(missing_ok=True)
        raise MediaProcessingFailed(f"The audio rendition failed: {_ffmpeg_message(exc)}.") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return _rendition_info(target, remuxed=remux)


def _remux_audio(container: InputContainer, audio: av.AudioStream, output: av.container.OutputContainer) -> None:
    stream = output.add_stream_from_template(audio)
    # Start the rendition at 0 even when the track starts late in its container. A negative start is kept:
    # it is the encoder's priming (AAC's 1024 samples), which the muxer turns into an edit list.
    shift = audio.start_time if audio.start_time and audio.start_time > 0 else 0
    for packet in container.demux(audio):
        if packet.dts is None:  # the demuxer's empty flush packet
            continue
        packet.dts -= shift
        if packet.pts is not None:
            packet.pts -= shift
        packet.stream = stream
        output.mux(packet)


def _transcode_audio(container: InputContainer, audio: av.AudioStream, output: av.container.OutputContainer) -> None:
    source = audio.codec_context
    channels = min(max(source.layout.nb_channels, 1), 2)
    layout = "mono" if channels == 1 else "stereo"
    aac = av.Codec("aac", "w")
    rate = source.sample_rate if source.sample_rate in (aac.audio_rates or ()) else _AAC_FALLBACK_RATE
    stream = output.add_stream("aac", rate=rate)
    stream.layout = layout
    stream.format = "fltp"
    stream.bit_rate = _AAC_BIT_RATES[channels]
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=_AAC_FRAME_SIZE)
    written = 0  # samples: the rendition is the track's sound end to end, starting at 0

    def encode(frames: list[av.AudioFrame]) -> None:
        nonlocal written
        for frame in frames:
            frame.pts = written
            frame.time_base = Fraction(1, rate)
            written += frame.samples
            output.mux(stream.encode(frame))

    for frame in container.decode(audio):
        frame.pts = None  # the source's clock is not ours; the resampler only needs the samples
        encode(resampler.resample(frame))
    encode(resampler.resample(None))
    output.mux(stream.encode(None))


def _rendition_info(target: Path, *, remuxed: bool) -> RenditionInfo:
    with _open_input(target, "mov") as container:
        audio = container.streams.audio[0]
        duration = _container_duration(container) or 0.0
        bit_rate = audio.bit_rate or container.bit_rate
        return RenditionInfo(
            duration_seconds=duration,
            codec=_codec_name(audio) or "unknown",
            bit_rate=bit_rate,
            sample_rate=audio.codec_context.sample_rate,
            channels=audio.codec_context.layout.nb_channels,
            size_bytes=target.stat().st_size,
            remuxed=remuxed,
        )


# --------------------------------------------------------------------------- poster


def make_poster(
    source: Path, target: Path, *, at_fraction: float = 0.1, duration_seconds: float | None = None
) -> PosterInfo:
    """Write a JPEG of the video's picture at ``at_fraction`` of its duration (10 % by default).

    The picture keeps the video's size (shrunk to at most 1280 pixels wide, same aspect ratio). Pass
    ``duration_seconds`` from :func:`inspect` to spare a file whose header has no duration a second scan.
    Raises :class:`UnsupportedMedia` when the file has no video.
    """
    demuxer, _ = _sniff(source)
    try:
        with _open_input(source, demuxer) as container:
            video = _first_video(container)
            if video is None:
                raise UnsupportedMedia("The file has no video to take a poster picture from.")
            if duration_seconds is None:
                duration_seconds = _container_duration(container) or _scan_duration(source, demuxer) or 0.0
            # Clamped so that a short clip still gives a picture from its last second, not past its end.
            at = min(max(duration_seconds * at_fraction, 0.0), max(duration_seconds - 1.0, 0.0))
            start = float(video.start_time * video.time_base) if video.start_time and video.time_base else 0.0
            frame = _frame_at(container, video, start + at)
        width, height = _poster_size(frame.width, frame.height, video.sample_aspect_ratio)
        jpeg = _encode_jpeg(frame, width, height)
    except av.error.FFmpegError as exc:
        raise MediaProcessingFailed(f"The poster picture failed: {_ffmpeg_message(exc)}.") from exc
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
        raise MediaProcessingFailed("The poster picture failed: no picture could be decoded.")
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


# --------------------------------------------------------------------------- checksum


def sha256_file(path: Path, *, block_size: int = 1024 * 1024) -> str:
    """The file's SHA-256 as 64 hex digits, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- sniffing


def _open_input(path: Path, demuxer: str) -> InputContainer:
    """Open with the demuxer the bytes call for (FFmpeg does not guess); FFmpeg errors become UnsupportedMedia."""
    try:
        return av.open(
            str(path.resolve()), "r", format=demuxer, container_options=_INPUT_OPTIONS, metadata_errors="replace"
        )
    except av.error.FFmpegError as exc:
        kind = {"mov": "an MP4/QuickTime file", "matroska": "a WebM file", "mp3": "an MP3 file"}[demuxer]
        raise UnsupportedMedia(
            f"The file starts like {kind} but cannot be read ({_ffmpeg_message(exc)}): it may be truncated or damaged."
        ) from exc


def _sniff(path: Path) -> tuple[str, str | None]:
    """The FFmpeg demuxer for the file's bytes, and the ISO BMFF major brand when there is one.

    Raises :class:`UnsupportedMedia` naming what the file is when it is not one of ours.
    """
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        raise UnsupportedMedia("The file is empty.")
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12].decode("latin-1")
        if brand.strip().lower() in _STILL_IMAGE_BRANDS:
            raise UnsupportedMedia(f"The file is a still image (HEIF/AVIF), not a recording. {ACCEPTED}")
        return "mov", brand
    if box in _QUICKTIME_ATOMS:
        return "mov", None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska", None
    if head.startswith(b"ID3") or _looks_like_mp3(head):
        return "mp3", None
    raise UnsupportedMedia(_not_media_reason(head))


_QUICKTIME_ATOMS: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_STILL_IMAGE_BRANDS: Final = frozenset({"heic", "heix", "heim", "heis", "mif1", "msf1", "avif", "avis", "crx"})
_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\x89PNG\r\n\x1a\n", "a still image (PNG)"),
    (0, b"\xff\xd8\xff", "a still image (JPEG)"),
    (0, b"GIF8", "an image (GIF)"),
    (8, b"WEBP", "an image (WebP)"),
    (8, b"AVI ", "an AVI video, a format not accepted"),
    (8, b"WAVE", "a WAV recording, a format not accepted"),
    (0, b"OggS", "an Ogg file, a format not accepted"),
    (0, b"fLaC", "a FLAC recording, a format not accepted"),
    (0, b"FLV\x01", "a Flash video (FLV), a format not accepted"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "a Windows Media file (WMV/WMA), a format not accepted"),
    (0, b"\x00\x00\x01\xba", "an MPEG program stream, a format not accepted"),
    (0, b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (0, b"%PDF", "a PDF document"),
)


def _not_media_reason(head: bytes) -> str:
    for offset, signature, what in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return f"The file is {what}. {ACCEPTED}"
    if len(head) > 188 * 2 and all(head[i] == 0x47 for i in range(0, len(head) - 188, 188)):
        return f"The file is an MPEG transport stream, a format not accepted. {ACCEPTED}"
    if head[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return f"The file is a bare AAC stream (ADTS), which has no container. {ACCEPTED}"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the block is still text.
            text = exc.start >= len(head) - 3
        else:
            text = True
        if text:
            return f"The file is text, not audio or video. {ACCEPTED}"
    return f"The file is not audio or video in a format we recognise. {ACCEPTED}"


# MPEG audio layer III bit rates (kb/s) by index, for MPEG-1 and for MPEG-2/2.5.
_MP3_BIT_RATES: Final = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def _mp3_frame_length(header: bytes) -> int | None:
    """The byte length of the MPEG audio layer III frame starting with ``header``; None if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0b11  # 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    layer = (header[1] >> 1) & 0b11  # 1: layer III
    bit_rate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 0b11, (header[2] >> 1) & 1
    if version == 1 or layer != 1 or bit_rate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    sample_rate = (44_100, 48_000, 32_000)[rate_index] >> {3: 0, 2: 1, 0: 2}[version]
    bit_rate = _MP3_BIT_RATES[mpeg1][bit_rate_index] * 1000
    return (144 if mpeg1 else 72) * bit_rate // sample_rate + padding


def _looks_like_mp3(head: bytes) -> bool:
    """Three MP3 frames in a row at the start (one could be chance in random bytes; three are not)."""
    offset = 0
    for _ in range(3):
        length = _mp3_frame_length(head[offset : offset + 4])
        if length is None:
            return False
        offset += length
        if offset + 4 > len(head):
            return True  # the frames fill the bytes we read
    return True


def _ffmpeg_message(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, av.error.FFmpegError) else None) or str(exc)
