"""Regenerate the sample media shipped in ``media/``.

Run from the repository root::

    python media/generate.py

Every lesson medium and webinar replay is narrated: a French synthetic voice (Debian's ``espeak-ng``) reads a
short script written from that lesson's or session's own text (``media/scripts/<file>.yaml``), opening with a
spoken and written mention that the voice is synthetic; the videos show a test pattern (colour and white
blocks give the lesson or the month). Each file gets a WebVTT transcript made from the same script with the
synthesis timings (one cue per sentence, as long as its speech), and Podcasting 2.0 chapters when its script
has sections. Small, deterministic for a given PyAV and espeak-ng build, and real: every file is re-opened and
fully decoded before the script reports success.

Files written next to this script:

- ``webinar-2019-01.mp4`` … ``webinar-2019-12.mp4``: the replays of the reconstituted 2019 programme
  (H.264 + AAC), with ``.vtt`` transcripts and ``.chapters.json``;
- ``mooc-video-01.mp4`` … ``mooc-video-04.mp4``: video lessons (H.264 + AAC), with ``.vtt`` transcripts;
- ``mooc-audio-01.m4a`` … ``mooc-audio-04.m4a`` (AAC) and ``mooc-audio-05.mp3`` (MP3): audio lessons, with
  ``.vtt`` transcripts;
- ``artwork-webinaires.jpg`` and ``artwork-mooc.png``: 1400x1400 RGB feed artwork;
- ``seance-a-venir.m4a`` (AAC): the stand-in enclosure of a ``podcast:liveItem`` (a session whose replay
  is not published yet), a short French notice in the synthetic voice saying so;
- ``README.md``: the list of files and their durations.
"""

from __future__ import annotations

import colorsys
import io
import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import yaml
from numpy.typing import NDArray

from learning.lib.typography import french_text

MEDIA_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = MEDIA_DIR / "scripts"

SERIES = "L’innovation territoriale en actions !"
COURSE = "Les alliances qui changent les territoires (reconstitution pédagogique)"
PUBLISHER = "learning — reconstitution pédagogique, d’après le récit publié par Le RAMEAU"
SAMPLE_NOTE = (
    "Média de démonstration généré par media/generate.py : une voix de synthèse (espeak-ng) lit un résumé écrit "
    "pour cette reconstitution pédagogique, sur une mire."
)
MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

# Video: small, but a real H.264/AAC MP4 that every podcast app and browser plays.
WIDTH, HEIGHT, FPS = 320, 180, 20
VIDEO_CRF = 32
AUDIO_BIT_RATE = 64_000
ARTWORK_SIZE = 1400  # Apple Podcasts accepts 1400-3000 px squares
MAX_JPEG_BYTES = 300_000
MAX_PNG_BYTES = 500_000
DURATION_TOLERANCE = 0.1  # seconds

# Narration: espeak-ng's French voice at 150 words a minute, each sentence synthesised on its own so that its
# cue is exactly as long as its speech.
SPEECH_LEVEL = 0.5  # peak amplitude (about -6 dBFS)
LEAD_SECONDS = 0.5  # silence before the first sentence
GAP_SECONDS = 0.7  # silence between sentences
TAIL_SECONDS = 0.8  # silence after the last one
CAPTION_WIDTH = 42  # characters per caption line

FloatArray = NDArray[np.float64]  # pictures (height, width, 3) and sound, 0..255 or -1..1
UInt8Array = NDArray[np.uint8]


class VerificationError(RuntimeError):
    """A generated file does not decode as intended."""


# --------------------------------------------------------------------------- helpers


def check(condition: bool, message: str) -> None:
    if not condition:
        raise VerificationError(message)


def video_codec_name() -> str:
    """H.264 when PyAV's ffmpeg has libx264 (the PyPI wheels do), MPEG-4 part 2 otherwise."""
    return "libx264" if has_encoder("libx264") else "mpeg4"


