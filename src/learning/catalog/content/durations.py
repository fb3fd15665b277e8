"""How long a lesson lasts: a media lesson what its media lasts, a text lesson its declared reading time.

The media's duration is measured when the file is imported (once per file content: ``media.library`` probes
a file whose sha256 it has not seen) and handed in here by ref. A ``duration`` declared on a media lesson is
checked against it, so a front matter cannot promise a length the player will never reach.
"""

from __future__ import annotations

from collections.abc import Mapping

from learning.catalog.content.documents import SourceError
from learning.catalog.content.sources import ContentBundle, LessonSource

# How far a declared duration may be from the media's own before it is an error (seconds): the front matter
# holds whole seconds.
TOLERANCE = 1.0


def measured_seconds(seconds: float) -> int:
    """A measured duration as the catalog keeps it: whole seconds, as the pages and feeds show them."""
    return round(seconds)


def lesson_duration(lesson: LessonSource, measured: Mapping[str, float | None]) -> int:
    """The duration of ``lesson`` with the shipped media it refers to (before any upload replaces it)."""
    seconds = measured.get(lesson.media_ref) if lesson.media_ref else None
    if seconds is not None:
        return measured_seconds(seconds)
    return lesson.duration_seconds or 0


def contradicted_durations(bundle: ContentBundle, measured: Mapping[str, float | None]) -> list[SourceError]:
    """Every media lesson whose declared ``duration`` is more than :data:`TOLERANCE` from its media's."""
    errors: list[SourceError] = []
    for module in bundle.modules:
        for lesson in module.lessons:
            declared = lesson.duration_seconds
            seconds = measured.get(lesson.media_ref) if lesson.media_ref else None
            if declared is None or seconds is None or abs(declared - seconds) <= TOLERANCE:
                continue
            errors.append(
                SourceError(
                    lesson.path,
                    lesson.duration_line,
                    f"'duration' is {declared} s but {lesson.media_ref} lasts {seconds:.1f} s: remove 'duration' "
                    "(a video or audio lesson lasts what its media lasts; 'duration' is a text lesson's reading time)",
                )
            )
    return errors
