"""Chapters of a replay: the Podcasting 2.0 JSON file we store, read for the page's chapter list and turned
into WebVTT for the player's ``<track kind="chapters">``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from learning.db import models as m
from learning.media.services import MediaService

MAX_CHAPTERS_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Chapter:
    start: float
    title: str


def parse_chapters(raw: bytes) -> list[Chapter]:
    """The chapters of a JSON chapters file, in order; nothing for a file that is not one."""
    try:
        document = json.loads(raw)
    except ValueError:
        return []
    items = document.get("chapters") if isinstance(document, dict) else None
    chapters = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        start, title = item.get("startTime"), item.get("title")
        if isinstance(start, int | float) and not isinstance(start, bool) and start >= 0 and isinstance(title, str):
            chapters.append(Chapter(float(start), title.strip()[:300]))
    return sorted(chapters, key=lambda chapter: chapter.start)


def timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def cue_text(title: str) -> str:
    # A cue's text ends at a blank line and may not contain "-->"; markup characters are escaped.
    text = " ".join(title.split()).replace("-->", "→")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(chapters: list[Chapter], duration: float | None) -> str:
    """WebVTT cues, each chapter running until the next one (the last until the end of the media)."""
    lines = ["WEBVTT", ""]
    for index, chapter in enumerate(chapters):
        following = chapters[index + 1].start if index + 1 < len(chapters) else None
        end = following if following is not None else max(duration or 0.0, chapter.start + 1.0)
        if end <= chapter.start:
            continue
        lines += [str(index + 1), f"{timestamp(chapter.start)} --> {timestamp(end)}", cue_text(chapter.title), ""]
    return "\n".join(lines)


async def load_chapters(media: MediaService, asset_id: uuid.UUID | None) -> list[Chapter]:
    """The chapters of a (ready) chapters asset; nothing when absent, unreadable or the store is away."""
    if asset_id is None:
        return []
    raw = await media.side_file(asset_id, kind=m.MediaKind.CHAPTERS, max_bytes=MAX_CHAPTERS_BYTES)
    return parse_chapters(raw) if raw is not None else []
