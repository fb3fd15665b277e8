"""Side files of a webinar session or a lesson: its artwork (JPEG/PNG), its transcript (WebVTT/SRT) and its
chapters (Podcasting 2.0 JSON chapters), each sent whole in one request.

The body is spooled to a temporary file and counted as it arrives: past the kind's size limit the upload
stops at once (413). The file is then judged from its bytes, never from the client's claim: a picture is
what its signature and a PyAV decode say (a PNG sent as ``image/jpeg`` is stored as the PNG it is), at the
size Apple asks of podcast artwork; a transcript must parse cue by cue; chapters must follow the
Podcasting 2.0 JSON chapters format and fall within the target's replay. Only then is the file stored
under a generated key, made a media asset and attached; the asset it replaces is retired (its row stays
for its download history, and its URL stops answering).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Final

import anyio
import av
import av.error

from learning.db import models as m
from learning.lib.errors import (
    LearningError,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from learning.media.library import new_storage_key, url_name
from learning.media.repositories import MediaRepository
from learning.storage import ObjectStore, StorageUnavailable
from learning.uploads.repositories import UploadRepository

MiB: Final = 1024 * 1024

# Apple Podcasts: square, 1400 to 3000 pixels a side, JPEG or PNG, RGB.
ARTWORK_MIN_SIDE: Final = 1400
ARTWORK_MAX_SIDE: Final = 3000
ARTWORK_RULE: Final = (
    f"Artwork must be a square JPEG or PNG picture of {ARTWORK_MIN_SIDE} to {ARTWORK_MAX_SIDE} pixels a side "
    "(Apple Podcasts' rule)."
)

_SPOOL_BLOCK: Final = MiB  # bytes gathered before each write to the temporary file (one thread hop)


class SideFileKind(StrEnum):
    ARTWORK = "artwork"
    TRANSCRIPT = "transcript"
    CHAPTERS = "chapters"


@dataclass(frozen=True, slots=True)
class _Rule:
    max_bytes: int
    content_types: tuple[str, ...]
    media_kind: m.MediaKind
    attribute: str  # the target's foreign key to the asset


RULES: Final[dict[SideFileKind, _Rule]] = {
    SideFileKind.ARTWORK: _Rule(10 * MiB, ("image/jpeg", "image/png"), m.MediaKind.IMAGE, "artwork_id"),
    SideFileKind.TRANSCRIPT: _Rule(
        2 * MiB, ("text/vtt", "application/x-subrip", "text/plain"), m.MediaKind.TRANSCRIPT, "transcript_id"
    ),
    SideFileKind.CHAPTERS: _Rule(
        1 * MiB, ("application/json+chapters", "application/json"), m.MediaKind.CHAPTERS, "chapters_id"
    ),
}

_NOUNS: Final = {
    SideFileKind.ARTWORK: "Artwork",
    SideFileKind.TRANSCRIPT: "A transcript",
    SideFileKind.CHAPTERS: "A chapters file",
}

VTT: Final = "text/vtt"
SRT: Final = "application/x-subrip"
CHAPTERS_TYPE: Final = "application/json+chapters"


@dataclass(frozen=True, slots=True)
class SideFileTarget:
    """The session (``series/session``) or lesson (``module/lesson``) a side file belongs to."""

    kind: m.UploadTarget
    parent_slug: str
    slug: str


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """What the bytes turned out to be."""

    mime_type: str
    extension: str
    width: int | None = None
    height: int | None = None


class SideFileTargetNotFound(NotFound):
    title = "Webinar session or lesson not found"


class SideFileTooLarge(LearningError):
    status_code = 413
    title = "File too large"


class UnsupportedSideFileType(UnsupportedMediaType):
    title = "Unsupported file type"


class InvalidArtwork(Unprocessable):
    title = "Invalid artwork"


class InvalidTranscript(Unprocessable):
    title = "Invalid transcript"


class InvalidChapters(Unprocessable):
    title = "Invalid chapters"


def media_type_of(content_type: str | None) -> str:
    """``Content-Type`` without its parameters, in lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


