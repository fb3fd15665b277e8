"""What the content files describe, validated: modules, lessons, webinar series and sessions, feeds, media."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from learning.catalog.content.quizzes import QuizSource


@dataclass(slots=True)
class MediaSource:
    ref: str  # the file name, e.g. "webinar-2019-01.mp4"
    path: Path
    extension: str
    mime_type: str


@dataclass(slots=True)
class Publication:
    state: str
    publish_at: datetime | None


@dataclass(slots=True)
class LessonSource:
    slug: str
    position: int
    title: str
    summary: str
    kind: str
    body_md: str
    media_ref: str | None
    transcript_ref: str | None
    chapters_ref: str | None
    duration_seconds: int | None  # as declared (a text lesson's reading time); None when not declared
    duration_line: int | None  # the line of 'duration', for the error when it contradicts the media
    completion_rule: str
    completion_threshold: float
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path
    published: datetime | None = None  # the front matter's `published`


@dataclass(slots=True)
class ModuleSource:
    slug: str
    title: str
    summary: str
    description_md: str
    position: int
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path
    lessons: list[LessonSource] = field(default_factory=list)
    published: datetime | None = None  # module.yaml's `published`
    notice: str = ""
    objectives: list[str] = field(default_factory=list)
    audience: str = ""
    prerequisites: str = ""
    quiz: QuizSource | None = None
    quiz_required: bool = False


@dataclass(slots=True)
class SessionSource:
    slug: str
    title: str
    summary: str
    body_md: str
    scheduled_at: datetime
    duration_minutes: int
    status: str
    speakers: list[dict[str, str]]
    replay_ref: str | None
    transcript_ref: str | None
    chapters_ref: str | None
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path


@dataclass(slots=True)
class SeriesSource:
    slug: str
    title: str
    summary: str
    description_md: str
    organiser: str
    timezone: str
    year: int | None
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path
    sessions: list[SessionSource] = field(default_factory=list)
    notice: str = ""


@dataclass(slots=True)
class FeedSource:
    slug: str
    kind: str
    source: str
    data: dict[str, Any]
    content_hash: str
    path: Path


@dataclass(slots=True)
class ContentBundle:
    modules: list[ModuleSource]
    series: list[SeriesSource]
    feeds: list[FeedSource]
    media: dict[str, MediaSource]

    def referenced_media(self) -> list[MediaSource]:
        """The media files that some content refers to, each once, in a stable order."""
        refs: set[str] = set()
        for module in self.modules:
            for lesson in module.lessons:
                refs.update(r for r in (lesson.media_ref, lesson.transcript_ref, lesson.chapters_ref) if r)
        for series in self.series:
            for session in series.sessions:
                refs.update(r for r in (session.replay_ref, session.transcript_ref, session.chapters_ref) if r)
        for feed in self.feeds:
            refs.update(feed.data[key] for key in ("artwork", "live_enclosure") if isinstance(feed.data.get(key), str))
        return [self.media[ref] for ref in sorted(refs) if ref in self.media]
