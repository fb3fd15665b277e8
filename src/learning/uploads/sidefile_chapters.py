"""Chapters checks: the Podcasting 2.0 JSON chapters format, within the media's length when it is known."""

from __future__ import annotations

import json
import math
from typing import Any, Final

from learning.lib.errors import Unprocessable
from learning.media.formats import CHAPTERS
from learning.uploads.sidefile_formats import CheckedFile


class InvalidChapters(Unprocessable):
    title = "Invalid chapters"


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
    return CheckedFile(mime_type=CHAPTERS.mime_type, extension=CHAPTERS.extension)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
