"""Transcript checks: WebVTT or SubRip in UTF-8, parsed cue by cue."""

from __future__ import annotations

import re
from typing import Final

from learning.lib.errors import Unprocessable
from learning.media.formats import PLAIN_TEXT, SRT, VTT
from learning.uploads.sidefile_formats import CheckedFile


class InvalidTranscript(Unprocessable):
    title = "Invalid transcript"


# Cue timings: hours optional in WebVTT (minutes and seconds two digits each, milliseconds three). ASCII digits
# only (``\d`` takes any script's), and at most six for the hours, far past any replay: a hundreds-digit hour
# overflowed int() or float() into a 500.
_VTT_TIME: Final = r"(?:([0-9]{2,6}):)?([0-5][0-9]):([0-5][0-9])\.([0-9]{3})"
_VTT_TIMING: Final = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?")
_VTT_HEADER: Final = re.compile(r"WEBVTT(?:[ \t].*)?")
_SRT_TIME: Final = r"([0-9]{1,6}):([0-5][0-9]):([0-5][0-9]),([0-9]{3})"
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
    if declared == VTT.mime_type or (declared == PLAIN_TEXT and _VTT_HEADER.fullmatch(lines[0])):
        cues = _vtt_cues(lines)
        checked = VTT
    else:
        cues = _srt_cues(lines)
        checked = SRT
    if not cues:
        raise InvalidTranscript("The transcript has no cues (a cue is a timing line and its text).")
    return CheckedFile(mime_type=checked.mime_type, extension=checked.extension)


def _vtt_cues(lines: list[str]) -> int:
    if not _VTT_HEADER.fullmatch(lines[0]):
        looks_like_srt = any(_SRT_TIMING.fullmatch(line.strip()) for line in lines[:5])
        hint = f" (this looks like SubRip: send it as {SRT.mime_type})" if looks_like_srt else ""
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
        raise InvalidTranscript(f"This is a WebVTT file, not SubRip: send it as {VTT.mime_type}.")
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
