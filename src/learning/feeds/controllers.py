"""Podcast feeds over HTTP: public RSS/Atom, a learner's private feeds and their media, the token API.

Public feeds are handed to the edge once rendered (``learning/edge``), which answers the next requests
before the app; a conditional request whose ETag or date still matches gets 304 before any XML is built.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, HttpMethod, Request, Response, delete, get, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from learning.accounts.auth import CurrentUser
from learning.edge import Rendered, compressed
from learning.edge.keys import EDGE_QUERY, as_int
from learning.edge.respond import Validators, preflight, respond
from learning.edge.routes import Early, cached_document, early_answer, private_document
from learning.feeds.deps import provide_feed_service
from learning.feeds.render import render_atom, render_rss_gzip
from learning.feeds.services import FeedFormat, FeedNotFound, FeedService, FeedView
from learning.lib.calendar import CALENDAR_MEDIA_TYPE, CalendarView
from learning.lib.clock import utcnow
from learning.lib.guards import requires_json_body
from learning.lib.openapi import CONDITIONAL_HEADERS, no_content
from learning.media.delivery import MediaDelivery
from learning.media.deps import provide_media_delivery
from learning.media.responses import MEDIA_REQUEST_HEADERS, MEDIA_RESPONSES, respond_with_media

MEDIA_TYPES: dict[FeedFormat, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
EXTENSIONS: dict[str, FeedFormat] = {"xml": "rss", "atom": "atom"}
MAX_PAGE = 100_000
Page = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_PAGE, description="Which page of a paged feed (RFC 5005): 1, the subscription document, holds "
        "the newest episodes; the feed links to the others (atom:link rel=next/previous/first/last)",
    ),
]  # fmt: skip


def _split(filename: str) -> tuple[str, FeedFormat]:
    """``slug.xml`` → (slug, rss), ``slug.atom`` → (slug, atom); anything else is 404."""
    slug, _, extension = filename.rpartition(".")
    if not slug or extension not in EXTENSIONS:
        raise FeedNotFound("Feeds end with .xml (RSS) or .atom (Atom).")
    return slug, EXTENSIONS[extension]


def _cache_control(max_age: int, *, private: bool) -> str:
    return f"{'private' if private else 'public'}, max-age={max_age}"


def _rendered(view: FeedView, fmt: FeedFormat, max_age: int, *, private: bool) -> Rendered:
    """The feed's XML and its gzip copy, in one pass: CPU only, so the routes run it off the event loop."""
    if fmt == "rss":
        body, gzipped = render_rss_gzip(view.channel)
    else:
        body = render_atom(view.channel)
        gzipped = compressed(body)
    return Rendered(
        body, view.etag(fmt), MEDIA_TYPES[fmt], view.channel.updated, expires=view.expires,
        cache_control=_cache_control(max_age, private=private), gzipped=gzipped, cors=not private,
    )  # fmt: skip


def _early(request: Request[Any, Any, Any], fmt: FeedFormat, max_age: int, *, private: bool) -> Early[FeedView]:
    """304 before any XML is built when the client has this version."""
    cache_control = _cache_control(max_age, private=private)

    def early(view: FeedView) -> Response[Any] | None:
        validators = Validators(view.etag(fmt), view.channel.updated, cache_control, True, cors=not private)
        return early_answer(request, validators)

    return early


def _calendar_rendered(view: CalendarView, max_age: int) -> Rendered:
    return Rendered(
        view.body, view.etag, CALENDAR_MEDIA_TYPE, view.updated, cache_control=_cache_control(max_age, private=False),
        gzipped=compressed(view.body), cors=True,
    )  # fmt: skip


async def _calendar(
    request: Request[Any, Any, Any], state: State, load: Callable[[], Awaitable[CalendarView]]
) -> Response[Any]:
    """A public calendar: kept by the edge like a feed (a change of the catalog clears it), 304 when unchanged."""
    max_age: int = state.settings.feed_max_age_seconds
    cache_control = _cache_control(max_age, private=False)

    def early(view: CalendarView) -> Response[Any] | None:
        return early_answer(request, Validators(view.etag, view.updated, cache_control, True, cors=True))

    return await cached_document(
        request, state.edge.answers, load, functools.partial(_calendar_rendered, max_age=max_age), early=early
    )


