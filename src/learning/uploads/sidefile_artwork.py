"""Artwork checks: a JPEG or PNG whatever the client claims, judged from its signature, its header and a
PyAV decode, at the size Apple asks of podcast artwork."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import av
import av.error

from learning.lib.errors import Unprocessable
from learning.media import formats, sniffing
from learning.uploads.sidefile_formats import CheckedFile

# Apple Podcasts: square, 1400 to 3000 pixels a side, JPEG or PNG, RGB.
ARTWORK_MIN_SIDE: Final = 1400
ARTWORK_MAX_SIDE: Final = 3000
ARTWORK_RULE: Final = (
    f"Artwork must be a square JPEG or PNG picture of {ARTWORK_MIN_SIDE} to {ARTWORK_MAX_SIDE} pixels a side "
    "(Apple Podcasts' rule)."
)


class InvalidArtwork(Unprocessable):
    title = "Invalid artwork"


# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic…); not DHT (C4), JPG (C8), DAC (CC).
_JPEG_FRAME_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# FFmpeg reads our JPEG or PNG with the demuxer the signature names (it never guesses), touches no other file,
# refuses to allocate more than the largest accepted picture, and treats any damage as an error.
_DECODE_OPTIONS: Final = {"protocol_whitelist": "file", "max_pixels": str(ARTWORK_MAX_SIDE * ARTWORK_MAX_SIDE)}
_CODEC_OPTIONS: Final = {"max_pixels": str(ARTWORK_MAX_SIDE * ARTWORK_MAX_SIDE), "err_detect": "explode"}


@dataclass(frozen=True, slots=True)
class _PictureHeader:
    sniffed: sniffing.Sniffed  # sniffing.PNG or sniffing.JPEG
    width: int
    height: int
    cmyk: bool


def check_artwork(path: Path) -> CheckedFile:
    """A JPEG or PNG whatever the claim, square, 1400–3000 pixels a side, not CMYK, and decodable. Blocking.

    The size is read from the file's header first, so a huge picture is refused before anything decodes it;
    then PyAV decodes the picture and its real size must match.
    """
    header = _picture_header(path)
    what = "PNG" if header.sniffed is sniffing.PNG else "JPEG"
    if header.cmyk:
        raise InvalidArtwork(f"The JPEG is in CMYK colours; artwork must be RGB. {ARTWORK_RULE}")
    _check_artwork_size(header.width, header.height)
    try:
        with av.open(str(path), "r", format=header.sniffed.demuxer, options=_DECODE_OPTIONS) as container:
            if not container.streams.video:
                raise InvalidArtwork(f"The file starts like a {what} picture but holds none.")
            stream = container.streams.video[0]
            stream.codec_context.options = dict(_CODEC_OPTIONS)
            frame = next(container.decode(stream), None)
    except av.error.FFmpegError:
        raise InvalidArtwork(
            f"The file starts like a {what} picture but cannot be decoded: it is damaged or truncated."
        ) from None
    if frame is None:
        raise InvalidArtwork(f"The file starts like a {what} picture but holds none.")
    if (frame.width, frame.height) != (header.width, header.height):
        raise InvalidArtwork(f"The {what} header does not match its picture: the file is damaged.")
    _check_artwork_size(frame.width, frame.height)
    stored = formats.PNG if header.sniffed is sniffing.PNG else formats.JPEG
    return CheckedFile(mime_type=stored.mime_type, extension=stored.extension, width=frame.width, height=frame.height)


def _check_artwork_size(width: int, height: int) -> None:
    if width != height:
        raise InvalidArtwork(f"The picture is {width}×{height} pixels, not square. {ARTWORK_RULE}")
    if not ARTWORK_MIN_SIDE <= width <= ARTWORK_MAX_SIDE:
        relation = "smaller" if width < ARTWORK_MIN_SIDE else "larger"
        raise InvalidArtwork(f"The picture is {width}×{height} pixels, {relation} than allowed. {ARTWORK_RULE}")


def _picture_header(path: Path) -> _PictureHeader:
    with path.open("rb") as handle:
        head = handle.read(sniffing.HEAD_BYTES)
        found = sniffing.sniff(head)
        if found is sniffing.PNG:
            return _png_header(head)
        if found is sniffing.JPEG:
            return _jpeg_header(handle)
    raise InvalidArtwork(f"The file is {found.what}, not a JPEG or PNG picture. {ARTWORK_RULE}")


def _png_header(head: bytes) -> _PictureHeader:
    # The first chunk must be IHDR: length 13, then width, height, bit depth, colour type…
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise InvalidArtwork("The file starts like a PNG picture but its header is missing: it is damaged.")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return _PictureHeader(sniffed=sniffing.PNG, width=width, height=height, cmyk=False)


def _jpeg_header(handle: BinaryIO) -> _PictureHeader:
    """Walk the JPEG's segments (skipping metadata: EXIF, ICC profiles…) to its frame header."""
    handle.seek(2)
    while True:
        marker = handle.read(2)
        while marker[:1] == b"\xff" and marker[1:] == b"\xff":  # fill bytes before a marker
            marker = b"\xff" + handle.read(1)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in {0xD9, 0xDA}:
            break  # the end of the file, or of the image, or its data, before any frame header
        if marker[1] in _JPEG_STANDALONE_MARKERS:
            continue
        length_bytes = handle.read(2)
        length = int.from_bytes(length_bytes, "big")
        if len(length_bytes) < 2 or length < 2:
            break
        if marker[1] in _JPEG_FRAME_MARKERS:
            frame = handle.read(length - 2)  # precision, height, width, number of components…
            if len(frame) < 6:
                break
            height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
            return _PictureHeader(sniffed=sniffing.JPEG, width=width, height=height, cmyk=frame[5] == 4)
        handle.seek(length - 2, 1)
    raise InvalidArtwork("The file starts like a JPEG picture but has no frame header: it is damaged or truncated.")