class SideFileService:
    def __init__(self, targets: UploadRepository, media: MediaRepository, store: ObjectStore) -> None:
        self.targets = targets
        self.media = media
        self.store = store

    async def attach(
        self,
        target: SideFileTarget,
        kind: SideFileKind,
        *,
        content_type: str | None,
        content_length: int | None,
        body: AsyncIterator[bytes],
    ) -> m.MediaAsset:
        """Receive, check, store and attach one side file; the asset it replaces is retired.

        415 for a type the kind does not take, 413 past the kind's size limit (checked on ``Content-Length``
        first, then on the bytes as they come), 404 for an unknown target, 422 for a file that is not what
        it must be, 503 when the store is away. Nothing is stored unless everything passed, and the object
        is removed again if the database change fails.
        """
        rule = RULES[kind]
        declared = media_type_of(content_type)
        if declared not in rule.content_types:
            raise UnsupportedSideFileType(
                f"{_NOUNS[kind]} is sent as {' or '.join(rule.content_types)} (got '{declared or 'nothing'}')."
            )
        if content_length is not None and content_length > rule.max_bytes:
            raise _too_large(kind, rule)
        with tempfile.TemporaryDirectory(prefix="side-file-") as folder:
            path = Path(folder) / "upload"
            size, digest = await _spool(body, path, kind, rule)
            owner = await self._target(target)
            checked = await self._check(kind, path, declared, await self._duration(owner))
            key = new_storage_key(rule.media_kind, checked.extension)
            try:
                await self.store.put_file(key, path, checked.mime_type)
            except StorageUnavailable:
                raise ServiceUnavailable("The file store is unavailable; send the file again shortly.") from None
        try:
            asset = m.MediaAsset(
                id=uuid.uuid4(),
                kind=rule.media_kind,
                rendition=m.Rendition.ORIGINAL,
                status=m.MediaStatus.READY,
                name=url_name(f"{owner.slug}-{kind.value}"),
                extension=checked.extension,
                mime_type=checked.mime_type,
                size_bytes=size,
                sha256=digest,
                width=checked.width,
                height=checked.height,
                storage_key=key,
            )
            await self.media.add(asset)
            await self._replace(owner, rule, asset.id)
        except BaseException:
            # Nothing half-written: the database never pointed at the object, so remove it.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.store.delete(key)
            raise
        return asset

    async def detach(self, target: SideFileTarget, kind: SideFileKind) -> None:
        """Detach the target's file of this kind (if any) and retire its asset."""
        owner = await self._target(target)
        await self._replace(owner, RULES[kind], None)

    async def _target(self, target: SideFileTarget) -> m.WebinarSession | m.Lesson:
        found: m.WebinarSession | m.Lesson | None
        if target.kind is m.UploadTarget.WEBINAR_SESSION:
            found = await self.targets.session_target(target.parent_slug, target.slug)
            what = f"webinar session '{target.slug}' in series '{target.parent_slug}'"
        else:
            found = await self.targets.lesson_target(target.parent_slug, target.slug)
            what = f"lesson '{target.slug}' in module '{target.parent_slug}'"
        if found is None:
            raise SideFileTargetNotFound(f"No {what}.")
        return found

    async def _duration(self, owner: m.WebinarSession | m.Lesson) -> float | None:
        """The length of the target's replay or lesson media, when it has one."""
        media_id = owner.replay_id if isinstance(owner, m.WebinarSession) else owner.media_id
        if media_id is None:
            return None
        media = await self.media.get(media_id)
        if media is None or media.status is not m.MediaStatus.READY:
            return None
        return media.duration_seconds

    async def _replace(self, owner: m.WebinarSession | m.Lesson, rule: _Rule, asset_id: uuid.UUID | None) -> None:
        previous_id: uuid.UUID | None = getattr(owner, rule.attribute)
        setattr(owner, rule.attribute, asset_id)
        if previous_id is not None and previous_id != asset_id:
            previous = await self.media.get(previous_id)
            # The row stays (download history); the object is left in the store, which is always safe.
            if previous is not None and previous.status is m.MediaStatus.READY:
                previous.status = m.MediaStatus.RETIRED
        await self.media.flush()

    @staticmethod
    async def _check(kind: SideFileKind, path: Path, declared: str, duration: float | None) -> CheckedFile:
        if kind is SideFileKind.ARTWORK:
            return await anyio.to_thread.run_sync(check_artwork, path)
        data = await anyio.Path(path).read_bytes()  # at most the kind's limit (2 MiB)
        if kind is SideFileKind.TRANSCRIPT:
            return await anyio.to_thread.run_sync(check_transcript, data, declared)
        return await anyio.to_thread.run_sync(check_chapters, data, duration)


