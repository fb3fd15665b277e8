"""Public catalog endpoints: modules and lessons, webinar series and sessions, search.

Answers are kept by the edge and validated against PostgreSQL (``learning/edge``); each carries a strong
ETag, and ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, route
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from learning.catalog import schemas as s
from learning.catalog.deps import provide_answers, provide_catalog_service
from learning.catalog.services import MAX_QUERY_LENGTH, QUERY_PATTERN, CatalogService
from learning.db import models as m
from learning.edge import AnswerStore
from learning.edge.keys import EDGE_QUERY, PAGE, Declaration, as_int, as_text, as_words
from learning.edge.routes import cached_json
from learning.lib.calendar import CALENDAR_MEDIA_TYPE
from learning.lib.openapi import IF_NONE_MATCH, PRECONDITION_HEADERS, no_content
from learning.lib.pagination import Page, PageRequest, provide_page_request


def _ok(model: Any, description: str) -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(model, description=description, generate_examples=False),
        304: no_content("Not modified: the client's copy is current (If-None-Match)"),
    }


# Answers carry a strong ETag: If-None-Match gets a 304, a failed If-Match a 412.
CONDITIONAL = {"request_headers": [IF_NONE_MATCH, *PRECONDITION_HEADERS], "problems": [412]}


def read(path: str, *, operation_id: str, query: Declaration | None = None, **options: Any) -> HTTPRouteHandler:
    """A public read: GET, and HEAD with the same headers (``GetModule``, ``HeadGetModule``); its answers are kept
    by the edge, keyed on the path and the ``query`` parameters it reads (``edge/keys.py``)."""
    opt = {**options.pop("opt", {}), EDGE_QUERY: query or {}}
    return route(
        path,
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=lambda _h, method, _p: operation_id if method == "GET" else f"Head{operation_id}",
        opt=opt,
        **options,
    )


class CatalogController(Controller):
    tags = ["catalog"]
    opt = {"exclude_from_auth": True}
    dependencies = {
        "catalog": Provide(provide_catalog_service, sync_to_thread=False),
        "answers": Provide(provide_answers, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }

    @read(
        "/api/v1/modules",
        operation_id="ListModules",
        query=PAGE,
        opt=CONDITIONAL,
        responses=_ok(Page[s.ModuleSummary], "Published modules"),
    )
    async def list_modules(
        self,
        request: Request[Any, Any, Any],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
        page: NamedDependency[PageRequest],
    ) -> Response[bytes]:
        """The MOOC's published modules, in order, with a total."""

        async def build() -> Page[s.ModuleSummary]:
            items, total = await catalog.modules(limit=page.limit, offset=page.offset)
            return Page(items=items, total=total, limit=page.limit, offset=page.offset)

        return await cached_json(request, answers, build, catalog.next_change)

    @read(
        "/api/v1/modules/{slug:str}",
        operation_id="GetModule",
        opt=CONDITIONAL,
        responses=_ok(s.ModuleDetail, "A module"),
    )
    async def get_module(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
    ) -> Response[bytes]:
        """A module with its published lessons."""
        return await cached_json(request, answers, lambda: catalog.module(slug), catalog.next_change)

    @read(
        "/api/v1/modules/{slug:str}/lessons/{lesson_slug:str}",
        operation_id="GetLesson",
        opt=CONDITIONAL,
        responses=_ok(s.LessonDetail, "A lesson"),
    )
    async def get_lesson(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
    ) -> Response[bytes]:
        """A lesson: its body as Markdown and as sanitised HTML, and its media."""
        return await cached_json(request, answers, lambda: catalog.lesson(slug, lesson_slug), catalog.next_change)

    @read(
        "/api/v1/webinars",
        operation_id="ListWebinarSeries",
        query=PAGE,
        opt=CONDITIONAL,
        responses=_ok(Page[s.SeriesSummary], "Series"),
    )
    async def list_series(
        self,
        request: Request[Any, Any, Any],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
        page: NamedDependency[PageRequest],
    ) -> Response[bytes]:
        """The published webinar series."""

        async def build() -> Page[s.SeriesSummary]:
            items, total = await catalog.series_list(limit=page.limit, offset=page.offset)
            return Page(items=items, total=total, limit=page.limit, offset=page.offset)

        return await cached_json(request, answers, build, catalog.next_change)

    @read(
        "/api/v1/webinars/{series_slug:str}",
        operation_id="GetWebinarSeries",
        query={**PAGE, "status": as_text, "year": as_int},
        opt=CONDITIONAL,
        responses=_ok(s.SeriesDetail, "A series and its sessions"),
    )
    async def get_series(
        self,
        request: Request[Any, Any, Any],
        series_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
        page: NamedDependency[PageRequest],
        status: Annotated[m.SessionStatus | None, QueryParameter(description="Only sessions in this state")] = None,
        year: Annotated[int | None, QueryParameter(ge=1900, le=2100, description="Year in Europe/Paris")] = None,
    ) -> Response[bytes]:
        """A series with its sessions (paginated; filter by status and year)."""
        return await cached_json(
            request,
            answers,
            lambda: catalog.series(series_slug, status=status, year=year, limit=page.limit, offset=page.offset),
            catalog.next_change,
        )

    @read(
        "/api/v1/webinars/{series_slug:str}/sessions/{session_slug:str}",
        operation_id="GetWebinarSession",
        opt=CONDITIONAL,
        responses=_ok(s.SessionDetail, "A webinar session"),
    )
    async def get_session(
        self,
        request: Request[Any, Any, Any],
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
    ) -> Response[bytes]:
        """A webinar session: programme, speakers, replay, transcript and chapters when present. With ``.ics``
        after its slug: the session as an iCalendar event (``text/calendar``, RFC 5545) to add to a calendar."""
        if session_slug.endswith(".ics"):
            view = await catalog.session_calendar(series_slug, session_slug.removesuffix(".ics"))
            return Response(view.body, media_type=CALENDAR_MEDIA_TYPE, headers={"ETag": view.etag})
        return await cached_json(
            request, answers, lambda: catalog.session(series_slug, session_slug), catalog.next_change
        )

    @read(
        "/api/v1/search",
        operation_id="Search",
        query={**PAGE, "q": as_words},
        opt=CONDITIONAL,
        responses=_ok(s.SearchPage, "Ranked results; `total` is exact up to a cap, then a lower bound"),
    )
    async def search(
        self,
        request: Request[Any, Any, Any],
        catalog: NamedDependency[CatalogService],
        answers: NamedDependency[AnswerStore],
        page: NamedDependency[PageRequest],
        q: Annotated[
            str,
            QueryParameter(
                max_length=MAX_QUERY_LENGTH,
                pattern=QUERY_PATTERN,
                description="Words to find (French, accents optional): no control characters, not only spaces",
            ),
        ],
    ) -> Response[bytes]:
        """French full-text search over modules, lessons and webinars, with highlighted snippets."""

        return await cached_json(
            request, answers, lambda: catalog.search(q, limit=page.limit, offset=page.offset), catalog.next_change
        )