async def _public(
    request: Request[Any, Any, Any], state: State, load: Callable[[], Awaitable[FeedView]], fmt: FeedFormat
) -> Response[Any]:
    """A public feed: from the edge's store, else loaded and rendered once for all concurrent misses, then kept."""
    max_age: int = state.settings.feed_max_age_seconds
    return await cached_document(
        request, state.edge.answers, load, functools.partial(_rendered, fmt=fmt, max_age=max_age, private=False),
        early=_early(request, fmt, max_age, private=False),
    )  # fmt: skip


FEED_OPTIONS: dict[str, Any] = {
    "http_method": [HttpMethod.GET, HttpMethod.HEAD],
    "tags": ["feeds"],
    "exclude_from_auth": True,
    "dependencies": {"feeds": Provide(provide_feed_service, sync_to_thread=False)},
    "responses": {
        200: ResponseSpec(str, media_type="application/rss+xml", description="The feed (HEAD: its headers)",
                          generate_examples=False),
        304: no_content("Not modified: the client's copy is current"),
    },
    "opt": {
        EDGE_QUERY: {"page": as_int},  # a feed reads its page alone: ``?v=2`` is the same feed, the same entry
        "problems": [404, 412, 503],
        "request_headers": CONDITIONAL_HEADERS,
        "media_types": {200: tuple(t.split(";")[0] for t in MEDIA_TYPES.values())},  # .xml: RSS, .atom: Atom
    },
    "include_in_schema": True,
}  # fmt: skip


# A series also answers ``.ics``: its sessions as a calendar.
SERIES_FEED_OPTIONS: dict[str, Any] = {
    **FEED_OPTIONS,
    "opt": FEED_OPTIONS["opt"]
    | {"media_types": {200: (*FEED_OPTIONS["opt"]["media_types"][200], CALENDAR_MEDIA_TYPE.split(";")[0])}},
}

PRIVATE_FEED_OPTIONS: dict[str, Any] = {
    **FEED_OPTIONS,
    "opt": {key: value for key, value in FEED_OPTIONS["opt"].items() if key != EDGE_QUERY}  # never kept
    | {"problems": [404, 410, 412, 503]},
}


@route(
    "/feeds/webinars/{filename:str}",
    operation_id=lambda _h, method, _p: f"{method.title()}WebinarSeriesFeed", **SERIES_FEED_OPTIONS,
)  # fmt: skip
async def series_feed(
    request: Request[Any, Any, Any],
    filename: FromPath[str],
    feeds: NamedDependency[FeedService],
    state: State,
    page: Page = 1,
) -> Response[Any]:
    """The podcast feed of a webinar series: ``{slug}.xml`` (RSS 2.0, iTunes + Podcasting 2.0) or ``{slug}.atom``;
    ``{slug}.ics``: its sessions as a calendar to subscribe to (RFC 5545; ``webcal://`` on the pages)."""
    if filename.endswith(".ics") and (slug := filename.removesuffix(".ics")):
        return await _calendar(request, state, lambda: feeds.series_calendar(slug, utcnow()))
    slug, fmt = _split(filename)
    return await _public(request, state, lambda: feeds.series_feed(slug, utcnow(), page), fmt)


@route(
    "/feeds/modules/{filename:str}",
    operation_id=lambda _h, method, _p: f"{method.title()}ModuleFeed", **FEED_OPTIONS,
)  # fmt: skip
async def module_feed(
    request: Request[Any, Any, Any],
    filename: FromPath[str],
    feeds: NamedDependency[FeedService],
    state: State,
    page: Page = 1,
) -> Response[Any]:
    """The podcast feed of a MOOC module: ``{slug}.xml`` (RSS 2.0) or ``{slug}.atom``."""
    slug, fmt = _split(filename)
    return await _public(request, state, lambda: feeds.module_feed(slug, utcnow(), page), fmt)


@route(
    ["/feeds/webinars/{filename:str}", "/feeds/modules/{filename:str}"],
    http_method=[HttpMethod.OPTIONS], exclude_from_auth=True, include_in_schema=False,
)  # fmt: skip
async def feed_preflight() -> Response[Any]:
    """What browser players on other origins may ask of a public feed (RSS or Atom); private feeds have none."""
    return respond(preflight())