def _too_large(kind: SideFileKind, rule: _Rule) -> SideFileTooLarge:
    return SideFileTooLarge(f"{_NOUNS[kind]} may be at most {rule.max_bytes // MiB} MiB ({rule.max_bytes} bytes).")


async def _spool(body: AsyncIterator[bytes], path: Path, kind: SideFileKind, rule: _Rule) -> tuple[int, str]:
    """Write ``body`` to ``path``; (size, sha256). Stops with 413 as soon as the limit is passed."""
    digest = hashlib.sha256()
    size = 0
    block = bytearray()
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in body:
            size += len(chunk)
            if size > rule.max_bytes:
                raise _too_large(kind, rule)
            digest.update(chunk)
            block += chunk
            if len(block) >= _SPOOL_BLOCK:
                await out.write(bytes(block))
                block.clear()
        if block:
            await out.write(bytes(block))
    if size == 0:
        raise _invalid(kind, "The file is empty.")
    return size, digest.hexdigest()


def _invalid(kind: SideFileKind, detail: str) -> Unprocessable:
    error = {SideFileKind.ARTWORK: InvalidArtwork, SideFileKind.TRANSCRIPT: InvalidTranscript}.get(
        kind, InvalidChapters
    )
    return error(detail)


# --------------------------------------------------------------------------- artwork

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE: Final = b"\xff\xd8\xff"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic…); not DHT (C4), JPG (C8), DAC (CC).
_JPEG_FRAME_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS: Final = frozenset({0x01, *range(0xD0, 0xD8)})
_OTHER_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"GIF8", "a GIF picture"),
    (8, b"WEBP", "a WebP picture"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (0, b"<svg", "an SVG drawing"),
    (0, b"<?xml", "an XML document"),
)
# FFmpeg reads our JPEG or PNG with the demuxer the signature names (it never guesses), touches no other file,
# refuses to allocate more than the largest accepted picture, and treats any damage as an error.
_DECODE_OPTIONS: Final = {"protocol_whitelist": "file", "max_pixels": str(ARTWORK_MAX_SIDE * ARTWORK_MAX_SIDE)}
_CODEC_OPTIONS: Final = {"max_pixels": str(ARTWORK_MAX_SIDE * ARTWORK_MAX_SIDE), "err_detect": "explode"}


@dataclass(frozen=True, slots=True)
class _PictureHeader:
    format: str  # "png" | "jpeg"
    width: int
    height: int
    cmyk: bool


def check_artwork(path: Path) -> CheckedFile:
    """A JPEG or PNG whatever the claim, square, 1400–3000 pixels a side, not CMYK, and decodable. Blocking.

    The size is read from the file's header first, so a huge picture is refused before anything decodes it;
    then PyAV decodes the picture and its real size must match.
    """
    header = _picture_header(path)
    what = "PNG" if header.format == "png" else "JPEG"
    if header.cmyk:
        raise InvalidArtwork(f"The JPEG is in CMYK colours; artwork must be RGB. {ARTWORK_RULE}")
    _check_artwork_size(header.width, header.height)
    try:
        with av.open(str(path), "r", format=f"{header.format}_pipe", options=_DECODE_OPTIONS) as container:
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
    if header.format == "png":
        return CheckedFile(mime_type="image/png", extension="png", width=frame.width, height=frame.height)
    return CheckedFile(mime_type="image/jpeg", extension="jpg", width=frame.width, height=frame.height)


def _check_artwork_size(width: int, height: int) -> None:
    if width != height:
        raise InvalidArtwork(f"The picture is {width}×{height} pixels, not square. {ARTWORK_RULE}")
    if not ARTWORK_MIN_SIDE <= width <= ARTWORK_MAX_SIDE:
        relation = "smaller" if width < ARTWORK_MIN_SIDE else "larger"
        raise InvalidArtwork(f"The picture is {width}×{height} pixels, {relation} than allowed. {ARTWORK_RULE}")


