"""Queries on the catalog: modules, lessons, webinar series and sessions, and full-text search."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    extract,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import REGCONFIG as _REGCONFIG
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learning.db import models as m
from learning.db.models.catalog import SEARCH_CONFIG
from learning.lib.clock import utcnow

MANIFEST = "content"  # the one row of content_manifest

# Sentinels around matched words in snippets; replaced by <mark> after HTML-escaping the text.
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True, slots=True)
class SearchResults:
    hits: list[SearchHit]
    total: int  # every visible match, not only the page's


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str
    id: uuid.UUID
    title: str
    slug: str
    parent_slug: str | None
    rank: float
    snippet: str


def _in_state(status: m.SessionStatus, now: datetime) -> ColumnElement[bool]:
    """Sessions in ``status`` at ``now``, as ``m.session_state`` says (a ready replay makes one available)."""
    session = m.WebinarSession
    cancelled = session.status == m.SessionStatus.CANCELLED
    replay = exists().where(m.MediaAsset.id == session.replay_id, m.MediaAsset.status == m.MediaStatus.READY)
    end = session.scheduled_at + func.make_interval(0, 0, 0, 0, 0, session.duration_minutes)
    if status is m.SessionStatus.CANCELLED:
        return cancelled
    if status is m.SessionStatus.REPLAY_AVAILABLE:
        return and_(~cancelled, replay)
    by_clock = {
        m.SessionStatus.UPCOMING: session.scheduled_at > now,
        m.SessionStatus.LIVE: and_(session.scheduled_at <= now, end > now),
        m.SessionStatus.ENDED: end <= now,
    }
    return and_(~cancelled, ~replay, by_clock[status])


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- modules and lessons ------------------------------------------------------------------
    async def list_modules(self, *, limit: int, offset: int, public: bool) -> tuple[list[m.Module], int]:
        where = [m.Module.visible()] if public else []
        total = (await self.session.execute(select(func.count()).select_from(m.Module).where(*where))).scalar_one()
        rows = await self.session.execute(
            select(m.Module).where(*where).order_by(m.Module.position, m.Module.slug).limit(limit).offset(offset)
        )
        return list(rows.scalars()), total

    async def lesson_counts(self, module_ids: list[uuid.UUID], *, public: bool) -> dict[uuid.UUID, int]:
        if not module_ids:
            return {}
        where = [m.Lesson.module_id.in_(module_ids)] + ([m.Lesson.visible()] if public else [])
        rows = await self.session.execute(
            select(m.Lesson.module_id, func.count()).where(*where).group_by(m.Lesson.module_id)
        )
        return {row[0]: row[1] for row in rows.all()}

    async def module_by_slug(self, slug: str, *, public: bool, with_lessons: bool = False) -> m.Module | None:
        query = select(m.Module).where(m.Module.slug == slug)
        if public:
            query = query.where(m.Module.visible())
        if with_lessons:
            lessons = selectinload(m.Module.lessons)
            query = query.options(
                lessons.selectinload(m.Lesson.media),
                lessons.selectinload(m.Lesson.transcript),
                lessons.selectinload(m.Lesson.chapters),
                lessons.selectinload(m.Lesson.artwork),
            )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def all_modules(self) -> list[m.Module]:
        rows = await self.session.execute(select(m.Module).options(selectinload(m.Module.lessons)))
        return list(rows.scalars())

    async def quiz(self, module_id: uuid.UUID) -> m.Quiz | None:
        return await self.session.get(m.Quiz, module_id)

    async def lesson(self, module_id: uuid.UUID, slug: str) -> m.Lesson | None:
        query = (
            select(m.Lesson)
            .where(m.Lesson.module_id == module_id, m.Lesson.slug == slug)
            .options(
                selectinload(m.Lesson.media),
                selectinload(m.Lesson.transcript),
                selectinload(m.Lesson.chapters),
                selectinload(m.Lesson.artwork),
            )
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- webinars -------------------------------------------------------------------------------
    async def list_series(self, *, limit: int, offset: int, public: bool) -> tuple[list[m.WebinarSeries], int]:
        where = [m.WebinarSeries.visible()] if public else []
        total = (
            await self.session.execute(select(func.count()).select_from(m.WebinarSeries).where(*where))
        ).scalar_one()
        rows = await self.session.execute(
            select(m.WebinarSeries).where(*where).order_by(m.WebinarSeries.slug).limit(limit).offset(offset)
        )
        return list(rows.scalars()), total

    async def series_by_slug(self, slug: str, *, public: bool) -> m.WebinarSeries | None:
        query = select(m.WebinarSeries).where(m.WebinarSeries.slug == slug)
        if public:
            query = query.where(m.WebinarSeries.visible())
        return (await self.session.execute(query)).scalar_one_or_none()

    async def all_series(self) -> list[m.WebinarSeries]:
        rows = await self.session.execute(select(m.WebinarSeries).options(selectinload(m.WebinarSeries.sessions)))
        return list(rows.scalars())

    def _sessions_query(self, series_id: uuid.UUID, *, public: bool) -> Select[m.WebinarSession]:
        query = select(m.WebinarSession).where(m.WebinarSession.series_id == series_id)
        return query.where(m.WebinarSession.visible()) if public else query

    async def sessions(
        self,
        series_id: uuid.UUID,
        *,
        public: bool,
        status: m.SessionStatus | None = None,
        year: int | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[m.WebinarSession], int]:
        query = self._sessions_query(series_id, public=public)
        if status is not None:
            query = query.where(_in_state(status, utcnow()))
        if year is not None:
            query = query.where(extract("year", func.timezone("Europe/Paris", m.WebinarSession.scheduled_at)) == year)
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await self.session.execute(
            query.options(*_session_media())
            .order_by(m.WebinarSession.scheduled_at, m.WebinarSession.slug)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars()), total

    async def session_by_slug(self, series_id: uuid.UUID, slug: str, *, public: bool) -> m.WebinarSession | None:
        query = self._sessions_query(series_id, public=public).where(m.WebinarSession.slug == slug)
        return (await self.session.execute(query.options(*_session_media()))).scalar_one_or_none()

    # --- shared -----------------------------------------------------------------------------------
    # --- the admin desk: every session and lesson, drafts too -----------------------------------------
    async def desk_sessions(self) -> list[tuple[Any, ...]]:
        """(series slug, series title, id, slug, title, publication, publish_at, replay id, scheduled at, series
        publication, series publish_at) of every webinar session."""
        s, series = m.WebinarSession, m.WebinarSeries
        rows = await self.session.execute(
            select(series.slug, series.title, s.id, s.slug, s.title, s.publication, s.publish_at, s.replay_id,
                   s.scheduled_at, series.publication, series.publish_at)
            .join(series, series.id == s.series_id)
            .order_by(series.slug, s.scheduled_at, s.slug)
        )  # fmt: skip
        return [tuple(row) for row in rows.all()]

    async def desk_lessons(self) -> list[tuple[Any, ...]]:
        """(module slug, module title, id, slug, title, publication, publish_at, media id, kind, module
        publication, module publish_at) of every lesson."""
        lesson, module = m.Lesson, m.Module
        rows = await self.session.execute(
            select(module.slug, module.title, lesson.id, lesson.slug, lesson.title, lesson.publication,
                   lesson.publish_at, lesson.media_id, lesson.kind, module.publication, module.publish_at)
            .join(module, module.id == lesson.module_id)
            .order_by(module.position, module.slug, lesson.position, lesson.slug)
        )  # fmt: skip
        return [tuple(row) for row in rows.all()]

    async def all_feeds(self) -> list[m.PodcastFeed]:
        """Every podcast feed with its artwork (the pages show it as the module's or series' cover)."""
        query = select(m.PodcastFeed).options(selectinload(m.PodcastFeed.artwork))
        return list((await self.session.execute(query)).scalars())

    async def delete(self, row: Any) -> None:
        await self.session.delete(row)

    async def add(self, row: Any) -> None:
        self.session.add(row)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def manifest(self) -> str | None:
        """The content fingerprint of the last sync that wrote (``catalog/content/manifest.py``), if any."""
        found = await self.session.get(m.ContentManifest, MANIFEST)
        return found.fingerprint if found else None

    async def record_manifest(self, fingerprint: str, files: int) -> None:
        statement = insert(m.ContentManifest).values(name=MANIFEST, fingerprint=fingerprint, files=files)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[m.ContentManifest.name],
                set_={"fingerprint": fingerprint, "files": files, "synced_at": func.now()},
            )
        )

    async def next_scheduled_publication(self) -> datetime | None:
        """When the next scheduled item becomes visible (cached answers must not outlive it)."""
        moments = [
            select(func.min(model.publish_at)).where(
                model.publication == m.Publication.SCHEDULED, model.publish_at > func.now()
            )
            for model in (m.Module, m.Lesson, m.WebinarSeries, m.WebinarSession)
        ]
        values = [(await self.session.execute(query)).scalar_one_or_none() for query in moments]
        present = [value for value in values if value is not None]
        return min(present) if present else None

    async def search(self, text: str, *, limit: int, offset: int) -> SearchResults:
        """One page of the ranked French full-text search (accents ignored) over visible modules, lessons and
        sessions, by rank, then title, then id, and how many match: one statement (see ``_search_page``)."""
        rows = (await self.session.execute(_search_page(), {"text": text, "limit": limit, "offset": offset})).all()
        hits = [
            SearchHit(
                kind=row.kind, id=row.id, title=row.title, slug=row.slug, parent_slug=row.parent_slug,
                rank=float(row.rank), snippet=row.snippet,
            )
            for row in rows
            if row.id is not None
        ]  # fmt: skip
        return SearchResults(hits=hits, total=int(rows[0].total))


# The search statements are built once: building them costs more than PostgreSQL takes to run them on a
# small catalog. Their values are bound at each execution.


def _config() -> Any:
    return literal(SEARCH_CONFIG).cast(_REGCONFIG)


def _tsquery() -> Any:
    # A scalar subquery: PostgreSQL parses the query once (an InitPlan), not once per row it tests.
    return select(func.websearch_to_tsquery(_config(), bindparam("text", type_=String))).scalar_subquery()


def _matches() -> list[Select[Any]]:
    """The visible modules, lessons and sessions matching the query: (kind, id, title, slug, parent slug, rank),
    one statement per kind, unordered. Narrow rows: a rank is computed from the row's vector, no text is
    read."""
    module, lesson, session, series = m.Module, m.Lesson, m.WebinarSession, m.WebinarSeries
    modules = select(
        literal("module").label("kind"), module.id, module.title, module.slug,
        literal(None, String).label("parent_slug"), func.ts_rank(module.search_vector, _tsquery()).label("rank"),
    ).where(module.search_vector.op("@@")(_tsquery()), module.visible())  # fmt: skip
    lessons = _child_matches("lesson", lesson, module, lesson.module_id)
    sessions = _child_matches("webinar_session", session, series, session.series_id)
    return [modules, lessons, sessions]


def _child_matches(kind: str, child: Any, parent: Any, parent_id: Any) -> Select[Any]:
    """The visible ``child`` rows (lessons, sessions) of visible parents matching the query, as ``_matches``
    gives them.

    The children are matched and ranked on their own first (a materialised CTE): one scan of their text index,
    whatever PostgreSQL guesses of the parents (on a freshly grown table it would scan the index once per
    parent), then joined to their visible parents."""
    hits = (
        select(child.id, child.title, child.slug, parent_id.label("parent_id"),
               func.ts_rank(child.search_vector, _tsquery()).label("rank"))
        .where(child.search_vector.op("@@")(_tsquery()), child.visible())
        .cte(f"{kind}_hits")
        .prefix_with("MATERIALIZED")
    )  # fmt: skip
    return (
        select(literal(kind).label("kind"), hits.c.id, hits.c.title, hits.c.slug, parent.slug.label("parent_slug"),
               hits.c.rank)
        .join(parent, parent.id == hits.c.parent_id)
        .where(parent.visible())
    )  # fmt: skip


@functools.cache
def _search_page() -> Select[Any]:
    """A page of results and the number of matches in one statement, its cost that of ranking the matches
    (what any ranked full-text query pays) plus the page's snippets.

    Every match is ranked once into a materialised list of narrow rows (kind, id, title, slugs, rank: no text
    read); the total is counted from that list and the page cut from it (a top-N sort); only then are the
    page's texts read and highlighted, a module's summary or a lesson's or session's best passage (the
    paragraph matching the query, else the one with most of its words, else the first). The page is joined to
    the count, so a page past the end still gives one row: the total, with no hit. Binds ``text``, ``limit``
    and ``offset``."""
    matches = union_all(*_matches()).cte("matches").prefix_with("MATERIALIZED")
    page = (
        select(matches)
        .order_by(matches.c.rank.desc(), matches.c.title, matches.c.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    total = select(func.count().label("total")).select_from(matches).subquery("total")
    passage = m.SearchPassage
    words = select(
        func.tsvector_to_array(func.to_tsvector(_config(), bindparam("text", type_=String)))
    ).scalar_subquery()
    best_passage = (
        select(passage.body)
        .where(passage.owner_id == page.c.id)
        .order_by(
            passage.vector.op("@@")(_tsquery()).desc(),
            (func.length(passage.vector) - func.length(func.ts_delete(passage.vector, words))).desc(),
            passage.position,
        )
        .limit(1)
        .scalar_subquery()
    )
    summary = select(m.Module.summary).where(m.Module.id == page.c.id).scalar_subquery()
    shown = func.coalesce(case((page.c.kind == "module", summary), else_=best_passage), "")
    options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=28, MinWords=10"
    return (
        select(
            total.c.total, page.c.kind, page.c.id, page.c.title, page.c.slug, page.c.parent_slug, page.c.rank,
            func.ts_headline(_config(), shown, _tsquery(), options).label("snippet"),
        )
        .select_from(total.outerjoin(page, true()))
        .order_by(page.c.rank.desc(), page.c.title, page.c.id)
    )  # fmt: skip


def _session_media() -> list[Any]:
    return [
        selectinload(m.WebinarSession.replay),
        selectinload(m.WebinarSession.transcript),
        selectinload(m.WebinarSession.chapters),
        selectinload(m.WebinarSession.artwork),
    ]
