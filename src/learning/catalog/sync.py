"""``learning content sync``: the content files become catalog rows, idempotently, in one transaction.

A row changes only when its file changed (same content hash: nothing to do), so a second run reports 0
changes. Content that left the files is unpublished (set to draft), never deleted: learner data that
points at it stays. Rows created through the admin API are never touched; a file whose slug collides
with one is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from learning.catalog.content import (
    ContentBundle,
    ContentError,
    FeedSource,
    LessonSource,
    ModuleSource,
    Publication,
    SeriesSource,
    SessionSource,
)
from learning.catalog.content.durations import contradicted_durations, lesson_duration
from learning.catalog.content.quizzes import QuizSource
from learning.catalog.markdown import render_markdown
from learning.catalog.podcast import feed_url, podcast_guid
from learning.catalog.repositories import CatalogRepository
from learning.db import models as m
from learning.lib import identity
from learning.lib.errors import Conflict
from learning.media.library import MediaLibrary


class SlugTakenByAdmin(Conflict):
    title = "Slug already used"


@dataclass(slots=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    stale_objects: list[str] = field(default_factory=list)
    new_objects: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # in French, for whoever runs the sync

    @property
    def changes(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unpublished) + len(self.media)

    def lines(self) -> list[str]:
        lines = [f"created     {name}" for name in self.created]
        lines += [f"updated     {name}" for name in self.updated]
        lines += [f"unpublished {name}" for name in self.unpublished]
        lines += [f"media       {name}" for name in self.media]
        return lines


# Domains reserved for documentation and tests (RFC 2606, RFC 6761): nobody reads mail sent there.
_RESERVED_DOMAIN = re.compile(r"(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)$", re.IGNORECASE)


def placeholder_address(email: str) -> bool:
    """Whether ``email`` is at a reserved domain (``podcast@example.org``): Apple's ownership check mails the
    owner, so a feed owned by such an address cannot be claimed."""
    return bool(_RESERVED_DOMAIN.search(email.rpartition("@")[2].strip().rstrip(".")))


def owner_warnings(feeds: list[FeedSource], installation_email: str) -> list[str]:
    """What the sync says about the feeds' owners: a reserved address in a feed file or in the setting."""
    warnings = []
    for feed in feeds:
        owner = feed.data.get("owner")
        email = owner.get("email", "") if isinstance(owner, dict) else ""
        if isinstance(email, str) and email and placeholder_address(email):
            warnings.append(
                f"{feed.path.name} : le propriétaire du flux est « {email} », une adresse réservée aux exemples ; "
                "Apple Podcasts ne pourra pas vérifier qui possède ce flux (indiquez une vraie adresse, ou "
                "retirez-la et réglez LEARNING_FEED_OWNER_EMAIL)"
            )
    if installation_email and placeholder_address(installation_email):
        warnings.append(
            f"LEARNING_FEED_OWNER_EMAIL vaut « {installation_email} », une adresse réservée aux exemples ; "
            "Apple Podcasts ne pourra pas vérifier qui possède les flux"
        )
    return warnings


def _fill_feed(feed: m.PodcastFeed, source: FeedSource, media: dict[str, Any]) -> None:
    data = source.data
    owner = data.get("owner") or {}
    category = data.get("category") or {}
    feed.kind = m.FeedKind(source.kind)
    feed.source_slug = source.source
    feed.title = data["title"]
    feed.description = data.get("description", "")
    feed.author = data.get("author", "")
    feed.owner_name = owner.get("name", "") if isinstance(owner, dict) else ""
    feed.owner_email = owner.get("email", "") if isinstance(owner, dict) else ""
    feed.language = data.get("language", "fr")
    feed.category = category.get("text", "Education") if isinstance(category, dict) else str(category)
    feed.subcategory = category.get("subcategory") if isinstance(category, dict) else None
    feed.explicit = bool(data.get("explicit", False))
    feed.artwork_id = media.get(data["artwork"]) if data.get("artwork") else None
    feed.podcast_type = data.get("type", "episodic")
    feed.medium = data.get("medium", "podcast")
    feed.locked = bool(data.get("locked", True))
    feed.complete = bool(data.get("complete", False))
    feed.live_enclosure_id = media.get(data["live_enclosure"]) if data.get("live_enclosure") else None
    frequency = data.get("update_frequency")
    frequency = frequency if isinstance(frequency, dict) else {}
    feed.update_rrule, feed.update_text = frequency.get("rrule"), frequency.get("text")
    feed.copyright = data.get("copyright")
    feed.content_hash = source.content_hash


def _publication(row: Any, publication: Publication) -> None:
    row.publication = m.Publication(publication.state)
    row.publish_at = publication.publish_at