@route(
    "/feeds/private/{token:str}/modules/{filename:str}",
    operation_id=lambda _h, method, _p: f"{method.title()}PrivateModuleFeed", **PRIVATE_FEED_OPTIONS,
)  # fmt: skip
async def private_module_feed(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    filename: FromPath[str],
    feeds: NamedDependency[FeedService],
    state: State,
    page: Page = 1,
) -> Response[Any]:
    """A learner's private feed of a module they are enrolled in (the token is the credential); 410 for a
    revoked or replaced token or one of a deleted account (apps stop asking), 404 for an unknown one or a module
    they are not enrolled in."""
    slug, fmt = _split(filename)
    max_age: int = state.settings.feed_max_age_seconds
    return await private_document(
        request, state.edge.answers, lambda: feeds.private_module_feed(token, slug, utcnow(), page),
        functools.partial(_rendered, fmt=fmt, max_age=max_age, private=True),
        early=_early(request, fmt, max_age, private=True),
    )  # fmt: skip


@route(
    "/feeds/private/{token:str}/media/{asset_id:uuid}/{filename:str}",
    operation_id=lambda _h, method, _p: f"{method.title()}PrivateMedia",
    http_method=[HttpMethod.GET, HttpMethod.HEAD], tags=["feeds"], exclude_from_auth=True,
    dependencies={
        "feeds": Provide(provide_feed_service, sync_to_thread=False),
        "delivery": Provide(provide_media_delivery, sync_to_thread=False),
    },
    responses=MEDIA_RESPONSES,
    opt={"problems": [404, 410, 412, 416, 503], "request_headers": MEDIA_REQUEST_HEADERS},
)  # fmt: skip
async def private_media(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    asset_id: FromPath[uuid.UUID],
    filename: FromPath[str],
    feeds: NamedDependency[FeedService],
    delivery: NamedDependency[MediaDelivery],
    state: State,
) -> Response[Any]:
    """A private feed's media file, for apps that cannot send credentials: ranges, conditionals, HEAD; kept by
    no shared cache. 410 for a revoked or replaced token or one of a deleted account."""
    asset = await feeds.private_asset(token, asset_id)
    return respond_with_media(request, state, await delivery.find(asset.id, filename), private=True)


class PrivateFeedRead(msgspec.Struct):
    module: str  # the module's slug
    title: str
    url: str


class FeedTokenRead(msgspec.Struct):
    hint: str
    created_at: str
    token: str | None = None  # only in the answer that issues it
    feeds: list[str] = msgspec.field(default_factory=list)  # with the token: your private feed URLs
    # The same feeds with the module each one is for (same order as ``feeds``).
    modules: list[PrivateFeedRead] = msgspec.field(default_factory=list)


class FeedTokenController(Controller):
    path = "/api/v1/me/feed-token"
    tags = ["feeds"]
    guards = [requires_json_body]
    dependencies = {"feeds": Provide(provide_feed_service, sync_to_thread=False)}

    @post("/", operation_id="IssueFeedToken", status_code=HTTP_201_CREATED)
    async def issue(
        self, request: Request[CurrentUser, Any, Any], feeds: NamedDependency[FeedService]
    ) -> FeedTokenRead:
        """A new private-feed token (shown once) and your private feed URLs; any previous token stops working."""
        token, row = await feeds.issue_token(request.user.id, utcnow())
        found = await feeds.private_feeds(request.user.id, token)
        return FeedTokenRead(
            hint=row.hint, created_at=row.created_at.isoformat(), token=token, feeds=[feed.url for feed in found],
            modules=[PrivateFeedRead(module=feed.module, title=feed.title, url=feed.url) for feed in found],
        )  # fmt: skip

    @get("/", operation_id="GetFeedToken", opt={"problems": [404]})
    async def current(
        self, request: Request[CurrentUser, Any, Any], feeds: NamedDependency[FeedService]
    ) -> FeedTokenRead:
        """Your current private-feed token: its first characters and creation date (never the token itself)."""
        row = await feeds.current_token(request.user.id)
        if row is None:
            raise FeedNotFound("You have no private-feed token.")
        return FeedTokenRead(hint=row.hint, created_at=row.created_at.isoformat())

    @delete("/", operation_id="RevokeFeedToken")
    async def revoke(self, request: Request[CurrentUser, Any, Any], feeds: NamedDependency[FeedService]) -> None:
        """Revoke your private-feed token: its feeds and media answer 410 Gone from now on."""
        await feeds.revoke_tokens(request.user.id, utcnow())
