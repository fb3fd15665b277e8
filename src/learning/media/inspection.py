"""What an uploaded replay really is: its container, codecs, duration, bit rate and picture size, read with
PyAV (FFmpeg). Blocking (callers run it in a worker thread); files are read in packets, never whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import av
import av.error
from av.container import InputContainer

from learning.media import formats
from learning.media.containers import (
    SEND_ACCEPTED,
    UnsupportedMedia,
    codec_name,
    container_duration,
    first_video,
    open_input,
    replay_demuxer,
    scan_duration,
)

MediaFormat = Literal["mp4", "m4a", "mov", "mp3", "webm"]

_WEBM_VIDEO_CODECS: Final = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO_CODECS: Final = frozenset({"opus", "vorbis"})
_DECODE_CHECK_PACKETS: Final = 500  # audio packets tried before calling a track undecodable (~10 s of AAC)


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


def inspect(path: Path) -> MediaInfo:
    """Identify a replay from its bytes and read its duration, codecs, bit rate and picture size.

    Raises :class:`UnsupportedMedia` for anything but MP4, M4A, MOV, MP3 or WebM with a decodable audio
    track and a duration; the reason names what the file is when it is recognisable (text, image, AVI...).
    """
    demuxer, sniffed_brand = replay_demuxer(path)
    with open_input(path, demuxer) as container:
        brand = container.metadata.get("major_brand", sniffed_brand)
        audio = container.streams.audio[0] if container.streams.audio else None
        video = first_video(container)
        if audio is None:
            if video is not None:
                raise UnsupportedMedia(
                    "La vidéo n’a pas de piste son : un replay en a besoin pour le podcast, exportez-la avec le son."
                )
            raise UnsupportedMedia(f"Le fichier ne contient ni audio ni vidéo : {SEND_ACCEPTED}.")
        audio_codec = codec_name(audio)
        video_codec = codec_name(video) if video is not None else None
        if audio_codec is None or (video is not None and video_codec is None):
            raise UnsupportedMedia(
                "Le fichier utilise un codec qui ne peut pas être décodé : exportez-le en H.264 et AAC, puis "
                f"{SEND_ACCEPTED}."
            )
        media_format = _media_format(demuxer, brand, video_codec, audio_codec)
        if demuxer == "mov":
            _check_not_truncated(container, path.stat().st_size)
        _check_audio_decodes(container, audio)
        duration = container_duration(container)
        bit_rate = container.bit_rate
        width = video.codec_context.width if video is not None else None
        height = video.codec_context.height if video is not None else None
    if duration is None:
        # A browser recording (MediaRecorder) has no duration in its header: count the packets instead.
        duration = scan_duration(path, demuxer)
    if duration is None or duration <= 0:
        raise UnsupportedMedia(
            "L’enregistrement n’a pas de durée : il est vide ou n’a pas été finalisé, envoyez le fichier terminé."
        )
    return MediaInfo(
        format=media_format,
        mime_type=formats.BY_EXTENSION[media_format].mime_type,
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
        codecs = " et ".join(codec for codec in (video_codec, audio_codec) if codec)
        raise UnsupportedMedia(
            f"Un fichier Matroska (MKV) en {codecs} n’est pas accepté : un replay WebM porte de la vidéo VP8, VP9 "
            f"ou AV1 et du son Opus ou Vorbis, convertissez-le ou {SEND_ACCEPTED}."
        )
    # ISO BMFF. QuickTime writes the brand "qt  " (or, in old files, no ftyp box at all); every other brand
    # (isom, mp42, M4A, M4V, 3gp4...) is MP4, told apart from M4A by whether there are pictures.
    if brand is None or brand.strip() == "qt":
        return "mov"
    return "mp4" if video_codec is not None else "m4a"


def _check_not_truncated(container: InputContainer, size: int) -> None:
    """An MP4's sample tables say where every sample lies: one past the end of the file means a cut upload.

    Only the ``moov`` box is needed to open a "faststart" file, so without this a half-uploaded replay
    would pass for a whole one.
    """
    for stream in container.streams:
        entries = stream.index_entries
        if len(entries) and (last := entries[len(entries) - 1]).pos + last.size > size:
            raise UnsupportedMedia(
                "Le fichier est tronqué (son index va au-delà de sa fin) : envoyez-le à nouveau en entier."
            )


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
    raise UnsupportedMedia(
        "La piste son ne peut pas être décodée (aucun son à son début) : exportez le fichier à nouveau, puis "
        "envoyez-le."
    ) from error
