"""What a file is, from its first bytes: the one signature table, used for replays and side files alike.

A file is never judged from its name or the client's claim. For the formats FFmpeg reads for us the answer
names the demuxer to use, so FFmpeg never guesses: a text file is never read as a playlist, a concat script
or an ANSI-art "video", and nothing in an upload can make FFmpeg open another file or URL. For the others it
says what the file is, in words meant for the uploader. No PyAV here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

HEAD_BYTES: Final = 8192  # what is read: enough for three MP3 frames or an MPEG-TS packet train


class Family(StrEnum):
    EMPTY = "empty"
    RECORDING = "recording"  # a container a replay may come in: ISO BMFF or QuickTime, Matroska/WebM, MP3
    PICTURE = "picture"
    MEDIA = "media"  # audio or video in a container we do not accept
    DOCUMENT = "document"
    TEXT = "text"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Sniffed:
    name: str  # "iso-bmff", "matroska", "mp3", "png", "jpeg", "gif", "avi", "pdf", "text"...
    family: Family
    what: str  # how a message names the file: "The file is {what}"
    demuxer: str | None = None  # the FFmpeg demuxer for our formats: "mov", "matroska", "mp3", "png_pipe"...
    brand: str | None = None  # an ISO BMFF file's major brand ("isom", "qt  ", "M4A "...)
    fr: str = ""  # how the French messages name it (replays' refusals): « Le fichier est {fr} »


EMPTY: Final = Sniffed("empty", Family.EMPTY, "empty", fr="vide")
QUICKTIME: Final = Sniffed(
    "quicktime", Family.RECORDING, "an MP4 or QuickTime file", "mov", fr="un fichier MP4 ou QuickTime"
)
MATROSKA: Final = Sniffed(
    "matroska", Family.RECORDING, "a WebM or Matroska file", "matroska", fr="un fichier WebM ou Matroska"
)
MP3: Final = Sniffed("mp3", Family.RECORDING, "an MP3 recording", "mp3", fr="un enregistrement MP3")
HEIF: Final = Sniffed("heif", Family.PICTURE, "a HEIF/AVIF picture", fr="une image HEIF/AVIF")
PNG: Final = Sniffed("png", Family.PICTURE, "a PNG picture", "png_pipe", fr="une image PNG")
JPEG: Final = Sniffed("jpeg", Family.PICTURE, "a JPEG picture", "jpeg_pipe", fr="une image JPEG")
MPEG_TS: Final = Sniffed("mpeg-ts", Family.MEDIA, "an MPEG transport stream", fr="un flux de transport MPEG (TS)")
ADTS: Final = Sniffed(
    "adts", Family.MEDIA, "a bare AAC stream (ADTS) with no container", fr="un flux AAC brut (ADTS) sans conteneur"
)
TEXT: Final = Sniffed("text", Family.TEXT, "text", fr="du texte")
UNKNOWN: Final = Sniffed("unknown", Family.UNKNOWN, "in a format we do not recognise", fr="dans un format inconnu")

_SIGNATURES: Final[tuple[tuple[int, bytes, Sniffed], ...]] = (
    (0, b"\x89PNG\r\n\x1a\n", PNG),
    (0, b"\xff\xd8\xff", JPEG),
    (0, b"GIF8", Sniffed("gif", Family.PICTURE, "a GIF picture", fr="une image GIF")),
    (8, b"WEBP", Sniffed("webp", Family.PICTURE, "a WebP picture", fr="une image WebP")),
    (0, b"<svg", Sniffed("svg", Family.PICTURE, "an SVG drawing", fr="un dessin SVG")),
    (8, b"AVI ", Sniffed("avi", Family.MEDIA, "an AVI video", fr="une vidéo AVI")),
    (8, b"WAVE", Sniffed("wav", Family.MEDIA, "a WAV recording", fr="un enregistrement WAV")),
    (0, b"OggS", Sniffed("ogg", Family.MEDIA, "an Ogg file", fr="un fichier Ogg")),
    (0, b"fLaC", Sniffed("flac", Family.MEDIA, "a FLAC recording", fr="un enregistrement FLAC")),
    (0, b"FLV\x01", Sniffed("flv", Family.MEDIA, "a Flash video (FLV)", fr="une vidéo Flash (FLV)")),
    (
        0,
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",
        Sniffed("asf", Family.MEDIA, "a Windows Media file (WMV/WMA)", fr="un fichier Windows Media (WMV/WMA)"),
    ),
    (
        0,
        b"\x00\x00\x01\xba",
        Sniffed("mpeg-ps", Family.MEDIA, "an MPEG program stream", fr="un flux de programme MPEG (PS)"),
    ),
    (
        0,
        b"PK\x03\x04",
        Sniffed(
            "zip",
            Family.DOCUMENT,
            "a ZIP archive (or an office document)",
            fr="une archive ZIP (ou un document bureautique)",
        ),
    ),
    (0, b"%PDF", Sniffed("pdf", Family.DOCUMENT, "a PDF document", fr="un document PDF")),
    (0, b"<?xml", Sniffed("xml", Family.DOCUMENT, "an XML document", fr="un document XML")),
)
_QUICKTIME_ATOMS: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_STILL_IMAGE_BRANDS: Final = frozenset({"heic", "heix", "heim", "heis", "mif1", "msf1", "avif", "avis", "crx"})
_TS_PACKET: Final = 188


def sniff_file(path: Path) -> Sniffed:
    """What the file at ``path`` is, from its first :data:`HEAD_BYTES` bytes. Blocking."""
    with path.open("rb") as handle:
        return sniff(handle.read(HEAD_BYTES))


def sniff(head: bytes) -> Sniffed:
    """What a file starting with ``head`` is."""
    if not head:
        return EMPTY
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("latin-1")
        if brand.strip().lower() in _STILL_IMAGE_BRANDS:
            return HEIF
        return Sniffed("iso-bmff", Family.RECORDING, QUICKTIME.what, "mov", brand, fr=QUICKTIME.fr)
    if head[4:8] in _QUICKTIME_ATOMS:
        return QUICKTIME
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if head.startswith(b"ID3") or _looks_like_mp3(head):
        return MP3
    for offset, signature, sniffed in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return sniffed
    if len(head) > _TS_PACKET * 2 and all(head[i] == 0x47 for i in range(0, len(head) - _TS_PACKET, _TS_PACKET)):
        return MPEG_TS
    if head[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return ADTS
    return TEXT if _is_text(head) else UNKNOWN


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut at the end of what was read is text
    return True


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
