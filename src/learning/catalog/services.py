"""Catalog rules: what the public sees, search, and the admin's edits and publication changes."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from learning.catalog import schemas as s
from learning.catalog.markdown import render_markdown
from learning.catalog.repositories import MARK_END, MARK_START, CatalogRepository
from learning.db import models as m
from learning.lib.calendar import CalendarView, render_calendar, session_event
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, NotFound, Unprocessable
from learning.lib.typography import french_html
from learning.media.urls import media_url

MAX_QUERY_LENGTH = 200
# Matches are counted exactly; beyond this many, the answer shows the cap and says « more than » (a page of a few
# hundred thousand results is no answer: the figure is a hint, not an inventory).
SEARCH_COUNT_CAP = 1000


def _char_class(codes: list[int]) -> str:
    """``codes`` (sorted) as the ranges of a character class, in escapes JSON Schema and Python read alike."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


# The search takes words: at least one character that is neither a space (what str.split() splits on) nor a
# control character (C0, DEL, C1), and no control character anywhere. The query parameter's schema states it
# and Litestar enforces it; the service checks it again for the pages. Spaces first, then a word character:
# the two classes do not overlap, so matching takes one pass whatever the length.
_CONTROLS = _char_class([*range(0x20), *range(0x7F, 0xA0)])
_SPACES = _char_class([code for code in range(0x20, 0x10000) if chr(code).isspace() and not 0x7F <= code < 0xA0])
QUERY_PATTERN = f"^[{_SPACES}]*[^{_CONTROLS}{_SPACES}][^{_CONTROLS}]*$"
_QUERY = re.compile(QUERY_PATTERN)
# websearch_to_tsquery reads "-" as NOT; NOTs with no word between them pile up on PostgreSQL's parser stack,
# which holds 32 ("tsquery stack too small", a 500). A "-" not directly before a word negates nothing: it
# becomes a space, which leaves at most one NOT per word.
_DANGLING_NOT = re.compile(r"-(?!\w)")


class ModuleNotFound(NotFound):
    title = "Module not found"


class LessonNotFound(NotFound):
    title = "Lesson not found"


class SeriesNotFound(NotFound):
    title = "Webinar series not found"


class SessionNotFound(NotFound):
    title = "Webinar session not found"


class SlugConflict(Conflict):
    title = "Slug already used"


class BadSearch(Unprocessable):
    status_code = 400
    title = "Invalid search"


def _media(base_url: str, asset: m.MediaAsset | None) -> s.MediaRef | None:
    if asset is None or asset.status is not m.MediaStatus.READY:
        return None  # nothing half-processed is ever shown
    return s.MediaRef(
        id=asset.id,
        url=media_url(base_url, asset),
        mime_type=asset.mime_type,
        size_bytes=asset.size_bytes,
        duration_seconds=asset.duration_seconds,
        width=asset.width,
        height=asset.height,
    )


def _state(session: m.WebinarSession, replay: s.MediaRef | None) -> m.SessionStatus:
    return m.session_state(session.status, replay is not None, session.scheduled_at, session.duration_minutes, utcnow())


def _reason(session: m.WebinarSession, status: m.SessionStatus) -> str:
    return session.cancel_reason if status is m.SessionStatus.CANCELLED else ""


def _join_url(session: m.WebinarSession, status: m.SessionStatus) -> str | None:
    """The room, while there is something to join (not after the session, not when it is cancelled)."""
    return session.join_url if status in (m.SessionStatus.UPCOMING, m.SessionStatus.LIVE) else None


def _speakers(raw: list[dict[str, str]]) -> list[s.Speaker]:
    return [s.Speaker(name=x["name"], organisation=x.get("organisation", ""), role=x.get("role", "guest")) for x in raw]