def lesson_date(module: ModuleSource, lesson: LessonSource) -> datetime | None:
    """A lesson's episode date: its own ``published``, else the day its own schedule publishes it, else its
    module's date (``published``, or ``publish_at``) plus one minute per position, so that apps sorting
    episodes by date list them in course order. None when the content dates neither."""
    if lesson.published is not None:
        return lesson.published
    if lesson.publication.state == "scheduled" and lesson.publication.publish_at is not None:
        return lesson.publication.publish_at
    start = module.published or module.publication.publish_at
    return start + timedelta(minutes=lesson.position - 1) if start is not None else None


class ContentSync:
    def __init__(self, catalog: CatalogRepository, library: MediaLibrary, *, base_url: str) -> None:
        self.catalog = catalog
        self.library = library
        self.base_url = base_url
        self._shipped: set[Any] = set()
        self._measured: dict[str, float | None] = {}

    async def apply(self, bundle: ContentBundle, report: SyncReport) -> SyncReport:
        """Bring the catalog in line with ``bundle``; the caller commits (or rolls back for a dry run)."""
        files = [(s.ref, s.path, s.extension, s.mime_type) for s in bundle.referenced_media()]
        assets, imported = await self.library.import_files(files, written=report.new_objects)
        report.media = [f"{ref} (new)" for ref in imported.created] + [f"{ref} (replaced)" for ref in imported.replaced]
        report.stale_objects = imported.stale_keys
        media_ids = {ref: asset.id for ref, asset in assets.items()}
        # The files own a row's media only while it points at a shipped file (or at nothing): a replay,
        # transcript or chapters an admin uploaded is never replaced by a sync.
        self._shipped = set(media_ids.values()) | set(imported.retired_ids)
        self._measure(bundle, assets)
        await self._modules(bundle.modules, media_ids, report)
        await self._series(bundle.series, media_ids, report)
        await self._feeds(bundle.feeds, media_ids, report)
        return report

    async def _feeds(self, sources: list[FeedSource], media: dict[str, Any], report: SyncReport) -> None:
        existing = {feed.slug: feed for feed in await self.catalog.all_feeds()}
        for source in sources:
            feed = existing.pop(source.slug, None)
            if feed is not None and feed.content_hash == source.content_hash:
                continue
            if feed is None:
                # podcast:guid is assigned once, from the URL the feed is first published at.
                url = feed_url(self.base_url, source.kind, source.source)
                feed = m.PodcastFeed(
                    id=identity.feed_id(source.slug),
                    slug=source.slug,
                    podcast_guid=podcast_guid(url),
                    origin=m.Origin.CONTENT,
                )
                report.created.append(f"feed {source.slug}")
                _fill_feed(feed, source, media)
                await self.catalog.add(feed)
            else:
                _fill_feed(feed, source, media)
                report.updated.append(f"feed {source.slug}")
        for feed in existing.values():  # a feed file removed: its feed goes (the episodes stay)
            await self.catalog.delete(feed)
            report.unpublished.append(f"feed {feed.slug}")
        await self.catalog.flush()

    def _owned(self, current: Any) -> bool:
        return current is None or current in self._shipped

    def _measure(self, bundle: ContentBundle, assets: dict[str, m.MediaAsset]) -> None:
        """Keep the media's measured durations (probed when each file's content was first imported) and
        refuse a media lesson whose declared ``duration`` contradicts its media."""
        self._measured = {ref: asset.duration_seconds for ref, asset in assets.items()}
        errors = contradicted_durations(bundle, self._measured)
        if errors:
            raise ContentError(errors)

    def _lesson_duration(self, source: LessonSource, lesson: m.Lesson | None, media_id: Any) -> int:
        """What the lesson lasts: its media's measured duration, or a text lesson's reading time. A lesson
        keeping a recording an admin uploaded keeps the duration measured when that upload was processed."""
        if lesson is not None and media_id is not None and not self._owned(media_id):
            return lesson.duration_seconds
        return lesson_duration(source, self._measured)

    async def _modules(self, sources: list[ModuleSource], media: dict[str, Any], report: SyncReport) -> None:
        existing = {module.slug: module for module in await self.catalog.all_modules()}
        for source in sources:
            module = existing.pop(source.slug, None)
            if module is not None and module.origin is m.Origin.ADMIN:
                raise SlugTakenByAdmin(f"module '{source.slug}' exists and was created through the admin API")
            if module is None:
                module = m.Module(
                    id=identity.module_id(source.slug), slug=source.slug, origin=m.Origin.CONTENT, lessons=[]
                )
                self._fill_module(module, source)
                await self.catalog.add(module)
                report.created.append(f"module {source.slug}")
            elif module.content_hash != source.content_hash:
                self._fill_module(module, source)
                report.updated.append(f"module {source.slug}")
            await self._lessons(module, source.lessons, media, report)
            self._lesson_dates(module, source, report)
            await self._quiz(module, source, report)
        for module in existing.values():
            if module.origin is m.Origin.CONTENT and module.publication is not m.Publication.DRAFT:
                module.publication, module.publish_at = m.Publication.DRAFT, None
                report.unpublished.append(f"module {module.slug}")
        await self.catalog.flush()

    async def _quiz(self, module: m.Module, source: ModuleSource, report: SyncReport) -> None:
        """The module's quiz as its quiz.yaml says (none without one: past attempts stay, the module's own)."""
        quiz = await self.catalog.quiz(module.id)
        found = source.quiz
        if found is None:
            if quiz is not None:
                await self.catalog.delete(quiz)
                report.updated.append(f"quiz {module.slug} (removed)")
            return
        if quiz is None:
            quiz = m.Quiz(module_id=module.id)
            report.created.append(f"quiz {module.slug}")
            self._fill_quiz(quiz, found, source.quiz_required)
            await self.catalog.add(quiz)
        elif (quiz.digest, quiz.title, quiz.pass_mark, quiz.max_attempts, quiz.required) != (
            found.digest,
            found.title,
            found.pass_mark,
            found.attempts,
            source.quiz_required,
        ):
            self._fill_quiz(quiz, found, source.quiz_required)
            report.updated.append(f"quiz {module.slug}")

    @staticmethod
    def _fill_quiz(quiz: m.Quiz, source: QuizSource, required: bool) -> None:
        quiz.title = source.title
        quiz.pass_mark = source.pass_mark
        quiz.max_attempts = source.attempts
        quiz.required = required
        quiz.questions = source.questions
        quiz.digest = source.digest

    @staticmethod
    def _fill_module(module: m.Module, source: ModuleSource) -> None:
        module.title = source.title
        module.summary = source.summary
        module.description_md = source.description_md
        module.position = source.position
        module.tags = source.tags
        module.notice = source.notice
        module.objectives = source.objectives
        module.audience = source.audience
        module.prerequisites = source.prerequisites
        module.content_hash = source.content_hash
        _publication(module, source.publication)

    async def _lessons(
        self, module: m.Module, sources: list[LessonSource], media: dict[str, Any], report: SyncReport
    ) -> None:
        existing = {lesson.slug: lesson for lesson in module.lessons}
        for source in sources:
            lesson = existing.pop(source.slug, None)
            name = f"lesson {module.slug}/{source.slug}"
            media_id = media.get(source.media_ref) if source.media_ref else None
            sides = {
                "transcript_id": media.get(source.transcript_ref) if source.transcript_ref else None,
                "chapters_id": media.get(source.chapters_ref) if source.chapters_ref else None,
            }
            if lesson is None:
                lesson = m.Lesson(
                    id=identity.lesson_id(module.slug, source.slug),
                    module_id=module.id,
                    slug=source.slug,
                    origin=m.Origin.CONTENT,
                )
                self._fill_lesson(lesson, source, media_id, self._lesson_duration(source, None, media_id), sides)
                module.lessons.append(lesson)
                report.created.append(name)
            elif lesson.origin is m.Origin.ADMIN:
                raise SlugTakenByAdmin(f"{name} exists and was created through the admin API")
            else:
                if not self._owned(lesson.media_id):
                    media_id = lesson.media_id  # an uploaded recording stays
                sides = {key: value if self._owned(getattr(lesson, key)) else getattr(lesson, key)
                         for key, value in sides.items()}  # an uploaded transcript or chapters stays  # fmt: skip
                duration = self._lesson_duration(source, lesson, media_id)
                if (lesson.content_hash, lesson.media_id, lesson.duration_seconds) != (
                    source.content_hash, media_id, duration,
                ) or any(getattr(lesson, key) != value for key, value in sides.items()):  # fmt: skip
                    self._fill_lesson(lesson, source, media_id, duration, sides)
                    report.updated.append(name)
        for lesson in existing.values():
            if lesson.origin is m.Origin.CONTENT and lesson.publication is not m.Publication.DRAFT:
                lesson.publication, lesson.publish_at = m.Publication.DRAFT, None
                report.unpublished.append(f"lesson {module.slug}/{lesson.slug}")

    @staticmethod
    def _lesson_dates(module: m.Module, source: ModuleSource, report: SyncReport) -> None:
        """Date the module's content lessons from the files (a module date moved redates lessons whose own
        file did not change)."""
        lessons = {lesson.slug: lesson for lesson in module.lessons if lesson.origin is m.Origin.CONTENT}
        for lesson_source in source.lessons:
            lesson = lessons.get(lesson_source.slug)
            date = lesson_date(source, lesson_source)
            if lesson is None or lesson.published_at == date:
                continue
            lesson.published_at = date
            name = f"lesson {module.slug}/{lesson.slug}"
            if name not in report.created and name not in report.updated:
                report.updated.append(name)

    @staticmethod
    def _fill_lesson(
        lesson: m.Lesson, source: LessonSource, media_id: Any, duration: int, sides: dict[str, Any]
    ) -> None:
        lesson.position = source.position
        lesson.title = source.title
        lesson.summary = source.summary
        lesson.kind = m.LessonKind(source.kind)
        lesson.body_md = source.body_md
        lesson.body_html = render_markdown(source.body_md)
        lesson.media_id = media_id
        lesson.transcript_id, lesson.chapters_id = sides["transcript_id"], sides["chapters_id"]
        lesson.duration_seconds = duration
        lesson.completion_rule = m.CompletionRule(source.completion_rule)
        lesson.completion_threshold = source.completion_threshold
        lesson.tags = source.tags
        lesson.content_hash = source.content_hash
        _publication(lesson, source.publication)

    async def _series(self, sources: list[SeriesSource], media: dict[str, Any], report: SyncReport) -> None:
        existing = {series.slug: series for series in await self.catalog.all_series()}
        for source in sources:
            series = existing.pop(source.slug, None)
            if series is not None and series.origin is m.Origin.ADMIN:
                raise SlugTakenByAdmin(f"webinar series '{source.slug}' was created through the admin API")
            if series is None:
                series = m.WebinarSeries(
                    id=identity.series_id(source.slug), slug=source.slug, origin=m.Origin.CONTENT, sessions=[]
                )
                self._fill_series(series, source)
                await self.catalog.add(series)
                report.created.append(f"series {source.slug}")
            elif series.content_hash != source.content_hash:
                self._fill_series(series, source)
                report.updated.append(f"series {source.slug}")
            self._sessions(series, source.sessions, media, report)
        for series in existing.values():
            if series.origin is m.Origin.CONTENT and series.publication is not m.Publication.DRAFT:
                series.publication, series.publish_at = m.Publication.DRAFT, None
                report.unpublished.append(f"series {series.slug}")
        await self.catalog.flush()

    @staticmethod
    def _fill_series(series: m.WebinarSeries, source: SeriesSource) -> None:
        series.title = source.title
        series.summary = source.summary
        series.description_md = source.description_md
        series.organiser = source.organiser
        series.notice = source.notice
        series.timezone = source.timezone
        series.year = source.year
        series.tags = source.tags
        series.content_hash = source.content_hash
        _publication(series, source.publication)

    def _sessions(
        self, series: m.WebinarSeries, sources: list[SessionSource], media: dict[str, Any], report: SyncReport
    ) -> None:
        existing = {session.slug: session for session in series.sessions}
        for source in sources:
            session = existing.pop(source.slug, None)
            name = f"session {series.slug}/{source.slug}"
            refs = {
                "replay_id": media.get(source.replay_ref) if source.replay_ref else None,
                "transcript_id": media.get(source.transcript_ref) if source.transcript_ref else None,
                "chapters_id": media.get(source.chapters_ref) if source.chapters_ref else None,
            }
            if session is None:
                session = m.WebinarSession(
                    id=identity.session_id(series.slug, source.slug),
                    series_id=series.id,
                    slug=source.slug,
                    origin=m.Origin.CONTENT,
                )
                self._fill_session(session, source, refs)
                series.sessions.append(session)
                report.created.append(name)
            elif session.origin is m.Origin.ADMIN:
                raise SlugTakenByAdmin(f"{name} was created through the admin API")
            else:
                refs = {key: value if self._owned(getattr(session, key)) else getattr(session, key)
                        for key, value in refs.items()}  # fmt: skip
                if session.content_hash != source.content_hash or any(
                    getattr(session, key) != value for key, value in refs.items()
                ):
                    self._fill_session(session, source, refs)
                    report.updated.append(name)
        for session in existing.values():
            if session.origin is m.Origin.CONTENT and session.publication is not m.Publication.DRAFT:
                session.publication, session.publish_at = m.Publication.DRAFT, None
                report.unpublished.append(f"session {series.slug}/{session.slug}")

    @staticmethod
    def _fill_session(session: m.WebinarSession, source: SessionSource, refs: dict[str, Any]) -> None:
        session.title = source.title
        session.summary = source.summary
        session.body_md = source.body_md
        session.body_html = render_markdown(source.body_md)
        session.scheduled_at = source.scheduled_at
        session.duration_minutes = source.duration_minutes
        session.status = m.SessionStatus(source.status)
        session.speakers = source.speakers
        session.tags = source.tags
        session.content_hash = source.content_hash
        for key, value in refs.items():
            setattr(session, key, value)
        _publication(session, source.publication)
