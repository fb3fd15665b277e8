"""Transcripts of lessons and replays, read for the page: the cues as text beside the player (the current one
highlighted, a click seeks) and, for a SubRip file, as WebVTT for the player's captions track. Parsed with
webvtt-py (WebVTT and SubRip)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import webvtt
from webvtt.errors import MalformedFileError

from learning.catalog import schemas as s
from learning.db import models as m
from learning.media import formats
from learning.media.services import MediaService
from learning.web.chapters import cue_text, timestamp

MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024  # the largest transcript an admin may attach


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str


def parse_transcript(raw: bytes, mime_type: str) -> list[Cue]:
    """The cues of a WebVTT or SubRip transcript, text without markup (voices, styles) on one line; nothing
    for a file that is not one."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
        source = io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))
        kind = "vtt" if mime_type.startswith(formats.VTT.mime_type) else "srt"
        captions = webvtt.from_buffer(source, format=kind)
    except (UnicodeDecodeError, MalformedFileError, ValueError):
        return []
    cues = []
    for caption in captions.captions:
        said = " ".join(caption.text.split())
        if said:
            start = caption.start_time.in_milliseconds() / 1000
            cues.append(Cue(start, max(start, caption.end_time.in_milliseconds() / 1000), said))
    return cues


def to_webvtt(cues: list[Cue]) -> str:
    """WebVTT of the cues (a SubRip transcript becomes the player's captions)."""
    lines = ["WEBVTT", ""]
    for index, cue in enumerate(cues, start=1):
        lines += [str(index), f"{timestamp(cue.start)} --> {timestamp(cue.end)}", cue_text(cue.text), ""]
    return "\n".join(lines)


async def load_transcript(media: MediaService, transcript: s.MediaRef | None) -> list[Cue]:
    """The cues of a (ready) transcript; nothing when absent, unreadable or the store is away."""
    if transcript is None:
        return []
    raw = await media.side_file(transcript.id, kind=m.MediaKind.TRANSCRIPT, max_bytes=MAX_TRANSCRIPT_BYTES)
    return parse_transcript(raw, transcript.mime_type) if raw is not None else []