def _picture_header(path: Path) -> _PictureHeader:
    with path.open("rb") as handle:
        head = handle.read(32)
        if head.startswith(_PNG_SIGNATURE):
            return _png_header(head)
        if head.startswith(_JPEG_SIGNATURE):
            return _jpeg_header(handle)
    raise InvalidArtwork(f"The file is {_what_is(head)}, not a JPEG or PNG picture. {ARTWORK_RULE}")


def _png_header(head: bytes) -> _PictureHeader:
    # The first chunk must be IHDR: length 13, then width, height, bit depth, colour type…
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise InvalidArtwork("The file starts like a PNG picture but its header is missing: it is damaged.")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return _PictureHeader(format="png", width=width, height=height, cmyk=False)


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
            return _PictureHeader(format="jpeg", width=width, height=height, cmyk=frame[5] == 4)
        handle.seek(length - 2, 1)
    raise InvalidArtwork("The file starts like a JPEG picture but has no frame header: it is damaged or truncated.")


def _what_is(head: bytes) -> str:
    for offset, signature, what in _OTHER_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return what
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:  # a character cut at the end of what was read
                return "text"
        else:
            return "text"
    return "in a format we do not recognise"


# --------------------------------------------------------------------------- transcripts

# Cue timings: hours optional in WebVTT (minutes and seconds two digits each, milliseconds three).
_VTT_TIME: Final = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING: Final = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?")
_VTT_HEADER: Final = re.compile(r"WEBVTT(?:[ \t].*)?")
_SRT_TIME: Final = r"(\d{1,}):([0-5]\d):([0-5]\d),(\d{3})"
_SRT_TIMING: Final = re.compile(rf"{_SRT_TIME}[ \t]+-->[ \t]+{_SRT_TIME}(?:[ \t].*)?")