def mp3_codec_name() -> str:
    for name in ("libmp3lame", "mp3"):
        if has_encoder(name):
            return name
    raise SystemExit("PyAV's ffmpeg has no MP3 encoder")


def has_encoder(name: str) -> bool:
    try:
        av.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True


def audio_frames(samples: FloatArray, sample_rate: int, frame_size: int) -> Iterator[av.AudioFrame]:
    for offset in range(0, len(samples), frame_size):
        chunk = samples[offset : offset + frame_size]
        planar = chunk.astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = offset
        frame.time_base = Fraction(1, sample_rate)
        yield frame


def hsv(hue: float, saturation: float, value: float) -> FloatArray:
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, saturation, value), dtype=np.float64) * 255


def vertical_gradient(height: int, width: int, top: FloatArray, bottom: FloatArray) -> FloatArray:
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float64)[:, None, None]
    column = (1 - ramp) * top + ramp * bottom
    return np.repeat(column, width, axis=1).astype(np.float64)


def rgb_to_yuv420p(rgb: UInt8Array, full_range: bool) -> UInt8Array:
    """BT.601 RGB -> planar YUV 4:2:0 in numpy (bit-exact on every CPU, unlike swscale's SIMD paths)."""
    pixels = rgb.astype(np.float64) / 255
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = (b - y) / 1.772
    cr = (r - y) / 1.402
    if full_range:
        luma, chroma_scale = y * 255, 255.0
    else:
        luma, chroma_scale = 16 + y * 219, 224.0
    height, width = y.shape

    def subsample(plane: FloatArray) -> FloatArray:
        quads = plane.reshape(height // 2, 2, width // 2, 2)
        return np.asarray(quads.mean(axis=(1, 3)) * chroma_scale + 128, dtype=np.float64)

    planes = [luma.ravel(), subsample(cb).ravel(), subsample(cr).ravel()]
    stacked = np.rint(np.clip(np.concatenate(planes), 0, 255)).astype(np.uint8)
    return stacked.reshape(height * 3 // 2, width)


def draw_test_pattern(spec: VideoSpec, background: FloatArray, index: int, total: int) -> UInt8Array:
    """One frame: the file's colour, a sweeping bar, N blocks for the number, a frame counter band."""
    frame = background.copy()
    t = index / FPS
    accent = hsv(spec.hue + 0.5, 0.55, 0.95)

    # A bar sweeping back and forth every 6 s (triangle wave), with soft edges.
    position = 1 - abs((t / 3.0) % 2 - 1)
    axis_length = HEIGHT - 70 if spec.vertical_sweep else WIDTH
    bar = 40
    centre = bar / 2 + position * (axis_length - bar)
    coords = np.arange(axis_length, dtype=np.float64)
    coverage = np.clip(bar / 2 - np.abs(coords - centre) + 0.5, 0, 1)[:, None]
    if spec.vertical_sweep:
        region = frame[36 : 36 + axis_length]
        region += coverage[:, :, None] * (accent - region)
    else:
        region = frame[36 : HEIGHT - 30]
        region += coverage.T[:, :, None] * (accent - region)

    # The month (or lesson) number as that many white blocks.
    for block in range(spec.blocks):
        x = 12 + block * 18
        frame[10:22, x : x + 12] = 240

    # Frame counter band: elapsed-time bar and the frame number in binary (lit = 1).
    frame[HEIGHT - 26 :] = 20
    for bit in range(max(1, total.bit_length())):
        x = WIDTH - 14 - bit * 12
        lit = (index >> bit) & 1
        frame[HEIGHT - 22 : HEIGHT - 14, x : x + 8] = accent if lit else 60
    filled = round((index + 1) / total * (WIDTH - 24))
    frame[HEIGHT - 9 : HEIGHT - 5, 12 : 12 + filled] = 230
    return np.rint(frame).astype(np.uint8)


def coverage_disc(xx: FloatArray, yy: FloatArray, cx: float, cy: float, radius: float) -> FloatArray:
    """Antialiased coverage (0..1) of a filled circle."""
    return np.clip(radius - np.hypot(xx - cx, yy - cy) + 0.5, 0, 1)


def coverage_ring(xx: FloatArray, yy: FloatArray, cx: float, cy: float, radius: float, width: float) -> FloatArray:
    """Antialiased coverage (0..1) of a circle outline of the given stroke width."""
    return np.clip(width / 2 - np.abs(np.hypot(xx - cx, yy - cy) - radius) + 0.5, 0, 1)


def paint(image: FloatArray, coverage: FloatArray, colour: FloatArray, opacity: float = 1.0) -> None:
    alpha = (coverage * opacity)[:, :, None]
    image += alpha * (colour - image)


def artwork_webinaires() -> UInt8Array:
    """Night blue: twelve monthly dots around three overlapping circles (associations, entreprises,
    collectivités)."""
    size = ARTWORK_SIZE
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    image = vertical_gradient(size, size, hsv(0.62, 0.75, 0.22), hsv(0.54, 0.80, 0.45))
    centre = size / 2
    paint(image, coverage_ring(xx, yy, centre, centre, 520, 6), hsv(0.55, 0.25, 0.85), 0.5)
    for month in range(12):
        angle = 2 * math.pi * month / 12 - math.pi / 2
        x, y = centre + 520 * math.cos(angle), centre + 520 * math.sin(angle)
        paint(image, coverage_disc(xx, yy, x, y, 46), hsv(0.08 + month / 60, 0.85, 0.98))
    for k, hue in enumerate((0.02, 0.12, 0.45)):
        angle = 2 * math.pi * k / 3 - math.pi / 2
        x, y = centre + 140 * math.cos(angle), centre + 20 + 140 * math.sin(angle)
        paint(image, coverage_disc(xx, yy, x, y, 230), hsv(hue, 0.75, 0.95), 0.55)
    return np.rint(image).astype(np.uint8)


def artwork_mooc() -> UInt8Array:
    """Warm paper: three interlocking rings above four lesson bars."""
    size = ARTWORK_SIZE
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    image = vertical_gradient(size, size, hsv(0.11, 0.12, 0.98), hsv(0.09, 0.25, 0.92))
    palette = (hsv(0.03, 0.70, 0.78), hsv(0.11, 0.80, 0.85), hsv(0.36, 0.60, 0.55))
    for k, colour in enumerate(palette):
        x = size / 2 + (k - 1) * 260
        paint(image, coverage_ring(xx, yy, x, 560, 230, 56), colour)
    for lesson in range(4):
        top = 930 + lesson * 90
        length = 560 + 120 * lesson
        left = (size - length) / 2
        bar = np.clip(np.minimum(xx - left, left + length - xx) + 0.5, 0, 1) * (
            np.clip(np.minimum(yy - top, top + 50 - yy) + 0.5, 0, 1)
        )
        paint(image, bar, palette[lesson % 3], 0.9)
    return np.rint(image).astype(np.uint8)


def container_options() -> dict[str, str]:
    # faststart: moov before mdat, so players can start and seek before the whole file arrives;
    # bitexact: no encoder version strings, so the output only changes when the content does.
    return {"movflags": "+faststart", "fflags": "+bitexact"}


def add_video_stream(container: av.container.OutputContainer, codec: str) -> av.VideoStream:
    stream = container.add_stream(codec, rate=FPS)
    if not isinstance(stream, av.VideoStream):
        raise TypeError(f"{codec} is not a video encoder")
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    context = stream.codec_context
    context.gop_size = 2 * FPS  # a keyframe every 2 s keeps seeking cheap
    context.thread_count = 1  # x264's output depends on its thread count
    if codec == "libx264":
        # mbtree=0: with macroblock-tree rate control on, this x264 build gives different bytes from
        # one run to the next (seen with the PyAV 18.1 wheel); without it the output is reproducible.
        context.options = {
            "crf": str(VIDEO_CRF),
            "preset": "medium",
            "profile": "main",
            "x264-params": "mbtree=0",
        }
    else:
        context.bit_rate = 200_000
        context.options = {"flags": "+bitexact"}
    context.color_range = av.video.reformatter.ColorRange.MPEG
    context.colorspace = av.video.reformatter.Colorspace.ITU601
    return stream


def add_audio_stream(container: av.container.OutputContainer, codec: str, sample_rate: int) -> av.AudioStream:
    stream = container.add_stream(codec, rate=sample_rate)
    if not isinstance(stream, av.AudioStream):
        raise TypeError(f"{codec} is not an audio encoder")
    stream.layout = "mono"
    stream.format = "fltp"
    stream.bit_rate = AUDIO_BIT_RATE
    stream.codec_context.options = {"flags": "+bitexact"}
    return stream


def encode_audio(container: av.container.OutputContainer, stream: av.AudioStream, samples: FloatArray) -> None:
    frame_size = stream.codec_context.frame_size or 1024
    for frame in audio_frames(samples, stream.codec_context.sample_rate, frame_size):
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def encode_still(rgb: UInt8Array, codec: str) -> bytes:
    """Encode one picture with an image codec; the packet is the complete file (JPEG or PNG)."""
    context = av.CodecContext.create(codec, "w")
    if not isinstance(context, av.VideoCodecContext):
        raise TypeError(f"{codec} is not an image encoder")
    context.width, context.height = rgb.shape[1], rgb.shape[0]
    context.time_base = Fraction(1, 1)
    context.options = {"flags": "+bitexact"}  # no "Lavc" comment segment
    if codec == "mjpeg":
        context.pix_fmt = "yuvj420p"  # full-range YCbCr, the JFIF convention
        context.sample_aspect_ratio = Fraction(1, 1)  # makes the encoder write the JFIF APP0 header
        context.qmin = context.qmax = 3  # fixed quantiser: good quality, small flat areas
        frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(rgb, full_range=True), format="yuvj420p")
    else:
        context.pix_fmt = "rgb24"
        context.options = {**context.options, "pred": "mixed"}  # best PNG filter per row
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.pts = 0
    packets = context.encode(frame) + context.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def vtt_timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def verify_media(path: Path, seconds: float, video: bool, audio_codec: str, sample_rate: int) -> float:
    """Decode every frame of the file; check its streams and duration. Returns the container duration.

    ``audio_codec`` is the codec family ("aac", "mp3"): ffmpeg's decoders are named after it ("mp3float").
    """
    with av.open(str(path)) as container:
        check(container.duration is not None, f"{path.name}: no duration")
        duration = float(container.duration or 0) / av.time_base
        audio_streams = container.streams.audio
        video_streams = container.streams.video
        check(len(audio_streams) == 1, f"{path.name}: expected one audio stream")
        check(len(video_streams) == (1 if video else 0), f"{path.name}: unexpected video streams")
        audio_context = audio_streams[0].codec_context
        check(audio_context.name.startswith(audio_codec), f"{path.name}: audio codec {audio_context.name}")
        check(audio_context.sample_rate == sample_rate, f"{path.name}: sample rate {audio_context.sample_rate}")
        check(audio_context.layout.nb_channels == 1, f"{path.name}: not mono")
        if video:
            video_context = video_streams[0].codec_context
            expected_codec = "h264" if video_codec_name() == "libx264" else "mpeg4"
            check(video_context.name == expected_codec, f"{path.name}: video codec {video_context.name}")
            check((video_context.width, video_context.height) == (WIDTH, HEIGHT), f"{path.name}: size")
            check(video_context.pix_fmt == "yuv420p", f"{path.name}: pixel format {video_context.pix_fmt}")

        samples = pictures = 0
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.AudioFrame):
                samples += frame.samples
            else:
                pictures += 1
    decoded = {"container": duration, "audio": samples / sample_rate}
    if video:
        decoded["video"] = pictures / FPS
    for what, value in decoded.items():
        check(
            abs(value - seconds) <= DURATION_TOLERANCE,
            f"{path.name}: {what} duration {value:.3f} s, expected {seconds:.3f} s",
        )
    if path.suffix in {".mp4", ".m4a"}:
        boxes = top_level_boxes(path)
        check(boxes.index("moov") < boxes.index("mdat"), f"{path.name}: moov after mdat (no faststart)")
    return duration


