"""The admin's edits of the catalog: create, update, and publish / schedule / unpublish."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from learning.catalog import schemas as s
from learning.catalog.markdown import render_markdown
from learning.catalog.repositories import CatalogRepository
from learning.catalog.services import (
    LessonNotFound,
    ModuleNotFound,
    SeriesNotFound,
    SessionNotFound,
    SlugConflict,
)
from learning.db import models as m
from learning.lib import identity
from learning.lib.clock import plausible, utcnow
from learning.lib.errors import Unprocessable

# Field names of the API that differ from the columns.
_RENAMED = {"description_markdown": "description_md", "body_markdown": "body_md"}


class BadPublication(Unprocessable):
    title = "Invalid publication change"


class MeasuredDuration(Unprocessable):
    title = "Duration is measured"


def _apply(row: Any, changes: msgspec.Struct) -> None:
    for field in changes.__struct_fields__:
        value = getattr(changes, field)
        if value is None:
            continue
        if field == "speakers":
            value = [msgspec.structs.asdict(speaker) for speaker in value]
        setattr(row, _RENAMED.get(field, field), value)
    if hasattr(row, "body_html"):
        row.body_html = render_markdown(row.body_md)


def event_fields(session: m.WebinarSession) -> tuple[object, ...]:
    """What a calendar event says of a session: a change of any raises its SEQUENCE (RFC 5545)."""
    return (session.scheduled_at, session.duration_minutes, session.join_url, session.status, session.title)


def _normalise_event(session: m.WebinarSession) -> None:
    session.join_url = session.join_url or None  # "" clears it
    if session.status is not m.SessionStatus.CANCELLED:
        session.cancel_reason = ""


def _change_publication(row: Any, change: s.PublicationChange) -> s.PublicationRead:
    if change.state is m.Publication.SCHEDULED:
        if change.publish_at is None or change.publish_at.tzinfo is None:
            raise BadPublication("Scheduling needs 'publish_at' with a UTC offset.")
        if not plausible(change.publish_at):
            raise BadPublication("'publish_at' must be between 1900 and 2200.")
        row.publish_at = change.publish_at
    elif change.publish_at is not None:
        raise BadPublication("'publish_at' goes with state 'scheduled' only.")
    else:
        row.publish_at = utcnow() if change.state is m.Publication.PUBLISHED else None
    row.publication = change.state
    return s.PublicationRead(state=row.publication, publish_at=row.publish_at, visible=m.is_visible(row, utcnow()))


class CatalogEditor:
    def __init__(self, catalog: CatalogRepository) -> None:
        self.catalog = catalog

    async def _module(self, slug: str) -> m.Module:
        module = await self.catalog.module_by_slug(slug, public=False, with_lessons=True)
        if module is None:
            raise ModuleNotFound(f"No module '{slug}'.")
        return module

    async def create_module(self, data: s.ModuleCreate) -> m.Module:
        """A new module, as a draft."""
        if await self.catalog.module_by_slug(data.slug, public=False) is not None:
            raise SlugConflict(f"A module '{data.slug}' already exists.")
        module = m.Module(
            id=identity.module_id(data.slug),
            slug=data.slug,
            origin=m.Origin.ADMIN,
            publication=m.Publication.DRAFT,
            lessons=[],
        )
        _apply(module, data)
        await self.catalog.add(module)
        return module

    async def module(self, slug: str) -> m.Module:
        """A module as it is stored, drafts too (what an edit form starts from)."""
        return await self._module(slug)

    async def modules(self) -> list[m.Module]:
        """Every module, drafts too, in course order (with their lessons)."""
        return sorted(await self.catalog.all_modules(), key=lambda module: (module.position, module.slug))

    async def update_module(self, slug: str, data: s.ModuleUpdate) -> m.Module:
        module = await self._module(slug)
        _apply(module, data)
        await self.catalog.flush()
        return module

    async def publish_module(self, slug: str, change: s.PublicationChange) -> s.PublicationRead:
        result = _change_publication(await self._module(slug), change)
        await self.catalog.flush()
        return result

    async def _lesson(self, module_slug: str, lesson_slug: str) -> m.Lesson:
        module = await self._module(module_slug)
        lesson = await self.catalog.lesson(module.id, lesson_slug)
        if lesson is None:
            raise LessonNotFound(f"No lesson '{lesson_slug}' in '{module_slug}'.")
        return lesson

    async def create_lesson(self, module_slug: str, data: s.LessonCreate) -> m.Lesson:
        """A new lesson in a module, as a draft; text lessons complete by mark-done, media by coverage."""
        module = await self._module(module_slug)
        if any(lesson.slug == data.slug for lesson in module.lessons):
            raise SlugConflict(f"Module '{module_slug}' already has a lesson '{data.slug}'.")
        rule = m.CompletionRule.MARK_DONE if data.kind is m.LessonKind.TEXT else m.CompletionRule.COVERAGE
        lesson = m.Lesson(
            id=identity.lesson_id(module.slug, data.slug), module_id=module.id, slug=data.slug,
            origin=m.Origin.ADMIN, publication=m.Publication.DRAFT,
            completion_rule=rule, kind=data.kind,
        )  # fmt: skip
        _apply(lesson, data)
        await self.catalog.add(lesson)
        return lesson

    async def update_lesson(self, module_slug: str, lesson_slug: str, data: s.LessonUpdate) -> m.Lesson:
        lesson = await self._lesson(module_slug, lesson_slug)
        if data.duration_seconds is not None and lesson.media_id is not None:
            # Progress, pages and feeds count on it: a lesson with media lasts what its media lasts.
            raise MeasuredDuration(
                "A lesson with a video or audio lasts what its media lasts: its duration is measured, not set."
            )
        _apply(lesson, data)
        await self.catalog.flush()
        return lesson

    async def publish_lesson(
        self, module_slug: str, lesson_slug: str, change: s.PublicationChange
    ) -> s.PublicationRead:
        result = _change_publication(await self._lesson(module_slug, lesson_slug), change)
        await self.catalog.flush()
        return result

    async def _series(self, slug: str) -> m.WebinarSeries:
        series = await self.catalog.series_by_slug(slug, public=False)
        if series is None:
            raise SeriesNotFound(f"No webinar series '{slug}'.")
        return series

    async def _session(self, series_slug: str, session_slug: str) -> m.WebinarSession:
        series = await self._series(series_slug)
        session = await self.catalog.session_by_slug(series.id, session_slug, public=False)
        if session is None:
            raise SessionNotFound(f"No session '{session_slug}' in '{series_slug}'.")
        return session

    async def session(self, series_slug: str, session_slug: str) -> m.WebinarSession:
        """A webinar session as it is stored, drafts too (what an edit form starts from)."""
        return await self._session(series_slug, session_slug)

    async def series_choices(self) -> list[tuple[str, str]]:
        """(slug, title) of every webinar series, drafts too: where a new session may go."""
        return sorted((series.slug, series.title) for series in await self.catalog.all_series())

    async def create_session(self, series_slug: str, data: s.SessionCreate) -> m.WebinarSession:
        """A new webinar session in a series, as a draft."""
        series = await self._series(series_slug)
        if await self.catalog.session_by_slug(series.id, data.slug, public=False) is not None:
            raise SlugConflict(f"Series '{series_slug}' already has a session '{data.slug}'.")
        _require_offset(data.scheduled_at)
        session = m.WebinarSession(
            id=identity.session_id(series.slug, data.slug), series_id=series.id, slug=data.slug,
            origin=m.Origin.ADMIN, publication=m.Publication.DRAFT,
        )  # fmt: skip
        _apply(session, data)
        _normalise_event(session)
        await self.catalog.add(session)
        return session

    async def update_session(self, series_slug: str, session_slug: str, data: s.SessionUpdate) -> m.WebinarSession:
        """Change a session; a change of its time, room or state raises its sequence (calendars take it)."""
        session = await self._session(series_slug, session_slug)
        if data.scheduled_at is not None:
            _require_offset(data.scheduled_at)
        before = event_fields(session)
        _apply(session, data)
        _normalise_event(session)
        if event_fields(session) != before:
            session.sequence += 1
        await self.catalog.flush()
        return session

    async def publish_session(
        self, series_slug: str, session_slug: str, change: s.PublicationChange
    ) -> s.PublicationRead:
        result = _change_publication(await self._session(series_slug, session_slug), change)
        await self.catalog.flush()
        return result

    # --- the admin desk ---------------------------------------------------------------------------
    async def session_episodes(self) -> list[s.Episode]:
        """Every webinar session (drafts too), by series."""
        return [
            s.Episode(m.UploadTarget.WEBINAR_SESSION, row[2], row[0], row[1], row[3], row[4], row[5], row[6], row[7],
                      scheduled_at=row[8], parent_publication=row[9], parent_publish_at=row[10])
            for row in await self.catalog.desk_sessions()
        ]  # fmt: skip

    async def lesson_episodes(self) -> list[s.Episode]:
        """Every lesson (drafts too), in module order."""
        return [
            s.Episode(m.UploadTarget.LESSON, row[2], row[0], row[1], row[3], row[4], row[5], row[6], row[7],
                      lesson_kind=row[8], parent_publication=row[9], parent_publish_at=row[10])
            for row in await self.catalog.desk_lessons()
        ]  # fmt: skip

    async def episode_of(self, asset_id: uuid.UUID) -> s.Episode | None:
        """The session or lesson whose replay this asset is."""
        for episode in [*await self.session_episodes(), *await self.lesson_episodes()]:
            if episode.media_id == asset_id:
                return episode
        return None


def _require_offset(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise Unprocessable("'scheduled_at' needs a UTC offset, e.g. 2019-01-24T11:00:00+01:00.")
    if not plausible(moment):
        raise Unprocessable("'scheduled_at' must be between 1900 and 2200.")
