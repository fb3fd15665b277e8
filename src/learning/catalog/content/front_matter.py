"""The keys each content file may hold, as msgspec models: ``module.yaml``, a lesson's front matter,
``series.yaml``, a session's front matter and a feed file.

A constraint is written once, on the type; ``validation`` turns a value that breaks it into the message
users read (``'title' is longer than 300 characters``), so a bound changed here changes the message too.
Text is stripped by the loader after validation: the length bounds count the text as written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

# A text must hold something other than white space.
Title = Annotated[str, Meta(pattern=r"\S", max_length=300)]
Summary = Annotated[str, Meta(pattern=r"\S", max_length=2000)]
LongText = Annotated[str, Meta(pattern=r"\S", max_length=10_000)]
Moment = Annotated[datetime, Meta(tz=True)]
MediaRef = Annotated[str, Meta(extra={"error": "'{key}' must be a media file name"})]
Tags = Annotated[
    list[Annotated[str, Meta(pattern=SLUG_PATTERN)]],
    Meta(extra={"error": "'tags' must be a list of lowercase slugs (letters, digits, hyphens)"}),
]
PublicationState = Literal["draft", "scheduled", "published"]


class _Published(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The keys every module, lesson and series file shares."""

    tags: Tags = []
    status: PublicationState = "published"
    publish_at: Moment | None = None  # required when status is 'scheduled'


class ModuleFile(_Published, kw_only=True, forbid_unknown_fields=True):
    title: Title
    position: Annotated[int, Meta(ge=1)]
    summary: Summary = ""
    description: LongText = ""
    notice: Summary = ""  # what this content is, shown above it (the shipped course: a reconstitution)
    objectives: Annotated[
        list[Annotated[str, Meta(pattern=r"\S", max_length=300)]],
        Meta(max_length=8, extra={"error": "'objectives' must be a list of at most 8 sentences"}),
    ] = []
    audience: Summary = ""
    prerequisites: Summary = ""
    # The date its lessons are published under in feeds (the first lesson at this instant, each next one a
    # minute later); without it, ``publish_at``.
    published: Moment | None = None
    quiz_required: bool = False  # completing the module asks for its quiz (quiz.yaml) passed


class LessonFrontMatter(_Published, kw_only=True, forbid_unknown_fields=True):
    title: Title
    kind: Literal["text", "video", "audio"]
    summary: Summary = ""
    # A text lesson's reading time. A media lesson lasts what its media lasts (measured at sync); a duration
    # declared on one must agree with its media.
    duration: Annotated[int, Meta(ge=0)] | None = None
    completion: Literal["mark_done", "coverage"] | None = None  # 'mark_done' for a text lesson, else 'coverage'
    completion_threshold: Annotated[float, Meta(gt=0, le=1)] = 0.9
    media: MediaRef | None = None  # required for a video or audio lesson, refused for a text lesson
    transcript: MediaRef | None = None  # the media's WebVTT transcript (captions), refused for a text lesson
    chapters: MediaRef | None = None  # the media's Podcasting 2.0 chapters, refused for a text lesson
    published: Moment | None = None  # the episode's date, when not the one its module gives it


class SeriesFile(_Published, kw_only=True, forbid_unknown_fields=True):
    title: Title
    summary: Summary = ""
    description: LongText = ""
    organiser: Annotated[str, Meta(pattern=r"\S", max_length=200)] = ""
    notice: Summary = ""  # what this content is, shown above it (the shipped series: a reconstituted programme)
    timezone: Annotated[str, Meta(pattern=r"\S", max_length=64)] = "Europe/Paris"
    year: Annotated[int, Meta(ge=1900)] | None = None


class Speaker(msgspec.Struct, kw_only=True):
    name: str
    organisation: str = ""
    role: Literal["host", "guest"] = "guest"


class SessionFrontMatter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title
    scheduled_at: Moment
    status: Literal["upcoming", "live", "replay_available", "cancelled"]
    duration_minutes: Annotated[int, Meta(ge=1)] = 60
    speakers: Annotated[
        list[Speaker],
        Meta(
            extra={
                "error": "'speakers' must be a list",
                "item_error": "each speaker needs a 'name', an 'organisation' and a role host|guest",
            }
        ),
    ] = []
    replay: MediaRef | None = None  # required when status is 'replay_available'
    transcript: MediaRef | None = None
    chapters: MediaRef | None = None
    summary: Summary = ""
    tags: Tags = []
    publication: PublicationState = "published"
    publish_at: Moment | None = None  # required when publication is 'scheduled'


class UpdateFrequency(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``podcast:updateFrequency``: an RFC 5545 recurrence rule and its wording for people."""

    rrule: Annotated[str, Meta(pattern=r"^FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,+-]+)*$", max_length=200)]
    text: Annotated[str, Meta(pattern=r"\S", max_length=120)]


class FeedFile(msgspec.Struct, kw_only=True):
    """The keys of a feed file that are checked; the channel's other keys (owner, category, …) are kept as written."""

    kind: Literal["webinar_series", "module"]
    source: LongText
    title: Annotated[str, Meta(pattern=r"\S", max_length=255)]
    description: Annotated[str, Meta(pattern=r"\S", max_length=4000)]
    language: Literal["fr"] = "fr"
    type: Literal["serial", "episodic"] = "episodic"
    artwork: MediaRef | None = None
    # A series feed: the enclosure of its podcast:liveItem entries while a session has no replay (an audio or
    # video file of media/), and podcast:updateFrequency.
    live_enclosure: MediaRef | None = None
    update_frequency: UpdateFrequency | None = None