def check_transcript(data: bytes, declared: str) -> CheckedFile:
    """A WebVTT (``text/vtt``) or SubRip (``application/x-subrip``) transcript in UTF-8 with at least one
    well-formed cue, each ending at or after it starts. ``text/plain`` is taken as WebVTT when it starts
    with the ``WEBVTT`` header, as SubRip otherwise. Blocking (a few MiB at most)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidTranscript(f"The transcript is not UTF-8 text (byte {exc.start} is not valid UTF-8).") from None
    if "\x00" in text:
        raise InvalidTranscript("The transcript is not text (it contains NUL characters).")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if declared == VTT or (declared == "text/plain" and _VTT_HEADER.fullmatch(lines[0])):
        cues = _vtt_cues(lines)
        mime_type, extension = VTT, "vtt"
    else:
        cues = _srt_cues(lines)
        mime_type, extension = SRT, "srt"
    if not cues:
        raise InvalidTranscript("The transcript has no cues (a cue is a timing line and its text).")
    return CheckedFile(mime_type=mime_type, extension=extension)


def _vtt_cues(lines: list[str]) -> int:
    if not _VTT_HEADER.fullmatch(lines[0]):
        looks_like_srt = any(_SRT_TIMING.fullmatch(line.strip()) for line in lines[:5])
        hint = " (this looks like SubRip: send it as application/x-subrip)" if looks_like_srt else ""
        raise InvalidTranscript(f"A WebVTT file starts with the line 'WEBVTT'{hint}.")
    cues = 0
    previous_start = 0.0
    for number, block in _blocks(lines):
        if number == 1:
            continue  # the header block
        first = block[0]
        if first in {"NOTE", "STYLE", "REGION"} or first.startswith(("NOTE ", "NOTE\t")):
            continue
        timing_at = 0 if "-->" in first else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise InvalidTranscript(f"Line {number}: expected a cue timing 'HH:MM:SS.mmm --> HH:MM:SS.mmm'.")
        line = block[timing_at]
        match = _VTT_TIMING.fullmatch(line)
        if match is None:
            raise InvalidTranscript(
                f"Line {number + timing_at}: '{_shorten(line)}' is not a cue timing "
                "'HH:MM:SS.mmm --> HH:MM:SS.mmm' (hours optional)."
            )
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        _check_cue(number + timing_at, start, end, previous_start)
        previous_start = start
        cues += 1
    return cues


def _srt_cues(lines: list[str]) -> int:
    if _VTT_HEADER.fullmatch(lines[0]):
        raise InvalidTranscript("This is a WebVTT file, not SubRip: send it as text/vtt.")
    cues = 0
    previous_start = 0.0
    for number, block in _blocks(lines):
        if not block[0].strip().isdigit():
            raise InvalidTranscript(f"Line {number}: an SRT cue starts with its number, not '{_shorten(block[0])}'.")
        if len(block) < 2:
            raise InvalidTranscript(f"Line {number}: the cue has no timing 'HH:MM:SS,mmm --> HH:MM:SS,mmm'.")
        match = _SRT_TIMING.fullmatch(block[1].strip())
        if match is None:
            hint = " (SRT writes a comma before the milliseconds)" if _VTT_TIMING.fullmatch(block[1].strip()) else ""
            raise InvalidTranscript(
                f"Line {number + 1}: '{_shorten(block[1])}' is not a cue timing 'HH:MM:SS,mmm --> HH:MM:SS,mmm'{hint}."
            )
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        _check_cue(number + 1, start, end, previous_start)
        previous_start = start
        cues += 1
    return cues


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines with the (1-based) number of their first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for index, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                blocks.append((index, current))
            current.append(line)
        else:
            current = []
    return blocks


def _check_cue(line: int, start: float, end: float, previous_start: float) -> None:
    if end < start:
        raise InvalidTranscript(f"Line {line}: the cue ends before it starts.")
    if start < previous_start:
        raise InvalidTranscript(f"Line {line}: the cue starts before the one above it (cues must be in order).")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _shorten(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- chapters

_CHAPTERS_TEXT_FIELDS: Final = ("author", "title", "podcastName", "description", "fileName")
_CHAPTER_TEXT_FIELDS: Final = ("title", "img", "url")


def check_chapters(data: bytes, duration: float | None) -> CheckedFile:
    """Podcasting 2.0 JSON chapters: an object with a ``version`` and a non-empty ``chapters`` list whose
    ``startTime`` values are numbers ≥ 0, strictly increasing and, when the media's ``duration`` is known,
    within it. Blocking (1 MiB at most)."""
    try:
        document = json.loads(data.decode("utf-8").removeprefix("\ufeff"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InvalidChapters("The chapters file is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise InvalidChapters(f"The chapters file is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    except (ValueError, RecursionError):
        raise InvalidChapters("The chapters file is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidChapters('The chapters file must be a JSON object: {"version": "1.2.0", "chapters": [...]}.')
    if not isinstance(document.get("version"), str):
        raise InvalidChapters('The chapters file needs a "version" string (e.g. "1.2.0").')
    for name in _CHAPTERS_TEXT_FIELDS:
        if name in document and not isinstance(document[name], str):
            raise InvalidChapters(f'"{name}" must be a string.')
    chapters = document.get("chapters")
    if not isinstance(chapters, list) or not chapters:
        raise InvalidChapters('"chapters" must be a non-empty list of chapters.')
    previous: float | None = None
    for index, chapter in enumerate(chapters):
        where = f"Chapter {index + 1}"
        if not isinstance(chapter, dict):
            raise InvalidChapters(f"{where} must be a JSON object.")
        start: Any = chapter.get("startTime")
        if not _is_number(start) or start < 0:
            raise InvalidChapters(f'{where}: "startTime" must be a number of seconds, 0 or more.')
        if previous is not None and start <= previous:
            raise InvalidChapters(f'{where}: "startTime" {start} must be after the previous chapter\'s {previous}.')
        if duration is not None and start >= duration:
            raise InvalidChapters(f'{where}: "startTime" {start} is beyond the end of the media ({duration:g} s).')
        end: Any = chapter.get("endTime")
        if end is not None and (not _is_number(end) or end < start):
            raise InvalidChapters(f'{where}: "endTime" must be a number of seconds, not before "startTime".')
        for name in _CHAPTER_TEXT_FIELDS:
            if name in chapter and not isinstance(chapter[name], str):
                raise InvalidChapters(f'{where}: "{name}" must be a string.')
        if "toc" in chapter and not isinstance(chapter["toc"], bool):
            raise InvalidChapters(f'{where}: "toc" must be true or false.')
        previous = start
    return CheckedFile(mime_type=CHAPTERS_TYPE, extension="json")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
