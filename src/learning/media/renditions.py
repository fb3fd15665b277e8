"""The audio-only AAC ``.m4a`` rendition of a replay, for podcast feeds, written with PyAV (FFmpeg).
Blocking (callers run it in a worker thread); the source is read in packets, never whole."""

from __future__ import annotations

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
    codec_name,
    container_duration,
    open_input,
    replay_demuxer,
)

_AAC_BIT_RATES: Final = {1: 96_000, 2: 128_000}
_AAC_FALLBACK_RATE: Final = 48_000
_AAC_FRAME_SIZE: Final = 1024


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


def make_audio_rendition(source: Path, target: Path) -> RenditionInfo:
    """Write the source's first audio track as an AAC ``.m4a`` (MP4 audio, moov first) for podcast feeds.

    AAC is copied packet for packet (no quality loss, seconds for an hour); anything else (MP3, Opus,
    Vorbis...) is decoded and encoded to AAC, mono or stereo as the source (more channels are downmixed).
    On failure no partial ``target`` is left behind.
    """
    demuxer, _ = replay_demuxer(source)
    try:
        with open_input(source, demuxer) as container:
            if not container.streams.audio:
                raise UnsupportedMedia(
                    "Le fichier n’a pas de piste son pour en faire un épisode de podcast : envoyez-le avec le son."
                )
            audio = container.streams.audio[0]
            remux = codec_name(audio) == "aac"  # copied as is: no decoder needed
            with av.open(str(target), "w", format="ipod", container_options={"movflags": "+faststart"}) as output:
                if remux:
                    _remux_audio(container, audio, output)
                else:
                    _transcode_audio(container, audio, output)
    except (av.error.FFmpegError, ValueError) as exc:  # ValueError: the resampler meets a format change
        target.unlink(missing_ok=True)
        raise MediaProcessingFailed(
            "La version audio n’a pas pu être préparée : relancez le traitement, et si l’échec se répète, "
            "exportez le fichier à nouveau."
        ) from exc
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
    with open_input(target, "mov") as container:
        audio = container.streams.audio[0]
        duration = container_duration(container) or 0.0
        bit_rate = audio.bit_rate or container.bit_rate
        return RenditionInfo(
            duration_seconds=duration,
            codec=codec_name(audio) or "unknown",
            bit_rate=bit_rate,
            sample_rate=audio.codec_context.sample_rate,
            channels=audio.codec_context.layout.nb_channels,
            size_bytes=target.stat().st_size,
            remuxed=remuxed,
        )