def _snippet_html(snippet: str) -> str:
    # The snippet is cut from the Markdown source: typographed here, like the lesson's HTML.
    return french_html(html.escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A podcast feed's module or series, and its artwork."""

    kind: m.FeedKind
    slug: str
    artwork: s.MediaRef | None


class CatalogService:
    """Public reads: only visible content (published, or scheduled and due)."""

    def __init__(self, catalog: CatalogRepository, base_url: str, *, search_count_cap: int = SEARCH_COUNT_CAP) -> None:
        self.catalog = catalog
        self.base_url = base_url
        self.search_count_cap = search_count_cap

    async def next_change(self) -> datetime | None:
        return await self.catalog.next_scheduled_publication()

    async def feed_sources(self) -> list[FeedSource]:
        """The module or series behind each podcast feed, with the feed's artwork (its cover)."""
        return [
            FeedSource(feed.kind, feed.source_slug, _media(self.base_url, feed.artwork))
            for feed in await self.catalog.all_feeds()
        ]

    async def modules(self, *, limit: int, offset: int) -> tuple[list[s.ModuleSummary], int]:
        modules, total = await self.catalog.list_modules(limit=limit, offset=offset, public=True)
        counts = await self.catalog.lesson_counts([module.id for module in modules], public=True)
        items = [
            s.ModuleSummary(
                slug=module.slug, position=module.position, title=module.title, summary=module.summary,
                tags=module.tags, lesson_count=counts.get(module.id, 0),
            )
            for module in modules
        ]  # fmt: skip
        return items, total

    async def module(self, slug: str) -> s.ModuleDetail:
        module = await self.catalog.module_by_slug(slug, public=True, with_lessons=True)
        if module is None:
            raise ModuleNotFound(f"No published module '{slug}'.")
        now = utcnow()
        lessons = [lesson for lesson in module.lessons if m.is_visible(lesson, now)]
        return s.ModuleDetail(
            slug=module.slug,
            position=module.position,
            title=module.title,
            summary=module.summary,
            tags=module.tags,
            description_markdown=module.description_md,
            description_html=render_markdown(module.description_md),
            notice=module.notice,
            objectives=module.objectives,
            audience=module.audience,
            prerequisites=module.prerequisites,
            duration_seconds=sum(lesson.duration_seconds for lesson in lessons),
            lessons=[
                s.LessonSummary(
                    id=lesson.id, slug=lesson.slug, position=lesson.position, title=lesson.title,
                    summary=lesson.summary, kind=lesson.kind, duration_seconds=lesson.duration_seconds,
                    media=_media(self.base_url, lesson.media),
                )
                for lesson in lessons
            ],
        )  # fmt: skip

    async def lesson(self, module_slug: str, lesson_slug: str) -> s.LessonDetail:
        module = await self.catalog.module_by_slug(module_slug, public=True, with_lessons=True)
        if module is None:
            raise ModuleNotFound(f"No published module '{module_slug}'.")
        now = utcnow()
        lessons = [lesson for lesson in module.lessons if m.is_visible(lesson, now)]
        index = next((i for i, lesson in enumerate(lessons) if lesson.slug == lesson_slug), None)
        if index is None:
            raise LessonNotFound(f"No published lesson '{lesson_slug}' in '{module_slug}'.")
        lesson = lessons[index]
        return s.LessonDetail(
            id=lesson.id,
            slug=lesson.slug,
            position=lesson.position,
            title=lesson.title,
            summary=lesson.summary,
            kind=lesson.kind,
            duration_seconds=lesson.duration_seconds,
            completion_rule=lesson.completion_rule,
            completion_threshold=lesson.completion_threshold,
            tags=lesson.tags,
            body_markdown=lesson.body_md,
            body_html=lesson.body_html,
            media=_media(self.base_url, lesson.media),
            transcript=_media(self.base_url, lesson.transcript),
            chapters=_media(self.base_url, lesson.chapters),
            artwork=_media(self.base_url, lesson.artwork),
            module=s.ParentRef(slug=module.slug, title=module.title, notice=module.notice),
            previous_lesson=lessons[index - 1].slug if index > 0 else None,
            next_lesson=lessons[index + 1].slug if index + 1 < len(lessons) else None,
        )

    async def series_list(self, *, limit: int, offset: int) -> tuple[list[s.SeriesSummary], int]:
        series, total = await self.catalog.list_series(limit=limit, offset=offset, public=True)
        return [self._series_summary(item) for item in series], total

    @staticmethod
    def _series_summary(series: m.WebinarSeries) -> s.SeriesSummary:
        return s.SeriesSummary(
            slug=series.slug, title=series.title, summary=series.summary, notice=series.notice,
            organiser=series.organiser, year=series.year, tags=series.tags,
        )  # fmt: skip

    async def series(
        self, slug: str, *, status: m.SessionStatus | None, year: int | None, limit: int, offset: int
    ) -> s.SeriesDetail:
        series = await self.catalog.series_by_slug(slug, public=True)
        if series is None:
            raise SeriesNotFound(f"No published webinar series '{slug}'.")
        sessions, total = await self.catalog.sessions(
            series.id, public=True, status=status, year=year, limit=limit, offset=offset
        )
        return s.SeriesDetail(
            slug=series.slug,
            title=series.title,
            summary=series.summary,
            notice=series.notice,
            organiser=series.organiser,
            year=series.year,
            timezone=series.timezone,
            tags=series.tags,
            description_markdown=series.description_md,
            description_html=render_markdown(series.description_md),
            sessions=s.SessionPage(
                items=[self._session_summary(session) for session in sessions],
                total=total,
                limit=limit,
                offset=offset,
            ),
        )

    def _session_summary(self, session: m.WebinarSession) -> s.SessionSummary:
        replay = _media(self.base_url, session.replay)
        status = _state(session, replay)
        return s.SessionSummary(
            slug=session.slug, title=session.title, summary=session.summary, scheduled_at=session.scheduled_at,
            duration_minutes=session.duration_minutes, status=status, cancel_reason=_reason(session, status),
            join_url=_join_url(session, status), speakers=_speakers(session.speakers), tags=session.tags, replay=replay,
        )  # fmt: skip

    async def session(self, series_slug: str, session_slug: str) -> s.SessionDetail:
        series = await self.catalog.series_by_slug(series_slug, public=True)
        if series is None:
            raise SeriesNotFound(f"No published webinar series '{series_slug}'.")
        session = await self.catalog.session_by_slug(series.id, session_slug, public=True)
        if session is None:
            raise SessionNotFound(f"No published session '{session_slug}' in '{series_slug}'.")
        replay = _media(self.base_url, session.replay)
        status = _state(session, replay)
        return s.SessionDetail(
            slug=session.slug,
            title=session.title,
            summary=session.summary,
            scheduled_at=session.scheduled_at,
            duration_minutes=session.duration_minutes,
            status=status,
            cancel_reason=_reason(session, status),
            join_url=_join_url(session, status),
            speakers=_speakers(session.speakers),
            tags=session.tags,
            replay=replay,
            transcript=_media(self.base_url, session.transcript),
            chapters=_media(self.base_url, session.chapters),
            artwork=_media(self.base_url, session.artwork),
            body_markdown=session.body_md,
            body_html=session.body_html,
            series=s.ParentRef(slug=series.slug, title=series.title, notice=series.notice),
        )

    async def session_calendar(self, series_slug: str, session_slug: str) -> CalendarView:
        """One published session as an iCalendar document (to add it to a calendar; registrations attach it)."""
        series = await self.catalog.series_by_slug(series_slug, public=True)
        session = await self.catalog.session_by_slug(series.id, session_slug, public=True) if series else None
        if series is None or session is None:
            raise SessionNotFound(f"No published session '{session_slug}' in '{series_slug}'.")
        event = session_event(session, f"{self.base_url}/webinaires/{series.slug}/{session.slug}")
        return render_calendar(series.title, series.timezone, [event])

    async def search(self, query: str, *, limit: int, offset: int) -> s.SearchPage:
        """Ranked French full-text search; accents and plurals do not matter. The total is exact up to the
        count cap; beyond, it is the cap and ``total_is_lower_bound`` says there are more."""
        text = " ".join(query.split())
        if not text:
            raise BadSearch("The search needs some words (q=…).")
        if len(text) > MAX_QUERY_LENGTH or not _QUERY.fullmatch(query):
            raise BadSearch(f"The search must be at most {MAX_QUERY_LENGTH} printable characters.")
        text = _DANGLING_NOT.sub(" ", text)
        found = await self.catalog.search(text, limit=limit, offset=offset)
        results = []
        for hit in found.hits:
            if hit.kind == "module":
                path = f"/api/v1/modules/{hit.slug}"
            elif hit.kind == "lesson":
                path = f"/api/v1/modules/{hit.parent_slug}/lessons/{hit.slug}"
            else:
                path = f"/api/v1/webinars/{hit.parent_slug}/sessions/{hit.slug}"
            results.append(
                s.SearchResult(
                    kind=hit.kind, title=hit.title, slug=hit.slug, parent_slug=hit.parent_slug, path=path,
                    snippet_html=_snippet_html(hit.snippet), rank=round(hit.rank, 6),
                )
            )  # fmt: skip
        return s.SearchPage(
            items=results, total=min(found.total, self.search_count_cap), limit=limit, offset=offset,
            total_is_lower_bound=found.total > self.search_count_cap,
        )  # fmt: skip