def top_level_boxes(path: Path) -> list[str]:
    """The ISO BMFF top-level box types, in file order."""
    boxes = []
    with path.open("rb") as handle:
        while header := handle.read(8):
            size = int.from_bytes(header[:4], "big")
            boxes.append(header[4:8].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(handle.read(8), "big") - 8
            elif size == 0:
                break
            handle.seek(size - 8, 1)
    return boxes


def verify_image(path: Path, codec: str, max_bytes: int) -> None:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        check(container.streams.video[0].codec_context.name == codec, f"{path.name}: not {codec}")
    check((frame.width, frame.height) == (ARTWORK_SIZE, ARTWORK_SIZE), f"{path.name}: size")
    check(path.stat().st_size <= max_bytes, f"{path.name}: {path.stat().st_size} bytes > {max_bytes}")


def format_seconds(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"


# --------------------------------------------------------------------------- specifications


@dataclass(frozen=True)
class VideoSpec:
    name: str
    blocks: int  # how many blocks are drawn in the top band (month or lesson number)
    hue: float  # 0..1, the colour identity of the file
    vertical_sweep: bool  # lessons sweep a horizontal bar up and down, replays sweep sideways
    title: str
    album: str
    date: str | None = None  # only the webinars have a date; the lessons carry none


@dataclass(frozen=True)
class AudioSpec:
    name: str
    codec: str  # "aac" or an MP3 encoder
    sample_rate: int
    title: str
    album: str
    date: str | None = None


@dataclass(frozen=True)
class Written:
    name: str
    size: int
    seconds: float | None
    description: str


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Script:
    """What a medium says (``media/scripts/<file stem>.yaml``), written from its lesson's or session's text."""

    stem: str
    title: str  # the lesson's or session's title, as spoken in the opening
    source: str  # the content file it is written from
    sections: tuple[Section, ...]

    @property
    def opening(self) -> str:
        what = "de la séance reconstituée" if self.stem.startswith("webinar-") else "de la leçon"
        return f"Voix de synthèse. Ce média lit un résumé {what} : {self.title}."


@dataclass(frozen=True)
class Narration:
    samples: FloatArray
    sample_rate: int
    cues: tuple[tuple[float, float, str], ...]  # (start, end, sentence): when each sentence is spoken
    chapters: tuple[tuple[float, str], ...]  # (start, title) of each section

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def month_phrase(month: int) -> str:
    """« de mars », « d’avril »: French elides « de » before a vowel."""
    name = MONTHS_FR[month - 1]
    return f"d’{name}" if name[0] in "aeiouéèâ" else f"de {name}"


def replay_specs() -> list[VideoSpec]:
    return [
        VideoSpec(
            name=f"webinar-2019-{month:02d}.mp4",
            blocks=month,
            hue=(month - 1) / 12,
            vertical_sweep=False,
            title=f"Webinaire {month_phrase(month)} 2019 (programme reconstitué) — {SERIES}",
            album=SERIES,
            date=f"2019-{month:02d}",
        )
        for month in range(1, 13)
    ]


def lesson_video_specs() -> list[VideoSpec]:
    return [
        VideoSpec(
            name=f"mooc-video-{lesson:02d}.mp4",
            blocks=lesson,
            hue=0.08 + 0.07 * (lesson - 1),  # warm ochres to greens
            vertical_sweep=True,
            title=f"Leçon vidéo {lesson} — {COURSE}",
            album=COURSE,
        )
        for lesson in range(1, 5)
    ]


def lesson_audio_specs() -> list[AudioSpec]:
    specs = []
    for lesson in range(1, 6):
        mp3 = lesson == 5
        specs.append(
            AudioSpec(
                name=f"mooc-audio-{lesson:02d}.{'mp3' if mp3 else 'm4a'}",
                codec=mp3_codec_name() if mp3 else "aac",
                sample_rate=44_100 if mp3 else 48_000,
                title=f"Leçon audio {lesson} — {COURSE}",
                album=COURSE,
            )
        )
    return specs


# --------------------------------------------------------------------------- narration


def load_script(stem: str) -> Script:
    data = yaml.safe_load((SCRIPTS_DIR / f"{stem}.yaml").read_text(encoding="utf-8"))
    sections = tuple(
        Section(str(section["title"]).strip(), tuple(str(line).strip() for line in section["lines"]))
        for section in data["sections"]
    )
    check(bool(sections) and all(section.lines for section in sections), f"{stem}: a section without lines")
    return Script(stem, str(data["title"]).strip(), str(data["source"]).strip(), sections)


def speak(text: str, sample_rate: int) -> FloatArray:
    """``text`` in French from Debian's espeak-ng (``apt-get install espeak-ng``), resampled to ``sample_rate``,
    its leading and trailing silence cut (so that a cue starts and ends with the voice)."""
    command = ["/usr/bin/espeak-ng", "-v", "fr", "-s", "150", "--stdout", text]  # our own text, no shell
    wav = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout  # noqa: S603
    resampler = av.AudioResampler(format="dbl", layout="mono", rate=sample_rate)
    chunks = []
    with av.open(io.BytesIO(wav), "r") as container:
        for frame in container.decode(audio=0):
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    pcm = np.concatenate(chunks).astype(np.float64)
    peak = float(np.max(np.abs(pcm))) or 1.0
    voiced = np.flatnonzero(np.abs(pcm) > 0.02 * peak)
    check(voiced.size > 0, f"espeak-ng said nothing for {text!r}")
    return (SPEECH_LEVEL * pcm[voiced[0] : voiced[-1] + 1] / peak).astype(np.float64)


def narrate(script: Script, sample_rate: int) -> Narration:
    """The script spoken sentence by sentence (the opening first), with silences between, and the timings."""
    pieces: list[FloatArray] = [np.zeros(round(LEAD_SECONDS * sample_rate))]
    cues: list[tuple[float, float, str]] = []
    chapters: list[tuple[float, str]] = []
    cursor = len(pieces[0])
    gap = np.zeros(round(GAP_SECONDS * sample_rate))
    for number, section in enumerate(script.sections):
        lines = ((script.opening,) if number == 0 else ()) + section.lines
        for line in lines:
            if cues:
                pieces.append(gap)
                cursor += len(gap)
            if line is lines[0]:  # a chapter starts with its first sentence (the first one at 0)
                chapters.append((0.0 if number == 0 else round(cursor / sample_rate, 3), section.title))
            voice = speak(line, sample_rate)
            cues.append((round(cursor / sample_rate, 3), round((cursor + len(voice)) / sample_rate, 3), line))
            pieces.append(voice)
            cursor += len(voice)
    pieces.append(np.zeros(round(TAIL_SECONDS * sample_rate)))
    return Narration(np.concatenate(pieces), sample_rate, tuple(cues), tuple(chapters))


def transcript_vtt(script: Script, narration: Narration) -> str:
    blocks = ["WEBVTT", f"NOTE Transcription du média {script.stem} (voix de synthèse), écrit d’après {script.source}"]
    for number, (start, end, text) in enumerate(narration.cues, start=1):
        caption = textwrap.fill(french_text(text), width=CAPTION_WIDTH)  # no-break spaces: never a line on « ? »
        blocks.append(f"{number}\n{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n{caption}")
    return "\n\n".join(blocks) + "\n"


def chapters_json(narration: Narration) -> str:
    document = {
        "version": "1.2.0",
        "chapters": [{"startTime": start, "title": title} for start, title in narration.chapters],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- writing


def set_metadata(container: av.container.OutputContainer, title: str, album: str, date: str | None) -> None:
    container.metadata.update({"title": title, "album": album, "artist": PUBLISHER, "comment": SAMPLE_NOTE})
    if date:
        container.metadata["date"] = date


def write_video(spec: VideoSpec, narration: Narration, path: Path) -> None:
    with av.open(str(path), "w", container_options=container_options()) as container:
        set_metadata(container, spec.title, spec.album, spec.date)
        video = add_video_stream(container, video_codec_name())
        audio = add_audio_stream(container, "aac", narration.sample_rate)
        background = vertical_gradient(HEIGHT, WIDTH, hsv(spec.hue, 0.60, 0.28), hsv(spec.hue + 0.04, 0.70, 0.62))
        total = round(narration.seconds * FPS)
        for index in range(total):
            rgb = draw_test_pattern(spec, background, index, total)
            frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(rgb, full_range=False), format="yuv420p")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        encode_audio(container, audio, narration.samples)


def write_audio(spec: AudioSpec, narration: Narration, path: Path) -> None:
    options = container_options() if path.suffix == ".m4a" else {"fflags": "+bitexact"}
    with av.open(str(path), "w", container_options=options) as container:
        set_metadata(container, spec.title, spec.album, spec.date)
        stream = add_audio_stream(container, spec.codec, spec.sample_rate)
        encode_audio(container, stream, narration.samples)


# The liveItem stand-in: what a podcast app plays for a session that has no replay yet. It says that the voice
# is synthetic and nothing a session page would not say.
LIVE_NOTICE_TEXT = (
    "Voix de synthèse. Cette séance du webinaire n'a pas encore d'enregistrement. "
    "Sa date et son programme sont sur sa page, sur le site. "
    "L'enregistrement sera publié dans ce flux après la séance."
)
LIVE_NOTICE_RATE = 24_000


def write_spoken_notice(path: Path, text: str) -> float:
    samples = speak(text, LIVE_NOTICE_RATE)
    with av.open(str(path), "w", container_options=container_options()) as container:
        set_metadata(container, "Séance à venir", SERIES, None)
        stream = add_audio_stream(container, "aac", LIVE_NOTICE_RATE)
        encode_audio(container, stream, samples)
    return len(samples) / LIVE_NOTICE_RATE


# --------------------------------------------------------------------------- verification


def verify_companions(vtt: Path, chapters: Path | None, narration: Narration) -> None:
    text = vtt.read_text(encoding="utf-8")
    check(text.startswith("WEBVTT\n"), f"{vtt.name}: missing WEBVTT header")
    check(text.count(" --> ") == len(narration.cues), f"{vtt.name}: cues")
    check(all(end <= narration.seconds for _, end, _ in narration.cues), f"{vtt.name}: cue past the end")
    if chapters is not None:
        document = json.loads(chapters.read_text(encoding="utf-8"))
        starts = [chapter["startTime"] for chapter in document["chapters"]]
        check(document["version"] == "1.2.0", f"{chapters.name}: version")
        check(starts == sorted(starts) and starts[0] == 0 and starts[-1] < narration.seconds, f"{chapters.name}: times")


# --------------------------------------------------------------------------- main


def readme(written: Sequence[Written]) -> str:
    paragraph = (
        "Small but real media so the demo plays out of the box, made for an educational reconstitution: the "
        f"replays of the reconstituted 2019 programme of « {SERIES} », the lesson media of the course, the "
        "artwork of the podcast feeds. Every replay and lesson medium is narrated by a French synthetic voice "
        "(espeak-ng) reading a short script written from its lesson's or session's own text (`scripts/`), and "
        "opens by saying so; videos show a test pattern whose colour and number of white blocks give the month "
        "or the lesson. Each has a WebVTT transcript made from the same script with the synthesis timings, and "
        "the replays have chapters. Regenerated, deterministically, by `python media/generate.py` (needs `av`, "
        "`numpy`, `pyyaml` and Debian's `espeak-ng`), which also decodes every file back and checks its streams "
        "and duration. Do not edit these files by hand: change a script and run it again."
    )
    lines = [
        "# Sample media",
        "",
        textwrap.fill(paragraph, width=100),
        "",
        "| file | content | duration |",
        "|---|---|---|",
    ]
    lines += [f"| `{item.name}` | {item.description} | {format_seconds(item.seconds)} |" for item in written]
    return "\n".join(lines) + "\n"


def main() -> int:
    written: list[Written] = []
    video_codec = video_codec_name()
    print(f"PyAV {av.__version__}, video codec {video_codec}, MP3 encoder {mp3_codec_name()}")

    def record(path: Path, seconds: float | None, description: str) -> None:
        item = Written(path.name, path.stat().st_size, seconds, description)
        written.append(item)
        print(f"{item.name:36} {item.size / 1024:8.1f} KiB  {format_seconds(seconds):>8}")

    def companions(script: Script, narration: Narration, medium: Path) -> None:
        vtt = medium.with_suffix(".vtt")
        vtt.write_text(transcript_vtt(script, narration), encoding="utf-8")
        chapters = None
        if len(narration.chapters) > 1:
            chapters = medium.with_suffix(".chapters.json")
            chapters.write_text(chapters_json(narration), encoding="utf-8")
        verify_companions(vtt, chapters, narration)
        record(vtt, None, f"WebVTT transcript (fr) of `{medium.name}`, {len(narration.cues)} cues")
        if chapters is not None:
            record(chapters, None, f"Podcasting 2.0 chapters of `{medium.name}`, {len(narration.chapters)} chapters")

    video_label = "H.264" if video_codec == "libx264" else "MPEG-4"
    for spec in replay_specs() + lesson_video_specs():
        path = MEDIA_DIR / spec.name
        script = load_script(path.stem)
        narration = narrate(script, 48_000)
        write_video(spec, narration, path)
        duration = verify_media(path, narration.seconds, video=True, audio_codec="aac", sample_rate=48_000)
        record(path, duration, f"{video_label} {WIDTH}x{HEIGHT} {FPS} fps + AAC mono 48 kHz, synthetic French voice")
        companions(script, narration, path)

    for audio_spec in lesson_audio_specs():
        path = MEDIA_DIR / audio_spec.name
        script = load_script(path.stem)
        narration = narrate(script, audio_spec.sample_rate)
        write_audio(audio_spec, narration, path)
        family = "aac" if audio_spec.codec == "aac" else "mp3"
        duration = verify_media(
            path, narration.seconds, video=False, audio_codec=family, sample_rate=audio_spec.sample_rate
        )
        rate = f"{audio_spec.sample_rate / 1000:g} kHz {AUDIO_BIT_RATE // 1000} kb/s"
        record(path, duration, f"{family.upper()} mono {rate}, synthetic French voice")
        companions(script, narration, path)

    for name, picture, codec, limit in (
        ("artwork-webinaires.jpg", artwork_webinaires(), "mjpeg", MAX_JPEG_BYTES),
        ("artwork-mooc.png", artwork_mooc(), "png", MAX_PNG_BYTES),
    ):
        path = MEDIA_DIR / name
        path.write_bytes(encode_still(picture, codec))
        verify_image(path, codec, limit)
        record(path, None, f"{ARTWORK_SIZE}x{ARTWORK_SIZE} RGB {'JPEG' if codec == 'mjpeg' else 'PNG'}")

    notice = MEDIA_DIR / "seance-a-venir.m4a"
    seconds = write_spoken_notice(notice, LIVE_NOTICE_TEXT)
    duration = verify_media(notice, seconds, video=False, audio_codec="aac", sample_rate=LIVE_NOTICE_RATE)
    record(notice, duration, "AAC mono 24 kHz, synthetic French voice (espeak-ng): the liveItem stand-in")

    (MEDIA_DIR / "README.md").write_text(readme(written), encoding="utf-8")
    total = sum(item.size for item in written)
    print(f"{len(written)} files, {total / 1024 / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
